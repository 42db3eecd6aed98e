import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import {
  DEFAULT_STATE_HELPER_IMAGE,
  readActionInputs,
  readConfig,
  RUNNER_HOST_SCHEMES,
  SECRET_INPUTS
} from '../src/inputs/action-config.js'
import { DEFAULT_BASE_URL, SDK_CLI_VERSION } from '../src/dagger-cli/install.js'
import { InputError, type InputReader } from '../src/inputs/parse.js'
import { stdoutOf } from './support/stdout.js'

const HELLO = path.resolve('examples/hello')

function reader(inputs: Record<string, string>): InputReader {
  return name => (inputs[name] ?? '').trim()
}

describe('readActionInputs', () => {
  test('with no inputs gives the documented defaults', () => {
    expect(readActionInputs(reader({}))).toEqual({
      dagger: { version: SDK_CLI_VERSION, baseUrl: DEFAULT_BASE_URL },
      engine: { stopTimeoutSeconds: 300, helperImage: DEFAULT_STATE_HELPER_IMAGE },
      cache: { enabled: true, save: 'auto', keyScope: '', maxSizeBytes: 5e9 }
    })
  })

  test.each([
    ['auto', 'auto'],
    ['Auto', 'auto'],
    ['true', true],
    ['TRUE', true],
    ['false', false]
  ] as const)('cache-save %s means %s', (raw, save) => {
    expect(readActionInputs(reader({ 'cache-save': raw })).cache.save).toBe(save)
  })

  test('a bad cache-save names the input, the value and the three allowed values', () => {
    expect(() => readActionInputs(reader({ 'cache-save': 'yes' }))).toThrow(
      new InputError('cache-save', 'yes', 'expected auto (save only from trusted runs), true (always) or false (never)')
    )
  })

  test('parses every input it owns', () => {
    const config = readActionInputs(
      reader({
        'dagger-version': 'v0.22.1',
        'dagger-base-url': 'http://127.0.0.1:8080/mirror/',
        'engine-image': 'registry.example:5000/dagger/engine:v0.22.1',
        'state-helper-image': 'busybox@sha256:' + 'a'.repeat(64),
        'engine-stop-timeout': '60',
        cache: 'true',
        'cache-save': 'False',
        'cache-key': 'linux/arm64+lint',
        'cache-max-size': '2GiB'
      })
    )
    expect(config).toEqual({
      dagger: { version: '0.22.1', baseUrl: 'http://127.0.0.1:8080/mirror' },
      engine: {
        image: 'registry.example:5000/dagger/engine:v0.22.1',
        stopTimeoutSeconds: 60,
        helperImage: 'busybox@sha256:' + 'a'.repeat(64)
      },
      cache: { enabled: true, save: false, keyScope: 'linux/arm64+lint', maxSizeBytes: 2 * 2 ** 30 }
    })
  })

  test('engine-config is parsed, checked against the engine schema and kept for engine.json', () => {
    const mirrors = {
      registries: { 'docker.io': { mirrors: ['mirror.corp:5000'] }, 'mirror.corp:5000': { http: true } },
      logLevel: 'info'
    }
    expect(readActionInputs(reader({ 'engine-config': JSON.stringify(mirrors) })).engine.config).toEqual(mirrors)
    // Other gc fields are the user's; the limit is cache-max-size's.
    const sweep = { gc: { sweepSize: '25%', minFreeSpace: '10GB' } }
    expect(readActionInputs(reader({ 'engine-config': JSON.stringify(sweep) })).engine.config).toEqual(sweep)
  })

  test.each([
    ['not JSON', '{registries:', /it is not JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['a field the engine does not know', '{"registry":{}}', /unknown field 'registry'/],
    ['a bad log level', '{"logLevel":"loud"}', /\/logLevel: must be equal to one of the allowed values/],
    [
      'a bad mirror list',
      '{"registries":{"docker.io":{"mirrors":"m:5000"}}}',
      /\/registries\/docker.io\/mirrors: must be array/
    ],
    [
      'the GC limit',
      '{"gc":{"maxUsedSpace":"50GB"}}',
      /leave out gc.maxUsedSpace: the action sets the GC limit from cache-max-size/
    ],
    ['GC switched off', '{"gc":{"enabled":false,"reservedSpace":1}}', /leave out gc.enabled, gc.reservedSpace/]
  ])('engine-config refuses %s, naming the input and the value', (_, value, allowed) => {
    const error = (() => {
      try {
        readActionInputs(reader({ 'engine-config': value }))
      } catch (e) {
        return e
      }
    })() as InputError
    expect(error).toBeInstanceOf(InputError)
    expect(error.input).toBe('engine-config')
    expect(error.value).toBe(value)
    expect(error.allowed).toMatch(allowed)
  })

  test('engine-config with runner-host is refused: no engine is started to take it', () => {
    expect(() => readActionInputs(reader({ 'engine-config': '{}', 'runner-host': 'tcp://10.0.0.5:1234' }))).toThrow(
      /Input 'engine-config' has an invalid value '\{\}': leave it empty when runner-host is set/
    )
  })

  test.each(RUNNER_HOST_SCHEMES.map(scheme => [scheme]))('runner-host accepts %s://', scheme => {
    const host = `${scheme}://engine-1`
    const config = readActionInputs(reader({ 'runner-host': host }))
    expect(config.engine.runnerHost).toBe(host)
    // An engine the action did not start has no state of ours to restore or save.
    expect(config.cache.enabled).toBe(false)
  })

  test('cache false disables the state cache', () => {
    expect(readActionInputs(reader({ cache: 'false' })).cache.enabled).toBe(false)
  })

  test('latest stays latest (resolved by the installer, with one request)', () => {
    expect(readActionInputs(reader({ 'dagger-version': 'latest' })).dagger.version).toBe('latest')
  })

  const badInputs: Array<[string, Record<string, string>]> = [
    ['dagger-version', { 'dagger-version': '0.21' }],
    ['dagger-version', { 'dagger-version': 'v0.21.8.1' }],
    ['dagger-version', { 'dagger-version': 'newest' }],
    ['dagger-version', { 'dagger-version': '^0.21.8' }],
    ['dagger-base-url', { 'dagger-base-url': 'ftp://mirror.example/dagger' }],
    ['dagger-base-url', { 'dagger-base-url': 'not a url' }],
    ['engine-image', { 'engine-image': 'Registry.Dagger.io/Engine:v0.21.8' }],
    ['engine-image', { 'engine-image': 'registry.dagger.io/engine:' }],
    ['engine-image', { 'engine-image': 'engine image' }],
    ['engine-image', { 'engine-image': 'registry.dagger.io/engine', 'runner-host': 'tcp://127.0.0.1:1234' }],
    ['state-helper-image', { 'state-helper-image': 'debian:bookworm slim' }],
    ['runner-host', { 'runner-host': 'http://127.0.0.1:1234' }],
    ['runner-host', { 'runner-host': 'tcp://' }],
    ['runner-host', { 'runner-host': 'dagger-engine' }],
    ['runner-host', { 'runner-host': 'container:/dagger-engine' }],
    ['engine-stop-timeout', { 'engine-stop-timeout': '-5' }],
    ['engine-stop-timeout', { 'engine-stop-timeout': '0' }],
    ['engine-stop-timeout', { 'engine-stop-timeout': '3601' }],
    ['engine-stop-timeout', { 'engine-stop-timeout': '30s' }],
    ['cache', { cache: 'yes' }],
    ['cache', { cache: '1' }],
    ['cache-save', { 'cache-save': 'no' }],
    ['cache-save', { 'cache-save': 'always' }],
    ['cache-max-size', { 'cache-max-size': '5 gigabytes' }],
    ['cache-max-size', { 'cache-max-size': '5PB' }],
    ['cache-max-size', { 'cache-max-size': '-1GB' }],
    ['cache-max-size', { 'cache-max-size': '10MB' }],
    ['cache-key', { 'cache-key': 'build,lint' }],
    ['cache-key', { 'cache-key': 'my stage' }],
    ['cache-key', { 'cache-key': 'x'.repeat(101) }],
    ['cache-key', { 'cache-key': 'stage:build' }]
  ]

  test.each(badInputs)('rejects a bad %s: %j', (input, inputs) => {
    let caught: unknown
    try {
      readActionInputs(reader(inputs))
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InputError)
    const error = caught as InputError
    expect(error.input).toBe(input)
    expect(error.message).toContain(`'${input}'`)
    expect(error.allowed).not.toBe('')
  })
})

describe('readConfig', () => {
  const eventDir = mkdtempSync(path.join(tmpdir(), 'config-event-'))
  const eventFile = (name: string, text: string): string => {
    const file = path.join(eventDir, name)
    writeFileSync(file, text)
    return file
  }

  test('reads the event that triggered the run and its payload, for the cache-save policy', async () => {
    const payload = {
      action: 'opened',
      pull_request: { head: { repo: { full_name: 'forker/repo' } }, base: { repo: { full_name: 'octo/repo' } } }
    }
    const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventFile('pr.json', JSON.stringify(payload)) }
    const config = await readConfig(reader({}), { env, cwd: HELLO })
    expect(config.event).toEqual({ name: 'pull_request', payload })
  })

  test.each([
    ['unset', undefined, 'GITHUB_EVENT_PATH is not set'],
    [
      'missing',
      path.join(tmpdir(), 'no-such-dir-for-config-test', 'event.json'),
      /^\/.*event\.json could not be read \(ENOENT\)$/
    ],
    ['not JSON', 'not-json', /^\/.*not-json\.json is not JSON$/]
  ])('an event payload that is %s is reported, not thrown', async (_, file, unreadable) => {
    const eventPath = file === 'not-json' ? eventFile('not-json.json', '{"action": ') : file
    const config = await readConfig(reader({}), {
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventPath },
      cwd: HELLO
    })
    expect(config.event.name).toBe('push')
    expect(config.event.payload).toBeUndefined()
    expect(config.event.unreadable).toEqual(
      typeof unreadable === 'string' ? unreadable : expect.stringMatching(unreadable)
    )
  })

  test('no event name is an empty one', async () => {
    expect((await readConfig(reader({}), { env: {}, cwd: HELLO })).event).toEqual({
      name: '',
      unreadable: 'GITHUB_EVENT_PATH is not set'
    })
  })

  test('adds the pipeline inputs, read from the module at source', async () => {
    const config = await readConfig(reader({ stage: 'build,test', 'cache-key': 'unit' }), { env: {}, cwd: HELLO })
    expect(config.cache.keyScope).toBe('unit')
    expect(config.pipeline.stages).toEqual(['build', 'test'])
    expect(config.pipeline.source).toBe(HELLO)
    expect(config.pipeline.goVersion).toBe('1.23.4')
  })

  test('a bad pipeline input fails with an InputError naming it', async () => {
    await expect(readConfig(reader({ stage: 'deploy' }), { env: {}, cwd: HELLO })).rejects.toMatchObject({
      name: 'InputError',
      input: 'stage'
    })
  })

  test('masks every secret input before validating anything', async () => {
    const secrets = {
      'cloud-token': 'dag_cloud_s3cret',
      'registry-password': 'ghp_registry_s3cret',
      'go-private-token': 'tok_s3cret'
    }
    // dagger-version is bad, so parsing stops at the first input: the secrets are masked already.
    const output = await stdoutOf(() =>
      readConfig(reader({ ...secrets, 'dagger-version': 'bad' }), { env: {}, cwd: HELLO }).catch(() => undefined)
    )
    expect(SECRET_INPUTS.slice().sort()).toEqual(Object.keys(secrets).sort())
    for (const value of Object.values(secrets)) {
      expect(output).toContain(`::add-mask::${value}`)
    }
  })
})
