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
import { engineNames, startEngine, stopEngine } from '../src/engine/container.js'
import { engineDown } from '../src/engine/down.js'
import { engineConfigJson } from '../src/engine/engine-json.js'
import { checksForNewerImage, engineUp } from '../src/engine/up.js'
import { readConfig, type Config } from '../src/inputs/action-config.js'
import { normalRepository } from '../src/shared/docker.js'
import { engineStarts } from './support/action-world.js'
import { startCacheServer, type CacheServer } from './support/cache-server.js'
import {
  dockerWrapperEnv,
  ensureStandInImages,
  removeTestEngines,
  STAND_IN_IMAGE,
  testScope,
  TOOLBOX_IMAGE,
  withDockerWrapper,
  withEnv
} from './support/docker.js'
import { startRegistry, type Registry } from './support/registry.js'
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

/** The engine.json the engine container holds. */
async function engineJson(container: string): Promise<Record<string, unknown>> {
  return JSON.parse((await run('docker', ['exec', container, 'cat', '/etc/dagger/engine.json'])).stdout) as Record<
    string,
    unknown
  >
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

  test('a running engine found with another engine.json is stopped cleanly and started anew on its state', async () => {
    // A second use of the action in one job, or a job whose post never ran: the engine still runs.
    const scope = testScope('reconfig')
    const small = await configFor(scope, { 'cache-max-size': '1GB' })
    const first = await asStep(() => engineUp(small, '0.21.8'))
    const container = first.handoff!.container!
    const volume = first.handoff!.volume!
    expect(await engineJson(container)).toMatchObject({ gc: { maxUsedSpace: 1e9 } })
    // The first start may be on a state restored from another scope: count from there.
    const starts = Number(await engineStarts(volume))
    const startedAt = async () =>
      (await run('docker', ['inspect', '--format', '{{.State.StartedAt}}', container])).stdout

    // The same settings: the running engine is used as it is.
    const firstStart = await startedAt()
    const same = await asStep(() => engineUp(small, '0.21.8'))
    expect(await startedAt()).toBe(firstStart)
    expect(same.stdout).not.toMatch(/started it again/)

    const largerCfg = await configFor(scope, { 'cache-max-size': '2GB' })
    const larger = await asStep(() => engineUp(largerCfg, '0.21.8'))
    expect(await engineJson(container)).toMatchObject({ gc: { maxUsedSpace: 2e9 } })
    expect(larger.stdout.split('\n').filter(line => /started it again/.test(line))).toEqual([
      `The engine ${container} was running with another engine.json or other run flags: stopped it cleanly and started it again on the same state volume`
    ])
    // Stopped cleanly: the engine kept its state (a kill would have made it start from nothing).
    expect(larger.value.discardedState).toBeUndefined()
    expect(await engineStarts(volume)).toBe(String(starts + 1))

    const withConfigCfg = await configFor(scope, { 'cache-max-size': '2GB', 'engine-config': '{"logLevel":"debug"}' })
    const withConfig = await asStep(() => engineUp(withConfigCfg, '0.21.8'))
    expect(await engineJson(container)).toMatchObject({ logLevel: 'debug', gc: { maxUsedSpace: 2e9 } })
    expect(withConfig.stdout).toMatch(/started it again on the same state volume/)
    expect(await engineStarts(volume)).toBe(String(starts + 2))

    // A stopped container with the old settings is replaced too, on the same state.
    await run('docker', ['stop', '-t', '30', container])
    await asStep(() => engineUp(small, '0.21.8'))
    expect(await engineJson(container)).toMatchObject({ gc: { maxUsedSpace: 1e9 } })
    expect(await engineStarts(volume)).toBe(String(starts + 3))
    expect((await asStep(() => engineDown(first.handoff))).value.save).toMatchObject({ saved: true })
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

async function imageId(image: string): Promise<string> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim()
}

async function containerImage(container: string): Promise<string> {
  return (await run('docker', ['container', 'inspect', '--format', '{{.Image}}', container])).stdout.trim()
}

function warningsOf(stdout: string): string[] {
  return stdout.split('\n').filter(line => line.startsWith('::warning::'))
}

describe('the engine image on a Docker daemon that keeps it', () => {
  let registry: Registry
  /** Tags and digests this block adds to the daemon (the stand-in image itself is only untagged). */
  const references: string[] = []
  let variantId: string | undefined
  /** Registries a test closes itself, closed here too should it fail first. */
  const closeAfter: Registry[] = []

  beforeAll(async () => {
    registry = await startRegistry()
  })

  afterAll(async () => {
    for (const server of [registry, ...closeAfter]) await server?.close()
    for (const reference of references) await run('docker', ['rmi', reference]).catch(() => undefined)
    if (variantId) await run('docker', ['rmi', '--force', variantId]).catch(() => undefined)
  })

  /** Another build of the stand-in engine: the same files, another image ID. */
  async function variant(): Promise<string> {
    const tag = `go-dagger-action-test/engine:gdatest-${process.pid}-variant`
    if (variantId) return tag
    const context = await mkdtemp(path.join(tmpdir(), 'gda-variant-'))
    await writeFile(path.join(context, 'Dockerfile'), `FROM ${STAND_IN_IMAGE}\nLABEL gdatest.variant=2\n`)
    await run('docker', ['build', '--quiet', '--tag', tag, context])
    await rm(context, { recursive: true, force: true })
    variantId = await imageId(tag)
    return tag
  }

  test('a running engine of the same name but another image is stopped cleanly and started on the asked one', async () => {
    // The default image's name carries no image ID: a re-pulled release tag keeps the engine's name.
    const names = engineNames({ engineVersion: '0.21.8', scope: testScope('other-image') })
    const engineConfig = engineConfigJson({ maxUsedSpaceBytes: 1e9 })
    await withDockerWrapper(async () => {
      await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })
      const again = await startEngine({ image: await variant(), names, engineConfig })
      expect(again.replaced).toBe(
        `The engine ${names.container} was running with another image (${(await imageId(STAND_IN_IMAGE)).slice(0, 19)}): ` +
          'stopped it cleanly and started it again on the same state volume'
      )
      expect(again.discardedState).toBeUndefined()
      expect(await containerImage(names.container)).toBe(variantId)
      expect(await engineStarts(names.volume)).toBe('2')
      expect((await stopEngine({ container: names.container, timeoutSeconds: 30 })).clean).toBe(true)
    })
  })

  test('which references are checked against their registry again when the daemon has them', () => {
    const pinned = 'registry.dagger.io/engine:v0.21.8'
    const digest = `sha256:${'a'.repeat(64)}`
    // The default engine, a release tag that never moves.
    expect(checksForNewerImage(undefined, pinned)).toBe(false)
    expect(checksForNewerImage(pinned, pinned)).toBe(false)
    // A digest names one build for good.
    expect(checksForNewerImage(`ghcr.io/acme/engine@${digest}`, pinned)).toBe(false)
    expect(checksForNewerImage(`ghcr.io/acme/engine:main@${digest}`, pinned)).toBe(false)
    // Any other tag can move.
    expect(checksForNewerImage('ghcr.io/acme/engine:main', pinned)).toBe(true)
    expect(checksForNewerImage('ghcr.io/acme/engine', pinned)).toBe(true)
    expect(checksForNewerImage('localhost:5000/engine:sha256', pinned)).toBe(true)

    // How a reference is matched with the digests the daemon recorded when it pulled an image.
    expect(normalRepository('ubuntu@' + digest)).toBe('docker.io/library/ubuntu')
    expect(normalRepository('docker.io/library/ubuntu:24.04')).toBe('docker.io/library/ubuntu')
    expect(normalRepository('index.docker.io/acme/engine')).toBe('docker.io/acme/engine')
    expect(normalRepository('acme/engine:main')).toBe('docker.io/acme/engine')
    expect(normalRepository('localhost/engine:dev')).toBe('localhost/engine')
    expect(normalRepository(`127.0.0.1:5000/team/engine:v1@${digest}`)).toBe('127.0.0.1:5000/team/engine')
  })

  test('a custom tag that moved in its registry is pulled again, and the engine runs the new build', async () => {
    const repository = `gdatest-${process.pid}/engine`
    const reference = `${registry.host}/${repository}:moving`
    references.push(reference)
    references.push(`${registry.host}/${repository}@${await registry.push(STAND_IN_IMAGE, repository, 'moving')}`)
    const cfg = await configFor(testScope('moving'), { 'engine-image': reference })

    const first = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(await containerImage(first.handoff!.container!)).toBe(await imageId(STAND_IN_IMAGE))
    expect(warningsOf(first.stdout)).toEqual([])
    await asStep(() => engineDown(first.handoff))

    const variantTag = await variant()
    const movedDigest = await registry.push(variantTag, repository, 'moving')
    references.push(`${registry.host}/${repository}@${movedDigest}`)

    const second = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(await containerImage(second.handoff!.container!)).toBe(variantId)
    // Another build, another state: never the one the old build wrote.
    expect(second.handoff!.engineVersion).not.toBe(first.handoff!.engineVersion)
    expect(second.stdout).toContain(`Pulled a newer ${reference}`)
    expect(warningsOf(second.stdout)).toEqual([])
    await asStep(() => engineDown(second.handoff))

    // Checked again, nothing new: the same engine and state.
    const requests = registry.requests.length
    const third = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(registry.requests.slice(requests)).toContainEqual(
      expect.stringMatching(new RegExp(`^(GET|HEAD) /v2/${repository}/manifests/moving$`))
    )
    expect(third.handoff!.engineVersion).toBe(second.handoff!.engineVersion)
    expect(third.stdout).not.toContain('Pulled a newer')
    await asStep(() => engineDown(third.handoff))

    // By digest, the image the daemon has is used without asking the registry.
    const byDigest = await configFor(testScope('digest'), {
      'engine-image': `${registry.host}/${repository}@${movedDigest}`
    })
    const digestRequests = registry.requests.length
    const pinned = await asStep(() => engineUp(byDigest, '0.21.8'))
    expect(await containerImage(pinned.handoff!.container!)).toBe(variantId)
    expect(registry.requests.slice(digestRequests)).toEqual([])
    await asStep(() => engineDown(pinned.handoff))
  })

  test('a registry that cannot be reached: one warning, and the engine runs the image the daemon has', async () => {
    const gone = await startRegistry()
    closeAfter.push(gone)
    const repository = `gdatest-${process.pid}/engine`
    const reference = `${gone.host}/${repository}:offline`
    references.push(reference, `${gone.host}/${repository}@${await gone.push(STAND_IN_IMAGE, repository, 'offline')}`)
    const cfg = await configFor(testScope('offline'), { 'engine-image': reference })
    const pulled = await asStep(() => engineUp(cfg, '0.21.8'))
    await asStep(() => engineDown(pulled.handoff))
    // Nothing listens there any more: the pull is refused at once.
    await gone.close()

    const up = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(await containerImage(up.handoff!.container!)).toBe(await imageId(STAND_IN_IMAGE))
    expect(up.handoff!.engineVersion).toBe(pulled.handoff!.engineVersion)
    const warnings = warningsOf(up.stdout)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      new RegExp(
        `^::warning::Could not check ${reference.replace(/[.]/g, '\\.')} for a newer build \\(.*connection refused.*\\): using the one this Docker daemon has, sha256:[0-9a-f]{12}\\. Pin engine-image by digest to skip this check\\.$`
      )
    )
    await asStep(() => engineDown(up.handoff))
  })

  test('a custom tag the daemon built or loaded itself is not pulled', async () => {
    // Tagged here, never pulled: no registry is asked (none listens on port 1 anyway).
    const reference = `127.0.0.1:1/gdatest-${process.pid}/engine:built-here`
    await run('docker', ['tag', STAND_IN_IMAGE, reference])
    references.push(reference)
    const cfg = await configFor(testScope('built'), { 'engine-image': reference })
    const up = await asStep(() => engineUp(cfg, '0.21.8'))
    expect(await containerImage(up.handoff!.container!)).toBe(await imageId(STAND_IN_IMAGE))
    expect(warningsOf(up.stdout)).toEqual([])
    await asStep(() => engineDown(up.handoff))
  })

  test('the default engine image, when the daemon has it, is not pulled again', async () => {
    // A release tag that exists nowhere: any pull of it would fail and warn.
    const cliVersion = `0.0.0-gdatest.${process.pid}`
    const reference = `registry.dagger.io/engine:v${cliVersion}`
    await run('docker', ['tag', STAND_IN_IMAGE, reference])
    references.push(reference)
    const cfg = await configFor(testScope('default'), { 'engine-image': '' })
    const up = await asStep(() => engineUp(cfg, cliVersion))
    expect(await containerImage(up.handoff!.container!)).toBe(await imageId(STAND_IN_IMAGE))
    expect(warningsOf(up.stdout)).toEqual([])
    await asStep(() => engineDown(up.handoff))
  })
})
