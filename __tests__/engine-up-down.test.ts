// engineUp and engineDown, called from src as main and post call them: the stand-in engine on the
// Docker daemon (through the docker wrapper) and the loopback cache service. What main hands to
// post is read back from the runner's GITHUB_STATE file, as the runner would pass it on.
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { PostState } from '../src/action/handoff.js'
import { engineDown } from '../src/engine/down.js'
import { engineUp } from '../src/engine/up.js'
import { readConfig, type Config } from '../src/inputs/action-config.js'
import { engineStarts } from './support/action-world.js'
import { startCacheServer, type CacheServer } from './support/cache-server.js'
import {
  dockerWrapperEnv,
  ensureStandInImages,
  removeTestEngines,
  STAND_IN_IMAGE,
  testScope,
  TOOLBOX_IMAGE,
  withEnv
} from './support/docker.js'
import { parseFileCommands, repoRoot } from './support/runner.js'

const run = promisify(execFile)
let cacheServer: CacheServer
let dir: string
let runs = 0

beforeAll(async () => {
  await ensureStandInImages()
  cacheServer = await startCacheServer({ protocol: 'v2' })
  dir = await mkdtemp(path.join(tmpdir(), 'gda-up-down-'))
})

afterEach(async () => {
  await removeTestEngines()
})

afterAll(async () => {
  await cacheServer?.close()
  await rm(dir, { recursive: true, force: true })
})

function configFor(scope: string, inputs: Record<string, string> = {}): Promise<Config> {
  const values: Record<string, string> = {
    'engine-image': STAND_IN_IMAGE,
    'state-helper-image': TOOLBOX_IMAGE,
    'engine-stop-timeout': '30',
    'cache-key': scope,
    stage: 'build',
    source: 'examples/hello',
    ...inputs
  }
  return readConfig(name => values[name] ?? '', { env: { GITHUB_EVENT_NAME: 'push' }, cwd: repoRoot })
}

interface Step<T> {
  value: T
  /** What the step printed (workflow commands included). */
  stdout: string
  /** The handoff main left for post, as GITHUB_STATE holds it. */
  handoff?: PostState
}

/** Runs one step's work in this process with a runner's environment, a new run id each time. */
async function asStep<T>(body: () => Promise<T>): Promise<Step<T>> {
  const state = path.join(dir, `state-${++runs}`)
  await writeFile(state, '')
  let stdout = ''
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  try {
    const env = {
      ...cacheServer.env,
      PATH: dockerWrapperEnv().PATH,
      RUNNER_TEMP: dir,
      GITHUB_RUN_ID: String(runs),
      GITHUB_STATE: state
    }
    const value = await withEnv(env, body)
    const saved = parseFileCommands(await readFile(state, 'utf8'))['go-dagger-action']
    return { value, stdout, handoff: saved ? (JSON.parse(saved) as PostState) : undefined }
  } finally {
    write.mockRestore()
  }
}

describe('engineUp and engineDown', () => {
  test('cold up, down saves; on a new runner up restores and the engine starts on that state', async () => {
    const cfg = await configFor(testScope('restore'))
    const cold = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(cold.value.restore?.cacheHit).toBe('false')
    expect(cold.value.stateOnDaemon).toBeUndefined()
    expect(cold.value.discardedState).toBeUndefined()
    expect(cold.handoff).toMatchObject({ container: expect.stringContaining('restore'), cache: { save: true } })
    expect(cold.value.runnerHost).toBe(`docker-container://${cold.handoff!.container}`)

    const down = await asStep(() => engineDown(cold.handoff))
    expect(down.value.save).toMatchObject({ saved: true })
    expect(down.stdout).toContain('The engine stopped cleanly')

    // A new runner: the daemon has nothing of the engine.
    await run('docker', ['volume', 'rm', cold.handoff!.volume!])
    const warm = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(warm.value.restore).toMatchObject({ cacheHit: 'true' })
    expect(warm.value.restore!.bytes).toBeGreaterThan(0)
    expect(warm.value.discardedState).toBeUndefined()
    expect(await engineStarts(warm.handoff!.volume!)).toBe('2')
    expect((await asStep(() => engineDown(warm.handoff))).value.save).toMatchObject({ saved: true })
  })

  test('state left on the daemon is used as it is and said to be so, not "restored"', async () => {
    const cfg = await configFor(testScope('daemon'))
    const first = await asStep(() => engineUp(cfg, '0.21.8'))
    await asStep(() => engineDown(first.handoff))
    const lookups = cacheServer.stats.requests.lookup
    const again = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(again.value.stateOnDaemon).toBe(true)
    expect(again.value.restore).toMatchObject({ cacheHit: 'false', bytes: 0 })
    expect(cacheServer.stats.requests.lookup).toBe(lookups)
    expect(again.stdout).toContain('is already on this Docker daemon: using it, nothing to restore')
    await asStep(() => engineDown(again.handoff))
  })

  test('a state the engine throws away at start-up is one warning and a cold run, never "restored"', async () => {
    const cfg = await configFor(testScope('discarded'))
    const first = await asStep(() => engineUp(cfg, '0.21.8'))
    // Killed: the engine never closes its state, and wipes it on its next start.
    await run('docker', ['kill', first.handoff!.container!])
    await run('docker', ['rm', first.handoff!.container!])
    const again = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(again.value.discardedState).toBe('dagql_unclean_shutdown')
    expect(again.value.restore).toMatchObject({ cacheHit: 'false', bytes: 0 })
    const warnings = again.stdout.split('\n').filter(line => line.startsWith('::warning::'))
    expect(warnings).toEqual([
      '::warning::The engine discarded the state it found on this Docker daemon at start-up (dagql_unclean_shutdown): this run starts cold'
    ])
    // Post saves the fresh state whole: nothing of the discarded one is reused.
    expect(again.handoff?.cache).toMatchObject({ save: true })
    expect(again.handoff?.cache?.fingerprint).toBeUndefined()
    expect(again.handoff?.cache?.manifestPath).toBeUndefined()
    await asStep(() => engineDown(again.handoff))
  })

  test('down after a kill saves nothing and says why; down with a no from the save policy starts no helper', async () => {
    const cfg = await configFor(testScope('killed'))
    const up = await asStep(() => engineUp(cfg, '0.21.8'))
    const entries = cacheServer.entries().length
    await run('docker', ['kill', up.handoff!.container!])
    const down = await asStep(() => engineDown(up.handoff))
    expect(down.value).toEqual({})
    expect(down.stdout).toMatch(/::warning::The engine did not shut down cleanly \(.*\): its state is not saved/)
    expect(cacheServer.entries()).toHaveLength(entries)

    const pr = await configFor(testScope('policy'), {
      stage: 'publish',
      image: 'ghcr.io/acme/hello',
      'registry-username': 'u',
      'registry-password': 'p'
    })
    const policyUp = await asStep(() => engineUp(pr, '0.21.8'))
    const reservations = cacheServer.stats.requests.reserve
    const policyDown = await asStep(() => engineDown(policyUp.handoff))
    expect(policyDown.value.save).toEqual({ save: false, reason: expect.stringMatching(/^not saved: .*publish/) })
    expect(cacheServer.stats.requests.reserve).toBe(reservations)
  })
})
