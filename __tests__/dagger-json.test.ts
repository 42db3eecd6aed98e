// The Dagger version from one source of truth: the dagger-version input, else the source's
// dagger.json engineVersion, else the bundled SDK's. Real files in a temp repository, the real
// readConfig, and the real main step against a loopback dl.dagger.io for "before any download".
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { run as mainStep } from '../src/action/main-step.js'
import { installDaggerCli, parseBaseUrl, SDK_CLI_VERSION } from '../src/dagger-cli/install.js'
import { readConfig } from '../src/inputs/action-config.js'
import {
  FileFieldError,
  judgeDaggerVersion,
  readDaggerJsonEngineVersion,
  releaseLine,
  type DaggerVersionChoice
} from '../src/inputs/dagger-json.js'
import { startDownloadServer, writeFakeReleases, type DownloadServer } from './support/download-server.js'
import { inputVariable } from './support/runner.js'
import { stdoutOf } from './support/stdout.js'

// Same line as the bundled SDK, another patch; and the line after it.
const SAME_LINE = '0.21.9'
const OTHER_LINE = '0.22.0'
const ALLOWED = `expected X.Y.Z, vX.Y.Z (e.g. 0.21.8) or latest, or no engineVersion for the bundled SDK's ${SDK_CLI_VERSION}`

let repo: string
let server: DownloadServer
let baseUrl: string
const savedEnv = { ...process.env }

beforeAll(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'dagger-json-'))
  await writeFakeReleases(path.join(repo, 'mirror', 'dagger'), {
    versions: [SDK_CLI_VERSION, SAME_LINE, OTHER_LINE],
    latest: OTHER_LINE,
    platforms: ['linux_amd64', 'linux_arm64']
  })
  server = await startDownloadServer(path.join(repo, 'mirror'))
  baseUrl = parseBaseUrl(`${server.url}/dagger`)
})

afterAll(async () => {
  await server?.close()
  await rm(repo, { recursive: true, force: true })
})

afterEach(() => {
  process.env = { ...savedEnv }
  server.reset()
})

let modules = 0
/** A Go module in the temp repository, with a dagger.json holding `daggerJson` (text as is, or JSON). */
async function goModule(daggerJson?: unknown, goMod = 'module example.com/svc\n\ngo 1.23.4\n'): Promise<string> {
  const name = `svc${++modules}`
  const dir = path.join(repo, name)
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'go.mod'), goMod)
  if (daggerJson !== undefined) {
    const text = typeof daggerJson === 'string' ? daggerJson : JSON.stringify(daggerJson)
    await writeFile(path.join(dir, 'dagger.json'), text)
  }
  return name
}

const configOf = (source: string, inputs: Record<string, string> = {}) =>
  readConfig(name => ({ source, stage: 'build', ...inputs })[name] ?? '', { env: {}, cwd: repo })

describe('reading dagger.json', () => {
  test.each([
    ['v0.21.8', '0.21.8'],
    [`v${SAME_LINE}`, SAME_LINE],
    [OTHER_LINE, OTHER_LINE],
    ['v0.22.0-rc.1', '0.22.0-rc.1'],
    ['latest', 'latest']
  ])('engineVersion %j is %j', async (raw, version) => {
    const source = await goModule({ name: 'ci', engineVersion: raw })
    expect(await readDaggerJsonEngineVersion(path.join(repo, source), `${source}/dagger.json`)).toEqual({
      file: `${source}/dagger.json`,
      raw,
      version
    })
  })

  test('no dagger.json, or one without engineVersion, pins nothing', async () => {
    expect(await readDaggerJsonEngineVersion(path.join(repo, await goModule()))).toBeUndefined()
    expect(await readDaggerJsonEngineVersion(path.join(repo, await goModule({ name: 'ci' })))).toBeUndefined()
  })

  test.each([
    ['0.21', '0.21'],
    ['v0.21.8.1', 'v0.21.8.1'],
    ['^0.21.8', '^0.21.8'],
    ['Latest', 'Latest'],
    ['', ''],
    [21, '21'],
    [null, 'null'],
    [['v0.21.8'], '["v0.21.8"]']
  ])('engineVersion %j fails naming the file, the field, the value and what is allowed', async (raw, shown) => {
    const source = await goModule({ name: 'ci', engineVersion: raw })
    const attempt = readDaggerJsonEngineVersion(path.join(repo, source), `${source}/dagger.json`)
    await expect(attempt).rejects.toThrow(FileFieldError)
    await expect(attempt).rejects.toThrow(
      `${source}/dagger.json: field 'engineVersion' has an invalid value '${shown}': ${ALLOWED}`
    )
  })

  test.each([
    ['{"name": "ci", ', /svc\d+\/dagger\.json is not JSON/],
    ['["v0.21.8"]', /svc\d+\/dagger\.json is not a JSON object/]
  ])('a dagger.json that is not a JSON object fails naming the file: %s', async (text, message) => {
    const source = await goModule(text)
    await expect(readDaggerJsonEngineVersion(path.join(repo, source), `${source}/dagger.json`)).rejects.toThrow(message)
  })
})

describe('the version judged against the bundled SDK', () => {
  const pin = { file: 'ci/dagger.json', raw: `v${OTHER_LINE}` }
  const choice = (from: DaggerVersionChoice['from'], sdkStages = true): DaggerVersionChoice =>
    from === 'dagger.json' ? { from, pin, sdkStages } : { from, sdkStages }

  test('the release line is X.Y, pre-release or not', () => {
    expect(releaseLine(SDK_CLI_VERSION)).toBe('0.21')
    expect(releaseLine('0.21.9-rc.1')).toBe('0.21')
    expect(releaseLine('1.2.3')).toBe('1.2')
  })

  test.each([
    [SDK_CLI_VERSION, 'sdk', true, 'quiet'],
    [SDK_CLI_VERSION, 'dagger.json', true, 'quiet'],
    [SAME_LINE, 'dagger.json', true, 'info'],
    [SAME_LINE, 'input', true, 'info'],
    [OTHER_LINE, 'input', true, 'warning'],
    ['0.20.3', 'input', true, 'warning'],
    [OTHER_LINE, 'dagger.json', true, 'refuse'],
    ['0.20.3', 'dagger.json', true, 'refuse'],
    // Stage none: the SDK never talks to the engine.
    [OTHER_LINE, 'dagger.json', false, 'info'],
    [OTHER_LINE, 'input', false, 'info']
  ] as const)('%s from %s, stages through the SDK %s: %s', (version, from, sdkStages, level) => {
    expect(judgeDaggerVersion(version, choice(from, sdkStages)).level).toBe(level)
  })

  test('a refusal names the file, the field, the value, why, and the two ways out', () => {
    expect(judgeDaggerVersion(OTHER_LINE, choice('dagger.json')).message).toBe(
      `ci/dagger.json: field 'engineVersion' has an invalid value 'v${OTHER_LINE}': the action's stages run through ` +
        `the bundled Dagger SDK ${SDK_CLI_VERSION}, which speaks the API of 0.21.x; an engine of 0.22 may reject or ` +
        'misread some of it. Expected a 0.21.x version here; or set the dagger-version input to run the stages on ' +
        `${OTHER_LINE} anyway (with a warning), or stage none to set up the engine for the module's own dagger commands`
    )
  })
})

describe('readConfig takes the version from one place', () => {
  test('dagger-version empty: dagger.json engineVersion is the version, and says so', async () => {
    const source = await goModule({ name: 'ci', engineVersion: `v${SAME_LINE}` })
    let cfg: Awaited<ReturnType<typeof configOf>> | undefined
    const log = await stdoutOf(async () => {
      cfg = await configOf(source)
    })
    expect(cfg!.dagger.version).toBe(SAME_LINE)
    expect(cfg!.versionSources.dagger).toEqual({
      from: 'dagger.json',
      pin: { file: `${source}/dagger.json`, raw: `v${SAME_LINE}` },
      sdkStages: true
    })
    expect(log).toContain(`Dagger ${SAME_LINE} from ${source}/dagger.json engineVersion: the same release line (0.21)`)
    expect(log).not.toContain('::warning::')
  })

  test('no dagger.json: the bundled SDK’s version', async () => {
    const cfg = await configOf(await goModule())
    expect(cfg.dagger.version).toBe(SDK_CLI_VERSION)
    expect(cfg.versionSources.dagger).toEqual({ from: 'sdk', sdkStages: true })
  })

  test('the input wins over dagger.json, and the log says so; another line from the input is a warning', async () => {
    const source = await goModule({ name: 'ci', engineVersion: `v${SAME_LINE}` })
    let cfg: Awaited<ReturnType<typeof configOf>> | undefined
    const log = await stdoutOf(async () => {
      cfg = await configOf(source, { 'dagger-version': OTHER_LINE })
    })
    expect(cfg!.dagger.version).toBe(OTHER_LINE)
    expect(cfg!.versionSources.dagger).toEqual({ from: 'input', sdkStages: true })
    expect(log).toContain(
      `The dagger-version input (${OTHER_LINE}) takes precedence over ${source}/dagger.json engineVersion v${SAME_LINE}`
    )
    expect(log).toMatch(new RegExp(`::warning::Dagger ${OTHER_LINE} from the dagger-version input: .*0\\.21\\.x`))
  })

  test('with the input set, a broken dagger.json is not the job’s to fail on', async () => {
    const source = await goModule({ name: 'ci', engineVersion: 'soon' })
    expect((await configOf(source, { 'dagger-version': SDK_CLI_VERSION })).dagger.version).toBe(SDK_CLI_VERSION)
  })

  test('dagger.json of another line: refused for the built-in stages, taken for stage none', async () => {
    const source = await goModule({ name: 'ci', engineVersion: `v${OTHER_LINE}` })
    await expect(configOf(source)).rejects.toThrow(
      `${source}/dagger.json: field 'engineVersion' has an invalid value 'v${OTHER_LINE}': the action's stages run through the bundled Dagger SDK`
    )
    let cfg: Awaited<ReturnType<typeof configOf>> | undefined
    const log = await stdoutOf(async () => {
      cfg = await configOf(source, { stage: 'none' })
    })
    expect(cfg!.dagger.version).toBe(OTHER_LINE)
    expect(cfg!.versionSources.dagger.sdkStages).toBe(false)
    expect(log).toContain('stage none runs none of the action')
    expect(log).not.toContain('::warning::')
  })

  test('where Go, golangci-lint and the scanner came from', async () => {
    const toolchain = await goModule(undefined, 'module example.com/svc\n\ngo 1.23\n\ntoolchain go1.23.4\n')
    expect((await configOf(toolchain)).versionSources).toMatchObject({
      goModLine: 'toolchain go1.23.4',
      golangciLint: 'default',
      scanner: 'default'
    })
    const goLine = await goModule(undefined, 'module example.com/svc\n\ngo 1.23\n')
    expect((await configOf(goLine)).versionSources.goModLine).toBe('go 1.23')
    const inputs = await configOf(goLine, {
      'go-version': '1.24.1',
      'golangci-lint-version': 'v2.5.0',
      scanner: 'grype'
    })
    expect(inputs.versionSources).toEqual({
      dagger: { from: 'sdk', sdkStages: true },
      golangciLint: 'input',
      scanner: 'input'
    })
  })
})

describe('before any download', () => {
  function mainStepEnv(source: string): void {
    const inputs = { source: path.join(repo, source), stage: 'build', 'dagger-base-url': baseUrl }
    for (const [name, value] of Object.entries(inputs)) process.env[inputVariable(name)] = value
    process.env.RUNNER_TOOL_CACHE = path.join(repo, `tool-cache-${source}`)
    process.env.RUNNER_TEMP = path.join(repo, `temp-${source}`)
  }

  test.each([
    ['a bad engineVersion', { name: 'ci', engineVersion: '0.21' }, "field 'engineVersion' has an invalid value '0.21'"],
    ['another line', { name: 'ci', engineVersion: `v${OTHER_LINE}` }, 'speaks the API of 0.21.x']
  ])('the main step fails on %s in dagger.json without a single request', async (_, daggerJson, message) => {
    const source = await goModule(daggerJson)
    mainStepEnv(source)
    await expect(mainStep()).rejects.toThrow(message)
    expect(server.requests).toEqual([])
  })

  test('the version dagger.json pins is the one installed', async () => {
    const source = await goModule({ name: 'ci', engineVersion: `v${SAME_LINE}` })
    mainStepEnv(source)
    const cfg = await configOf(source, { 'dagger-base-url': baseUrl })
    const cli = await installDaggerCli({ version: cfg.dagger.version, baseUrl: cfg.dagger.baseUrl, platform: 'linux' })
    expect(cli.version).toBe(SAME_LINE)
    expect(server.requests.map(r => r.path)).toEqual([
      `/dagger/releases/${SAME_LINE}/checksums.txt`,
      expect.stringMatching(new RegExp(`^/dagger/releases/${SAME_LINE}/dagger_v${SAME_LINE}_linux_`))
    ])
  })
})
