// The action as `act` runs it: inside a job container that shares the host's Docker socket (so
// no host path of the action's is visible to the daemon), with act's built-in cache server, which
// speaks the v1 protocol (ACT=true, ACTIONS_CACHE_URL, no ACTIONS_RESULTS_URL). Two jobs in a
// row: the second, on a fresh Docker volume, restores what the first saved.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { engineOf, engineStarts, expectOk, startActionWorld, type ActionWorld } from './support/action-world.js'
import { startCacheServer, type CacheServer } from './support/cache-server.js'
import { removeVolumes, STAND_IN_IMAGE, testScope, TOOLBOX_IMAGE, WRAPPER_BIN_DIR } from './support/docker.js'
import { repoRoot } from './support/runner.js'

const run = promisify(execFile)
const ACT_RUNNER_IMAGE = 'go-dagger-action-test/act-runner:latest'

let world: ActionWorld
let cacheServer: CacheServer

beforeAll(async () => {
  world = await startActionWorld('act')
  // The job container runs the same Node.js as these tests.
  await run('bash', [path.join(repoRoot, '__tests__', 'support', 'images', 'build-act-runner.sh'), process.execPath])
  cacheServer = await startCacheServer({ protocol: 'v1' })
})

afterAll(async () => {
  await Promise.all([world?.close(), cacheServer?.close()])
})

function actEnv(runId: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${WRAPPER_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`,
    ACT: 'true',
    CI: 'true',
    GITHUB_RUN_ID: runId,
    // A push: the default cache-save (auto) saves on it.
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKSPACE: repoRoot,
    GITHUB_REPOSITORY: 'acme/hello',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    ...world.session.env
  }
  for (const [name, value] of Object.entries(cacheServer.env)) if (value !== undefined) env[name] = value
  return env
}

test('under act, in a job container sharing the Docker socket, the engine state round-trips through the v1 cache', async () => {
  expect(cacheServer.env.ACTIONS_RESULTS_URL).toBeUndefined()
  const scope = testScope('act')
  const inputs = {
    'dagger-base-url': `${world.mirror.url}/dagger`,
    'engine-image': STAND_IN_IMAGE,
    'state-helper-image': TOOLBOX_IMAGE,
    'cache-key': scope,
    stage: 'build',
    source: 'examples/hello',
    platforms: 'linux/amd64'
  }
  const container = { image: ACT_RUNNER_IMAGE, mounts: [repoRoot, world.work] }

  const first = await world.newJob(container)
  const firstInputs = { ...inputs, output: path.join(first.dir, 'bin') }
  const main1 = await first.run('main', firstInputs, actEnv('501'))
  expectOk(main1)
  expect(main1.outputs['cache-hit']).toBe('false')
  const engine = engineOf(main1)
  expect(engine).toContain(scope)
  const post1 = await first.run('post', firstInputs, actEnv('501'))
  expectOk(post1)
  expect(post1.stdout).toMatch(/Saved the engine state as \S+-501-1/)
  expect(cacheServer.stats.requests.commit).toBeGreaterThan(0)

  // The next job: a new container and a Docker daemon without the state volume.
  await removeVolumes([engine])
  const second = await world.newJob(container)
  const secondInputs = { ...inputs, output: path.join(second.dir, 'bin') }
  const main2 = await second.run('main', secondInputs, actEnv('502'))
  expectOk(main2)
  expect(main2.outputs['cache-hit']).toBe('true')
  expect(await engineStarts(engine)).toBe('2')
  expectOk(await second.run('post', secondInputs, actEnv('502')))
  world.session.assertAllValid()
})
