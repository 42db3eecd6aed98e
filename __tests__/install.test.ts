// The CLI installer through the real @actions/tool-cache against a loopback mirror of dl.dagger.io.

import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
// expect from @jest/globals: its asymmetric matchers are typed, the global ones return any.
import { expect } from '@jest/globals'
import * as tc from '@actions/tool-cache'
import { enforceDaggerVersion } from '../src/inputs/dagger-json.js'
import { InputError } from '../src/inputs/parse.js'
import {
  DEFAULT_BASE_URL,
  exportCli,
  installDaggerCli,
  parseBaseUrl,
  parseDaggerVersion,
  SDK_CLI_VERSION
} from '../src/dagger-cli/install.js'
import {
  fakeVersionLine,
  startDownloadServer,
  writeFakeReleases,
  type DownloadServer
} from './support/download-server.js'

const run = promisify(execFile)

const LATEST = '0.22.0'
const PRERELEASE = '0.22.0-rc.1'
// The installer only knows the release names of x64 and arm64; the fake CLI is a shell script either way.
const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64'
const PLATFORM = `linux_${ARCH === 'x64' ? 'amd64' : 'arm64'}`
const archivePath = (version: string, platform = PLATFORM): string =>
  `/dagger/releases/${version}/dagger_v${version}_${platform}.tar.gz`
const checksumsPath = (version: string): string => `/dagger/releases/${version}/checksums.txt`
const get = (p: string) => ({ method: 'GET', path: p })

const savedEnv = { ...process.env }
let work: string
let server: DownloadServer
let baseUrl: string
let toolCache: string
let runnerTemp: string

const install = (version: string, arch = ARCH) => installDaggerCli({ version, baseUrl, platform: 'linux', arch })

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'install-test-'))
  await writeFakeReleases(path.join(work, 'mirror', 'dagger'), {
    versions: [SDK_CLI_VERSION, PRERELEASE, LATEST],
    latest: LATEST,
    platforms: ['linux_amd64', 'linux_arm64', 'windows_amd64']
  })
  server = await startDownloadServer(path.join(work, 'mirror'))
  // A base URL with a path, like the real https://dl.dagger.io/dagger.
  baseUrl = parseBaseUrl(`${server.url}/dagger/`)
})

let testNumber = 0
beforeEach(() => {
  server.reset()
  // @actions/tool-cache reads both on every call, so each test gets a cold runner.
  const runner = path.join(work, `runner-${++testNumber}`)
  toolCache = path.join(runner, 'tool-cache')
  runnerTemp = path.join(runner, 'temp')
  process.env.RUNNER_TOOL_CACHE = toolCache
  process.env.RUNNER_TEMP = runnerTemp
})

afterAll(async () => {
  await server?.close()
  await rm(work, { recursive: true, force: true })
  process.env = savedEnv
})

async function daggerVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['version'])
  return stdout.trim()
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [])
}

test('a tool-cache miss downloads checksums.txt and the archive, verifies and caches the CLI', async () => {
  const cli = await install(parseDaggerVersion(''))

  expect(cli).toEqual({
    version: SDK_CLI_VERSION,
    path: path.join(toolCache, 'dagger', SDK_CLI_VERSION, ARCH, 'dagger'),
    toolCacheHit: false
  })
  expect(server.requests).toEqual([get(checksumsPath(SDK_CLI_VERSION)), get(archivePath(SDK_CLI_VERSION))])
  expect(await daggerVersion(cli.path)).toBe(fakeVersionLine(SDK_CLI_VERSION, PLATFORM))
  expect((await listDir(path.dirname(cli.path))).sort()).toEqual(['LICENSE', 'dagger'])
  // The downloads and the extraction folder are scratch: nothing is left in RUNNER_TEMP.
  expect(await listDir(runnerTemp)).toEqual([])
})

test('a second install of the same version is a tool-cache hit with zero requests', async () => {
  const first = await install(SDK_CLI_VERSION)
  server.reset()

  const second = await install(SDK_CLI_VERSION)

  expect(server.requests).toEqual([])
  expect(second).toEqual({ ...first, toolCacheHit: true })
  expect(await daggerVersion(second.path)).toBe(fakeVersionLine(SDK_CLI_VERSION, PLATFORM))
})

test('latest makes exactly one version lookup, also on a tool-cache hit; a pinned version makes none', async () => {
  const latest = await install('latest')
  expect(latest.version).toBe(LATEST)
  expect(server.requests).toEqual([
    get('/dagger/versions/latest'),
    get(checksumsPath(LATEST)),
    get(archivePath(LATEST))
  ])
  expect(await daggerVersion(latest.path)).toBe(fakeVersionLine(LATEST, PLATFORM))

  server.reset()
  const again = await install('latest')
  expect(again).toEqual({ ...latest, toolCacheHit: true })
  expect(server.requests).toEqual([get('/dagger/versions/latest')])

  server.reset()
  const pinned = await install(LATEST)
  expect(pinned).toEqual(again)
  expect(server.requests).toEqual([])
})

test('latest is judged once resolved, before the tool cache or any archive: dagger.json refuses another line', async () => {
  const refused = installDaggerCli({
    version: 'latest',
    baseUrl,
    platform: 'linux',
    arch: ARCH,
    checkVersion: version =>
      enforceDaggerVersion(version, {
        from: 'dagger.json',
        pin: { file: 'ci/dagger.json', raw: 'latest' },
        sdkStages: true
      })
  })
  await expect(refused).rejects.toThrow(
    `ci/dagger.json: field 'engineVersion' has an invalid value 'latest': the action's stages run through the bundled Dagger SDK ${SDK_CLI_VERSION}`
  )
  expect(server.requests).toEqual([get('/dagger/versions/latest')])
  expect(await listDir(toolCache)).toEqual([])

  // From the input, the same version is a warning, and installs.
  const checked: string[] = []
  const cli = await installDaggerCli({
    version: 'latest',
    baseUrl,
    platform: 'linux',
    arch: ARCH,
    checkVersion: version => {
      checked.push(version)
      enforceDaggerVersion(version, { from: 'input', sdkStages: true })
    }
  })
  expect(checked).toEqual([LATEST])
  expect(cli.version).toBe(LATEST)
})

test('a pinned version is not judged again by the install: readConfig did that', async () => {
  const checked: string[] = []
  await installDaggerCli({
    version: LATEST,
    baseUrl,
    platform: 'linux',
    arch: ARCH,
    checkVersion: v => checked.push(v)
  })
  expect(checked).toEqual([])
})

test('a v prefix is dropped and a prerelease installs under its own version', async () => {
  const version = parseDaggerVersion(`v${PRERELEASE}`)
  expect(version).toBe(PRERELEASE)

  const cli = await install(version)

  expect(cli.path).toBe(path.join(toolCache, 'dagger', PRERELEASE, ARCH, 'dagger'))
  expect(server.requests).toEqual([get(checksumsPath(PRERELEASE)), get(archivePath(PRERELEASE))])
  expect(await daggerVersion(cli.path)).toBe(fakeVersionLine(PRERELEASE, PLATFORM))
})

test('the arch picks the release archive and the tool-cache entry', async () => {
  const other = ARCH === 'x64' ? { arch: 'arm64', platform: 'linux_arm64' } : { arch: 'x64', platform: 'linux_amd64' }

  const cli = await install(SDK_CLI_VERSION, other.arch)

  expect(server.requests.at(-1)).toEqual(get(archivePath(SDK_CLI_VERSION, other.platform)))
  expect(cli.path).toBe(path.join(toolCache, 'dagger', SDK_CLI_VERSION, other.arch, 'dagger'))
  expect(await daggerVersion(cli.path)).toBe(fakeVersionLine(SDK_CLI_VERSION, other.platform))
  expect(tc.find('dagger', SDK_CLI_VERSION, ARCH)).toBe('')
})

test('windows gets the zip archive and dagger.exe', async () => {
  const cli = await installDaggerCli({ version: SDK_CLI_VERSION, baseUrl, platform: 'win32', arch: 'x64' })

  const zipPath = `/dagger/releases/${SDK_CLI_VERSION}/dagger_v${SDK_CLI_VERSION}_windows_amd64.zip`
  expect(server.requests).toEqual([get(checksumsPath(SDK_CLI_VERSION)), get(zipPath)])
  expect(cli.path).toBe(path.join(toolCache, 'dagger', SDK_CLI_VERSION, 'x64', 'dagger.exe'))
  expect(await daggerVersion(cli.path)).toBe(fakeVersionLine(SDK_CLI_VERSION, 'windows_amd64'))
})

test('a checksum mismatch fails and leaves nothing in the tool cache', async () => {
  server.serveWrongChecksums()

  await expect(install(SDK_CLI_VERSION)).rejects.toThrow(
    `Checksum mismatch for ${baseUrl}/releases/${SDK_CLI_VERSION}/dagger_v${SDK_CLI_VERSION}_${PLATFORM}.tar.gz`
  )

  expect(server.requests).toEqual([get(checksumsPath(SDK_CLI_VERSION)), get(archivePath(SDK_CLI_VERSION))])
  expect(tc.find('dagger', SDK_CLI_VERSION, ARCH)).toBe('')
  expect(await listDir(toolCache)).toEqual([])
  expect(await listDir(runnerTemp)).toEqual([])
})

test('checksums.txt without a line for the archive fails before the archive is downloaded', async () => {
  const otherPlatformOnly = (await readFile(path.join(work, 'mirror', checksumsPath(SDK_CLI_VERSION)), 'utf8'))
    .split('\n')
    .filter(line => !line.endsWith(`_${PLATFORM}.tar.gz`))
    .join('\n')
  expect(otherPlatformOnly).toMatch(/^[0-9a-f]{64} {2}dagger_v/)
  server.respond(checksumsPath(SDK_CLI_VERSION), { status: 200, body: otherPlatformOnly })

  await expect(install(SDK_CLI_VERSION)).rejects.toThrow(
    `checksums.txt has no sha256 for dagger_v${SDK_CLI_VERSION}_${PLATFORM}.tar.gz`
  )

  expect(server.requests).toEqual([get(checksumsPath(SDK_CLI_VERSION))])
  expect(await listDir(toolCache)).toEqual([])
})

test.each([
  ['the archive', archivePath(SDK_CLI_VERSION), SDK_CLI_VERSION],
  ['checksums.txt', checksumsPath(SDK_CLI_VERSION), SDK_CLI_VERSION],
  ['the latest version', '/dagger/versions/latest', 'latest']
])('a 404 on %s fails at once, naming the URL and the status', async (_what, failing, version) => {
  server.respond(failing, { status: 404 })

  const error = (await install(version).catch((caught: unknown) => caught)) as Error
  expect(error.message).toBe(`Download of ${server.url}${failing} failed: HTTP 404`)
  // What tool-cache threw stays attached, for whoever needs more than the status.
  expect(error.cause).toBeInstanceOf(tc.HTTPError)
  expect((error.cause as tc.HTTPError).httpStatusCode).toBe(404)

  // tool-cache does not retry a 404; nothing after the failing request is asked for.
  expect(server.requests.filter(r => r.path === failing)).toHaveLength(1)
  expect(server.requests.at(-1)).toEqual(get(failing))
  expect(await listDir(toolCache)).toEqual([])
})

describe('failures tool-cache retries', () => {
  // @actions/tool-cache sleeps 10-20 s between its 3 attempts. It reads the bounds from these
  // globals (the hook its own tests use), so the retries run for real, without the wait.
  const retryBounds = ['TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS', 'TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS'] as const
  const globals = globalThis as Record<string, unknown>
  beforeAll(() => retryBounds.forEach(key => (globals[key] = 0)))
  afterAll(() => retryBounds.forEach(key => delete globals[key]))

  test('a 500 is retried by tool-cache, then fails naming the URL and the status', async () => {
    server.respond(archivePath(SDK_CLI_VERSION), { status: 500 })

    await expect(install(SDK_CLI_VERSION)).rejects.toThrow(
      `Download of ${server.url}${archivePath(SDK_CLI_VERSION)} failed: HTTP 500`
    )

    expect(server.requests).toEqual([
      get(checksumsPath(SDK_CLI_VERSION)),
      get(archivePath(SDK_CLI_VERSION)),
      get(archivePath(SDK_CLI_VERSION)),
      get(archivePath(SDK_CLI_VERSION))
    ])
    expect(await listDir(toolCache)).toEqual([])
  })

  // tool-cache retries any error that is not an HTTP status below 500, a refused connection too.
  test('a mirror that does not answer fails naming the URL and the system error, kept as the cause', async () => {
    const closed = await startDownloadServer(work)
    await closed.close()
    const unreachable = installDaggerCli({
      version: SDK_CLI_VERSION,
      baseUrl: parseBaseUrl(`${closed.url}/dagger/`),
      platform: 'linux',
      arch: ARCH
    })

    const error = (await unreachable.catch((caught: unknown) => caught)) as Error
    expect(error.message).toMatch(
      new RegExp(`^Download of ${closed.url}${checksumsPath(SDK_CLI_VERSION)} failed: .*ECONNREFUSED`)
    )
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' })
    expect(await listDir(toolCache)).toEqual([])
  })

  test('a 500 that clears before the last attempt installs the CLI', async () => {
    server.respond('/dagger/versions/latest', { status: 500, times: 1 })
    server.respond(checksumsPath(LATEST), { status: 503, times: 1 })

    const cli = await install('latest')

    expect(cli.version).toBe(LATEST)
    expect(server.requests).toEqual([
      get('/dagger/versions/latest'),
      get('/dagger/versions/latest'),
      get(checksumsPath(LATEST)),
      get(checksumsPath(LATEST)),
      get(archivePath(LATEST))
    ])
    expect(await daggerVersion(cli.path)).toBe(fakeVersionLine(LATEST, PLATFORM))
  })
})

test('an unknown answer to the latest lookup fails without downloading anything else', async () => {
  server.respond('/dagger/versions/latest', { status: 200, body: '<html>mirror login</html>' })

  await expect(install('latest')).rejects.toThrow(
    `${baseUrl}/versions/latest answered '<html>mirror login</html>', not a version`
  )
  expect(server.requests).toEqual([get('/dagger/versions/latest')])
})

test('an OS or arch without a release fails before any request', async () => {
  await expect(installDaggerCli({ version: 'latest', baseUrl, platform: 'linux', arch: 'ia32' })).rejects.toThrow(
    'not linux/ia32'
  )
  await expect(installDaggerCli({ version: SDK_CLI_VERSION, baseUrl, platform: 'aix', arch: 'x64' })).rejects.toThrow(
    'not aix/x64'
  )
  expect(server.requests).toEqual([])
})

test.each([
  ['', SDK_CLI_VERSION],
  ['latest', 'latest'],
  [' latest ', 'latest'],
  ['0.21.8', '0.21.8'],
  ['v0.21.8', '0.21.8'],
  ['0.0.0', '0.0.0'],
  ['10.20.30', '10.20.30'],
  ['v0.22.0-rc.1', '0.22.0-rc.1'],
  ['0.22.0-beta-2.x', '0.22.0-beta-2.x']
])('dagger-version %j is %j', (raw, expected) => {
  expect(parseDaggerVersion(raw)).toBe(expected)
})

test.each([
  '0.21',
  'v0.21',
  '0.21.8.1',
  'vv0.21.8',
  'V0.21.8',
  'Latest',
  'stable',
  'main',
  '0.21.x',
  '^0.21.8',
  '>=0.21.0',
  '01.21.8',
  '0.21.8-',
  '0.21.8+build.1',
  '0.21.8 0.21.9',
  '../0.21.8',
  '0.21.8/../../x'
])('dagger-version %j fails naming the input, before any request', raw => {
  const attempt = () => installDaggerCli({ version: parseDaggerVersion(raw), baseUrl })
  expect(attempt).toThrow(InputError)
  expect(attempt).toThrow(`Input 'dagger-version' has an invalid value '${raw.trim()}': expected X.Y.Z`)
  expect(server.requests).toEqual([])
})

test.each([
  ['', DEFAULT_BASE_URL],
  ['https://dl.dagger.io/dagger', DEFAULT_BASE_URL],
  ['https://dl.dagger.io/dagger/', DEFAULT_BASE_URL],
  ['http://mirror.internal:8080/tools/dagger//', 'http://mirror.internal:8080/tools/dagger'],
  ['https://mirror.example', 'https://mirror.example']
])('dagger-base-url %j is %j', (raw, expected) => {
  expect(parseBaseUrl(raw)).toBe(expected)
})

test.each([
  'dl.dagger.io/dagger',
  'ftp://mirror/dagger',
  'file:///srv/dagger',
  'https://m/dagger?x=1',
  'https://m/d#x',
  'https://m/d?',
  'http://'
])('dagger-base-url %j fails naming the input', raw => {
  expect(() => parseBaseUrl(raw)).toThrow(InputError)
  expect(() => parseBaseUrl(raw)).toThrow(`Input 'dagger-base-url' has an invalid value '${raw}'`)
})

test.each([
  ['https://ci:hunter2-secret@mirror.example/dagger', 'hunter2-secret'],
  ['https://ghp_hunter2token@mirror.example/dagger', 'ghp_hunter2token']
])('credentials in dagger-base-url are refused without being echoed: %s', (raw, secret) => {
  const attempt = () => parseBaseUrl(raw)
  expect(attempt).toThrow(InputError)
  expect(attempt).toThrow("invalid value 'https://***@mirror.example/dagger': expected a URL without credentials")
  expect(attempt).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }))
})

test('SDK_CLI_VERSION is the CLI version the bundled @dagger.io/dagger pins', async () => {
  // The SDK's own generated constant, read without importing the SDK (which loads the TypeScript compiler).
  const pinned = path.join(process.cwd(), 'node_modules/@dagger.io/dagger/dist/src/provisioning/default.js')
  const { CLI_VERSION } = (await import(pathToFileURL(pinned).href)) as { CLI_VERSION: string }
  expect(CLI_VERSION).toMatch(/^\d+\.\d+\.\d+/)
  expect(SDK_CLI_VERSION).toBe(CLI_VERSION)
})

test('exportCli puts the CLI on PATH, hands it to the SDK and sets the outputs', async () => {
  const cli = await install(SDK_CLI_VERSION)
  const commandFiles = { GITHUB_PATH: 'path', GITHUB_ENV: 'env', GITHUB_OUTPUT: 'output' }
  for (const [name, file] of Object.entries(commandFiles)) {
    process.env[name] = path.join(runnerTemp, file)
    await writeFile(process.env[name], '')
  }
  const pathBefore = process.env.PATH
  try {
    exportCli(cli)

    const read = (file: string) => readFile(path.join(runnerTemp, file), 'utf8')
    expect(await read('path')).toBe(`${path.dirname(cli.path)}\n`)
    expect(await read('env')).toMatch(new RegExp(`^_EXPERIMENTAL_DAGGER_CLI_BIN<<(\\S+)\\n${cli.path}\\n\\1\\n$`))
    const outputs = await read('output')
    expect(outputs).toMatch(new RegExp(`^dagger-version<<(\\S+)\\n${SDK_CLI_VERSION}\\n\\1\\n`, 'm'))
    expect(outputs).toMatch(new RegExp(`^dagger-path<<(\\S+)\\n${cli.path}\\n\\1\\n`, 'm'))
    // The same process sees both at once: the SDK reads the variable, `dagger` resolves on PATH.
    expect(process.env._EXPERIMENTAL_DAGGER_CLI_BIN).toBe(cli.path)
    // Jest gives tests their own process.env; pass it so the child sees the PATH that core.addPath set.
    const { stdout } = await run('dagger', ['version'], { env: process.env })
    expect(stdout.trim()).toBe(fakeVersionLine(SDK_CLI_VERSION, PLATFORM))
  } finally {
    process.env.PATH = pathBefore
    delete process.env._EXPERIMENTAL_DAGGER_CLI_BIN
    for (const name of Object.keys(commandFiles)) delete process.env[name]
  }
})
