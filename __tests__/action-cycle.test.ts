// The committed bundle through whole jobs, as the runner executes it: main, then post, then a
// second job on a fresh runner. Every part is real on loopback: the CLI comes through
// @actions/tool-cache from a local mirror, the engine state through @actions/cache from a local
// cache service, the engine is a stand-in container on real Docker, and the pipeline's SDK talks
// to a loopback engine session that validates every query.
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { SDK_CLI_VERSION } from '../src/dagger-cli/install.js'
import { engineOf, engineStarts, expectOk, startActionWorld, type ActionWorld } from './support/action-world.js'
import { startCacheServer, type CacheServer } from './support/cache-server.js'
import {
  dockerWrapperEnv,
  inVolume,
  removeVolumes,
  STAND_IN_IGNORING_SIGTERM_IMAGE,
  STAND_IN_IMAGE,
  testScope,
  TOOLBOX_IMAGE
} from './support/docker.js'
import { repoRoot } from './support/runner.js'

const run = promisify(execFile)
const CLOUD_TOKEN = 'dag_cloud_token_7f3a9c1e5b'

let world: ActionWorld
let cacheServer: CacheServer

beforeAll(async () => {
  world = await startActionWorld('cycle')
})

afterAll(async () => {
  await world?.close()
})

afterEach(async () => {
  await cacheServer?.close()
})

const newJob = () => world.newJob()

function inputsFor(scope: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'dagger-base-url': `${world.mirror.url}/dagger`,
    'engine-image': STAND_IN_IMAGE,
    'state-helper-image': TOOLBOX_IMAGE,
    'cache-key': scope,
    'cloud-token': CLOUD_TOKEN,
    'engine-stop-timeout': '30',
    stage: 'build',
    source: 'examples/hello',
    platforms: 'linux/amd64',
    output: path.join(world.work, `bin-${scope}`),
    ...extra
  }
}

function envFor(runId: string): NodeJS.ProcessEnv {
  const env = dockerWrapperEnv({
    ...world.session.env,
    GITHUB_RUN_ID: runId,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKSPACE: repoRoot
  })
  for (const [name, value] of Object.entries(cacheServer.env)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

const removeVolume = (volume: string): Promise<void> => removeVolumes([volume])

describe.each(['v2', 'v1'] as const)('a job and its successor on a fresh runner (cache service %s)', protocol => {
  test('main starts a cold engine, post saves its state, the next job restores it', async () => {
    cacheServer = await startCacheServer({ protocol })
    const scope = testScope(`cycle-${protocol}`)

    const first = await newJob()
    const main1 = await first.run('main', inputsFor(scope), envFor('101'))
    expectOk(main1)
    expect(main1.outputs['cache-hit']).toBe('false')
    expect(main1.outputs['dagger-version']).toBe(SDK_CLI_VERSION)
    expect(main1.outputs['artifacts']).toBe(path.join(world.work, `bin-${scope}`))
    const name = engineOf(main1)
    expect(name).toContain(`${scope}-build`)
    expect(main1.exported._EXPERIMENTAL_DAGGER_CLI_BIN).toContain(first.toolCache)
    const { stdout: running } = await run('docker', ['inspect', '--format', '{{.State.Running}}', name])
    expect(running.trim()).toBe('true')

    const post1 = await first.run('post', inputsFor(scope), envFor('101'))
    expectOk(post1)
    expect(post1.stdout).toContain('The engine stopped cleanly')
    expect(post1.stdout).toMatch(/Saved the engine state as \S+-101-1/)
    expect(post1.summary).toContain('Engine cache saved')
    const saved = cacheServer.entries().map(entry => entry.key)
    expect(saved.some(key => key.endsWith('-101-1'))).toBe(true)

    // A fresh runner: the Docker daemon no longer holds the state.
    await removeVolume(name)
    const second = await newJob()
    const main2 = await second.run('main', inputsFor(scope), envFor('102'))
    expectOk(main2)
    expect(main2.outputs['cache-hit']).toBe('true')
    expect(Number(main2.outputs['cache-size'])).toBeGreaterThan(0)
    expect(await engineStarts(name)).toBe('2')
    expect(await inVolume(name, 'cat /var/lib/dagger/worker/snapshots/snapshots/1/fs/plain')).toBe('start 1\n')

    const post2 = await second.run('post', inputsFor(scope), envFor('102'))
    expectOk(post2)
    expect(post2.stdout).toMatch(
      /Saved the engine state as \S+-102-1: \d+ bytes in \d+ parts uploaded, [1-9]\d* reused/
    )

    // The cloud token is masked and never reaches a log, an output, a cache key or the cached state.
    for (const step of [main1, post1, main2, post2]) {
      // The runner drops `::add-mask::` commands from the log and hides the value everywhere else.
      const log = (step.stdout + step.stderr).replace(/^::add-mask::.*$/gm, '')
      expect(log).not.toContain(CLOUD_TOKEN)
      expect(JSON.stringify(step.outputs)).not.toContain(CLOUD_TOKEN)
    }
    expect(main1.stdout).toContain(`::add-mask::${CLOUD_TOKEN}`)
    expect(JSON.stringify(cacheServer.entries())).not.toContain(CLOUD_TOKEN)
    const restoredFiles = await readdir(second.runnerTemp, { recursive: true })
    for (const file of restoredFiles.map(String).filter(f => f.endsWith('.json'))) {
      expect(await readFile(path.join(second.runnerTemp, file), 'utf8')).not.toContain(CLOUD_TOKEN)
    }
    world.session.assertAllValid()
  })
})

describe('post step with a cache service', () => {
  beforeEach(async () => {
    cacheServer = await startCacheServer({ protocol: 'v2' })
  })

  test('an engine that must be killed after the stop timeout saves nothing', async () => {
    const scope = testScope('killed')
    const job = await newJob()
    const inputs = inputsFor(scope, { 'engine-image': STAND_IN_IGNORING_SIGTERM_IMAGE, 'engine-stop-timeout': '1' })
    expectOk(await job.run('main', inputs, envFor('201')))
    const post = await job.run('post', inputs, envFor('201'))
    expect(post.exitCode).toBe(0)
    expect(post.stdout).toMatch(
      /::warning::The engine did not shut down cleanly \(the engine did not exit within 1 s of SIGTERM/
    )
    expect(cacheServer.entries()).toEqual([])
  })

  test('a restored state the engine cannot start on is discarded for one cold start', async () => {
    const scope = testScope('corrupt')
    const first = await newJob()
    const main1 = await first.run('main', inputsFor(scope), envFor('301'))
    expectOk(main1)
    const name = engineOf(main1)
    // The state the engine leaves behind is one it will refuse on the next start.
    await inVolume(name, "sed -i '1s/.*/garbage/' /var/lib/dagger/dagql-cache.db")
    expectOk(await first.run('post', inputsFor(scope), envFor('301')))
    await removeVolume(name)

    const second = await newJob()
    const main = await second.run('main', inputsFor(scope), envFor('302'))
    expectOk(main)
    expect(main.stdout).toMatch(/::warning::The engine did not start on the restored state \(.*exited with code 3/s)
    expect(main.outputs['cache-hit']).toBe('false')
    expect(await engineStarts(name)).toBe('1')
    expectOk(await second.run('post', inputsFor(scope), envFor('302')))
  })

  test('cache: false starts and stops the engine but restores and saves nothing', async () => {
    const scope = testScope('nocache')
    const job = await newJob()
    const inputs = inputsFor(scope, { cache: 'false' })
    const main = await job.run('main', inputs, envFor('401'))
    expectOk(main)
    expect(main.outputs['cache-hit']).toBe('false')
    const post = await job.run('post', inputs, envFor('401'))
    expectOk(post)
    expect(post.stdout).toContain('The engine stopped cleanly')
    expect(cacheServer.stats.requests.lookup + cacheServer.stats.requests.reserve).toBe(0)
  })
  test('a Docker daemon that still holds the state (self-hosted runner) is used without a restore', async () => {
    const scope = testScope('selfhosted')
    const first = await newJob()
    const main1 = await first.run('main', inputsFor(scope), envFor('601'))
    expectOk(main1)
    expectOk(await first.run('post', inputsFor(scope), envFor('601')))
    const lookups = cacheServer.stats.requests.lookup

    const second = await newJob()
    const main2 = await second.run('main', inputsFor(scope), envFor('602'))
    expectOk(main2)
    expect(main2.stdout).toContain('is already on this Docker daemon: using it, nothing to restore')
    expect(cacheServer.stats.requests.lookup).toBe(lookups)
    expect(await engineStarts(engineOf(main1))).toBe('2')
    expectOk(await second.run('post', inputsFor(scope), envFor('602')))
  })

  test('cache-save: false restores but never saves', async () => {
    const scope = testScope('readonly')
    const job = await newJob()
    const inputs = inputsFor(scope, { 'cache-save': 'false' })
    expectOk(await job.run('main', inputs, envFor('701')))
    const post = await job.run('post', inputs, envFor('701'))
    expectOk(post)
    expect(post.stdout).toContain('cache-save is false')
    expect(cacheServer.stats.requests.reserve).toBe(0)
    expect(cacheServer.entries()).toEqual([])
  })

  test('runner-host: no local engine, no state cache, the pipeline goes to that engine', async () => {
    const job = await newJob()
    const inputs = inputsFor(testScope('remote'), { 'runner-host': 'tcp://127.0.0.1:1234', 'engine-image': '' })
    const main = await job.run('main', inputs, envFor('801'))
    expectOk(main)
    expect(main.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST).toBe('tcp://127.0.0.1:1234')
    expect(main.outputs['artifacts']).toBeDefined()
    const post = await job.run('post', inputs, envFor('801'))
    expectOk(post)
    expect(post.stdout).toContain('No engine was started by this action')
    expect(cacheServer.stats.requests.lookup + cacheServer.stats.requests.reserve).toBe(0)
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `name=${testScope('remote')}`])
    expect(stdout.trim()).toBe('')
  })
})
