// The engine container's life through real Docker, with a locally built stand-in engine that
// keeps its state in /var/lib/dagger, writes the files an overlay snapshotter relies on, records
// a clean shutdown on SIGTERM and wipes its state after a kill, like the real engine.
import { execFile, spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Ajv2020, type SchemaObject } from 'ajv/dist/2020.js'
import ts from 'typescript'
import { containerLogTail, DockerUnavailableError, inspectContainer, volumeExists } from '../src/shared/docker.js'
import { engineConfigJson } from '../src/engine/engine-json.js'
import {
  discardedStateReason,
  engineNames,
  removeVolume,
  startEngine,
  stopEngine,
  volumeHasState
} from '../src/engine/container.js'
import {
  ensureStandInImages,
  inVolume,
  listState,
  removeTestEngines,
  STAND_IN_FAILING_IMAGE,
  STAND_IN_IGNORING_SIGTERM_IMAGE,
  STAND_IN_IMAGE,
  testScope,
  withDockerWrapper,
  withEnv,
  WRAPPER_BIN_DIR
} from './support/docker.js'

const run = promisify(execFile)
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENGINE_VERSION = '0.21.8'
const engineConfig = engineConfigJson({ maxUsedSpaceBytes: 3_000_000_000 })

function namesFor(label: string) {
  return engineNames({ engineVersion: ENGINE_VERSION, scope: testScope(label) })
}

/** The fields of Docker's inspect document that the assertions read. */
interface InspectDocument {
  HostConfig: { CapAdd: string[] | null; RestartPolicy: { Name: string } }
  Config: { StopTimeout?: number }
  Mounts: Array<{ Type: string; Name?: string; Destination: string }>
}

async function inspectJson(container: string): Promise<InspectDocument> {
  const { stdout } = await run('docker', ['container', 'inspect', container])
  return (JSON.parse(stdout) as InspectDocument[])[0]
}

function dagqlCache(volume: string): Promise<string> {
  return inVolume(volume, 'cat /var/lib/dagger/dagql-cache.db')
}

beforeAll(async () => {
  await ensureStandInImages()
  await removeTestEngines()
})

afterAll(async () => {
  await removeTestEngines()
})

describe('engineConfigJson', () => {
  test('writes a GC limit that the engine config schema accepts', async () => {
    // engine.schema.json: docs/static/reference/engine.schema.json in dagger/dagger at v0.21.8.
    const schema = JSON.parse(
      await fs.readFile(path.join(repoRoot, 'src/inputs/engine.schema.json'), 'utf8')
    ) as SchemaObject
    const validate = new Ajv2020({ strict: false }).compile(schema)
    const config = JSON.parse(engineConfigJson({ maxUsedSpaceBytes: 6 * 2 ** 30 })) as {
      gc: { maxUsedSpace: number; reservedSpace: number }
    }
    expect(validate(config)).toBe(true)
    expect(config.gc.maxUsedSpace).toBe(6 * 2 ** 30)
    expect(config.gc.reservedSpace).toBeLessThanOrEqual(config.gc.maxUsedSpace)
    // engine-config is merged over it; the GC limit stays cache-max-size's.
    const merged: unknown = JSON.parse(
      engineConfigJson({
        maxUsedSpaceBytes: 2e9,
        overrides: {
          logLevel: 'info',
          gc: { sweepSize: '25%' },
          registries: { 'docker.io': { mirrors: ['172.17.0.1:5000'], http: false, insecure: false, ca: [] } }
        }
      })
    )
    expect(validate(merged)).toBe(true)
    expect(merged).toEqual({
      logLevel: 'info',
      registries: { 'docker.io': { mirrors: ['172.17.0.1:5000'], http: false, insecure: false, ca: [] } },
      gc: { sweepSize: '25%', enabled: true, maxUsedSpace: 2e9, reservedSpace: 2e8 }
    })
    // The validator does reject what the engine would reject.
    expect(validate({ gc: { maxUsedSpace: '6 gigs' } })).toBe(false)
    expect(() => engineConfigJson({ maxUsedSpaceBytes: 0 })).toThrow(RangeError)
  })
})

describe('discardedStateReason', () => {
  // Recorded from the real engine v0.21.8 started on the state of an engine that had been killed.
  const killedThenStarted = [
    'time="2026-12-03T12:45:27Z" level=info msg="running server on /run/dagger/engine.sock"',
    'time=2026-12-03T12:45:36.222Z level=WARN msg="dagql persistence store marked unclean; wiping and cold-starting" cleanShutdown=0',
    'time=2026-12-03T12:45:36.245Z level=WARN msg="local cache state invalid; resetting worker and dagql persistence state" reason=dagql_unclean_shutdown error=<nil>',
    'time="2026-12-03T12:45:36Z" level=info msg="running server on /run/dagger/engine.sock"'
  ].join('\n')

  test("reads the reason from the engine's reset line", () => {
    expect(discardedStateReason(killedThenStarted)).toBe('dagql_unclean_shutdown')
    expect(
      discardedStateReason(
        'level=WARN msg="local cache state invalid; resetting worker and dagql persistence state" reason="import failed" error=x'
      )
    ).toBe('import failed')
    expect(
      discardedStateReason('level=WARN msg="local cache state invalid; resetting worker and dagql persistence state"')
    ).toBe('no reason given')
  })

  test('a start on a clean or empty state discarded nothing', () => {
    expect(discardedStateReason(killedThenStarted.split('\n')[0])).toBeUndefined()
    expect(discardedStateReason('')).toBeUndefined()
  })
})

describe('engineNames', () => {
  test('are deterministic per version and scope, and valid Docker names', () => {
    const plain = engineNames({ engineVersion: 'v0.21.8' })
    expect(plain).toEqual(engineNames({ engineVersion: '0.21.8' }))
    expect(plain.container).toBe('dagger-engine-gda-v0.21.8')
    const scoped = engineNames({ engineVersion: '0.21.8', scope: 'lint/go 1.24' })
    const otherScope = engineNames({ engineVersion: '0.21.8', scope: 'lint-go-1.24' })
    expect(scoped.container).not.toBe(otherScope.container)
    for (const name of [scoped.container, scoped.volume, otherScope.container]) {
      expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/)
    }
    expect(engineNames({ engineVersion: '0.22.0' }).volume).not.toBe(plain.volume)
  })
})

describe('engine lifecycle through Docker', () => {
  test('start, clean stop, start again: the first run state and its special files survive', async () => {
    const names = namesFor('cycle')
    const wrapperLog = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'gda-wrapper-')), 'rewritten.log')

    const first = await withDockerWrapper(
      () => startEngine({ image: STAND_IN_IMAGE, names, engineConfig, stopTimeoutSeconds: 45 }),
      { DOCKER_WRAPPER_LOG: wrapperLog }
    )
    expect(first).toEqual({ runnerHost: `docker-container://${names.container}`, reusedContainer: false })

    // The product asks for --privileged (the wrapper rewrote it) and the CLI's other flags.
    const rewritten = await fs.readFile(wrapperLog, 'utf8')
    expect(rewritten).toContain(`--name ${names.container}`)
    expect(rewritten).toContain('--privileged')
    const inspected = await inspectJson(names.container)
    expect(inspected.HostConfig.CapAdd).toContain('ALL')
    // Set once the engine serves, so that a crash during start-up keeps its exit code.
    expect(inspected.HostConfig.RestartPolicy.Name).toBe('always')
    // A docker stop without -t (another step, the daemon shutting down) waits as long as post does.
    expect(inspected.Config.StopTimeout).toBe(45)
    expect(inspected.Mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Name: names.volume, Destination: '/var/lib/dagger' })
    ])
    // engine.json reached /etc/dagger without a host path.
    expect(await containerLogTail(names.container)).toContain('"maxUsedSpace": 3000000000')

    const firstStop = await withDockerWrapper(() => stopEngine({ container: names.container, timeoutSeconds: 30 }))
    expect(firstStop).toMatchObject({ clean: true, exitCode: 0 })
    expect(await inspectContainer(names.container)).toBeNull()
    expect(await volumeExists(names.volume)).toBe(true)
    expect(await dagqlCache(names.volume)).toBe('stand-in-dagql-cache v1\nstarts=1\nclean_shutdown=1\n')
    expect(await withDockerWrapper(() => volumeHasState({ volume: names.volume, image: STAND_IN_IMAGE }))).toBe(true)

    const snapshot = 'worker/snapshots/snapshots/1/fs'
    const firstListing = await listState(names.volume, snapshot)
    const entry = (name: string) => {
      const line = firstListing.find(l => l.startsWith(`./${name}|`))
      if (!line) throw new Error(`${name} missing from the state:\n${firstListing.join('\n')}`)
      const [, mode, owner, size, blocks, links, device, target, inode, xattrs] = line.split('|')
      return { mode, owner, size, blocks: Number(blocks), links, device, target, inode, xattrs }
    }
    expect(entry('whiteout')).toMatchObject({ mode: 'crw-r--r--', owner: '0:0', device: '0:0' })
    expect(entry('opaque-dir').xattrs).toContain('trusted.overlay.opaque=0x79')
    expect(entry('capable').xattrs).toContain('security.capability=0x0100000200040000000000000000000000000000')
    expect(entry('setuid').mode).toBe('-rwsr-xr-x')
    expect(entry('private').mode).toBe('-rw-------')
    expect(entry('sticky-dir').mode).toBe('drwxrwxrwt')
    expect(entry('owned').owner).toBe('1000:1001')
    expect(entry('nobody').owner).toBe('65534:65534')
    expect(entry('symlink')).toMatchObject({ mode: 'lrwxrwxrwx', target: 'plain' })
    expect(entry('dangling-symlink').target).toBe('missing/target')
    expect(entry('hardlink')).toMatchObject({ links: '2', inode: entry('plain').inode })
    expect(entry('empty-dir').mode).toBe('drwxr-xr-x')
    expect(entry('sparse').size).toBe(String(64 * 2 ** 20))
    expect(entry('sparse').blocks * 512).toBeLessThan(2 ** 20)
    expect(entry('large').size).toBe(String(4 * 2 ** 20))

    const second = await withDockerWrapper(() => startEngine({ image: STAND_IN_IMAGE, names, engineConfig }))
    expect(second).toEqual({ runnerHost: `docker-container://${names.container}`, reusedContainer: false })
    const secondLog = await containerLogTail(names.container)
    expect(secondLog).toContain('started (start 2)')
    expect(secondLog).not.toContain('unclean')
    const secondStop = await withDockerWrapper(() => stopEngine({ container: names.container, timeoutSeconds: 30 }))
    expect(secondStop.clean).toBe(true)
    expect(await dagqlCache(names.volume)).toBe('stand-in-dagql-cache v1\nstarts=2\nclean_shutdown=1\n')
    expect(await listState(names.volume, snapshot)).toEqual(firstListing)
    expect(await listState(names.volume, 'worker/snapshots/snapshots/2/fs')).toHaveLength(firstListing.length)
    await fs.rm(path.dirname(wrapperLog), { recursive: true, force: true })
  })

  test('a second start reuses the engine that already runs', async () => {
    const names = namesFor('reuse')
    await withDockerWrapper(async () => {
      await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })
      const startedAt = (await inspectContainer(names.container))?.startedAt
      const again = await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })
      expect(again).toEqual({ runnerHost: `docker-container://${names.container}`, reusedContainer: true })
      expect((await inspectContainer(names.container))?.startedAt).toBe(startedAt)
      expect((await stopEngine({ container: names.container, timeoutSeconds: 30 })).clean).toBe(true)
    })
  })

  test('an engine that outlives the stop timeout is killed: unclean, and the next start wipes its state', async () => {
    const names = namesFor('timeout')
    await withDockerWrapper(async () => {
      await startEngine({ image: STAND_IN_IGNORING_SIGTERM_IMAGE, names, engineConfig })
      const stopped = await stopEngine({ container: names.container, timeoutSeconds: 1 })
      expect(stopped).toMatchObject({ clean: false, exitCode: 137 })
      expect(stopped.reason).toMatch(/did not exit within 1 s of SIGTERM/)
      expect(stopped.durationMs).toBeGreaterThanOrEqual(1000)
      expect(await dagqlCache(names.volume)).not.toContain('clean_shutdown=1')

      const restarted = await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })
      expect(await containerLogTail(names.container)).toContain('unclean shutdown: wiping cache')
      // Said by the start itself, from the engine's log, so main can say the run was cold.
      expect(restarted.discardedState).toBe('dagql_unclean_shutdown')
      expect((await stopEngine({ container: names.container, timeoutSeconds: 30 })).clean).toBe(true)
      expect(await dagqlCache(names.volume)).toBe('stand-in-dagql-cache v1\nstarts=1\nclean_shutdown=1\n')
    })
  })

  test('an engine that something else removes while it stops is unclean, not an error', async () => {
    const names = namesFor('removed')
    await withDockerWrapper(async () => {
      await startEngine({ image: STAND_IN_IGNORING_SIGTERM_IMAGE, names, engineConfig })
      const stopping = stopEngine({ container: names.container, timeoutSeconds: 20 })
      // What a Dagger CLI provisioning its own engine does to every other dagger-engine-* container.
      await new Promise(resolve => setTimeout(resolve, 1500))
      await run('docker', ['rm', '--force', names.container])
      expect(await stopping).toMatchObject({
        clean: false,
        exitCode: null,
        reason: 'the engine container was removed by something else while it ran'
      })
    })
  })

  test('a start failure throws with the exit code and the tail of the engine log, and leaves no container', async () => {
    const names = namesFor('fail')
    const failure = withDockerWrapper(() =>
      startEngine({ image: STAND_IN_FAILING_IMAGE, names, engineConfig, readyTimeoutMs: 20_000 })
    )
    await expect(failure).rejects.toThrow(/failed to start: it exited with code 42/)
    await expect(failure).rejects.toThrow(/Last lines of its log:\n(.*\n)*stand-in-engine: refusing to start/)
    expect(await inspectContainer(names.container)).toBeNull()
  })

  test('a corrupt state fails the start; after removeVolume a cold start works', async () => {
    const names = namesFor('corrupt')
    await withDockerWrapper(async () => {
      await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })
      expect((await stopEngine({ container: names.container, timeoutSeconds: 30 })).clean).toBe(true)
      await inVolume(names.volume, 'echo garbage >/var/lib/dagger/dagql-cache.db')

      await expect(startEngine({ image: STAND_IN_IMAGE, names, engineConfig })).rejects.toThrow(
        /exited with code 3[^]*corrupt \/var\/lib\/dagger\/dagql-cache.db/
      )
      await removeVolume(names.volume)
      expect(await volumeExists(names.volume)).toBe(false)
      expect(await volumeHasState({ volume: names.volume, image: STAND_IN_IMAGE })).toBe(false)
      await removeVolume(names.volume) // already gone: not an error

      expect((await startEngine({ image: STAND_IN_IMAGE, names, engineConfig })).reusedContainer).toBe(false)
      expect((await stopEngine({ container: names.container, timeoutSeconds: 30 })).clean).toBe(true)
      expect(await dagqlCache(names.volume)).toContain('starts=1\n')
    })
  })

  test('an empty volume holds no state', async () => {
    const names = namesFor('empty')
    await run('docker', ['volume', 'create', names.volume])
    expect(await volumeHasState({ volume: names.volume, image: STAND_IN_IMAGE })).toBe(false)
  })

  test('stopping an engine that does not exist is unclean, not an error', async () => {
    const stopped = await stopEngine({ container: namesFor('absent').container, timeoutSeconds: 5 })
    expect(stopped).toEqual({
      clean: false,
      exitCode: null,
      durationMs: 0,
      reason: `no engine container named ${namesFor('absent').container}`
    })
  })

  test('Docker missing or unreachable fails with one clear line', async () => {
    const names = namesFor('unreachable')
    const start = () => startEngine({ image: STAND_IN_IMAGE, names, engineConfig })

    const unreachable = withEnv({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, start)
    await expect(unreachable).rejects.toBeInstanceOf(DockerUnavailableError)
    await expect(unreachable).rejects.toThrow(/^Cannot reach the Docker daemon: .*nonexistent\/docker.sock[^\n]*$/)

    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gda-no-docker-'))
    const missing = withEnv({ PATH: emptyDir }, start)
    await expect(missing).rejects.toThrow(/^Docker is not installed: no docker CLI on PATH[^\n]*$/)
    await fs.rm(emptyDir, { recursive: true, force: true })
    expect(await inspectContainer(names.container)).toBeNull()
  })
})

describe('engine lifecycle as a non-root user', () => {
  const uid = 4242

  /**
   * The lifecycle modules, transpiled, plus this Node binary and the docker wrapper, in a
   * world-readable directory: the unprivileged user may not reach the repository or the Node
   * installation (both can live under /root).
   */
  async function unprivilegedSandbox(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gda-nonroot-'))
    await fs.mkdir(path.join(dir, 'bin'))
    await fs.mkdir(path.join(dir, 'home'))
    // The modules keep their places under src/, so their relative imports resolve as they do there.
    for (const module of [
      'shared/docker',
      'engine/container',
      'engine/engine-json',
      'engine-state/helper-container',
      'engine-state/listing'
    ]) {
      const source = await fs.readFile(path.join(repoRoot, 'src', `${module}.ts`), 'utf8')
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 }
      })
      await fs.mkdir(path.join(dir, path.dirname(module)), { recursive: true })
      await fs.writeFile(path.join(dir, `${module}.js`), outputText)
    }
    await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}\n')
    await fs
      .link(process.execPath, path.join(dir, 'bin', 'node'))
      .catch(() => fs.copyFile(process.execPath, path.join(dir, 'bin', 'node')))
    await fs.copyFile(path.join(WRAPPER_BIN_DIR, 'docker'), path.join(dir, 'bin', 'docker'))
    await fs.chmod(path.join(dir, 'bin', 'docker'), 0o755)
    await fs.chmod(dir, 0o755)
    await fs.chown(path.join(dir, 'home'), uid, uid)
    return dir
  }

  test('main, post, main again and post again, run by a non-root uid in the Docker socket group', async () => {
    const socketPath = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '')
    const socket = await fs.stat(socketPath)
    if ((socket.mode & 0o060) !== 0o060) {
      throw new Error(
        `${socketPath} is not group read-write (mode ${(socket.mode & 0o777).toString(8)}); cannot test a non-root user`
      )
    }
    const names = namesFor('nonroot')
    const dir = await unprivilegedSandbox()
    const cycle = `
      import { engineNames, startEngine, stopEngine, volumeHasState } from './engine/container.js'
      import { engineConfigJson } from './engine/engine-json.js'
      const names = ${JSON.stringify(names)}
      const image = ${JSON.stringify(STAND_IN_IMAGE)}
      const engineConfig = engineConfigJson({ maxUsedSpaceBytes: 1e9 })
      const results = { uid: process.getuid(), runs: [] }
      for (let run = 0; run < 2; run++) {
        const hadState = await volumeHasState({ volume: names.volume, image })
        const started = await startEngine({ image, names, engineConfig })
        const stopped = await stopEngine({ container: names.container, timeoutSeconds: 30 })
        results.runs.push({ hadState, started, clean: stopped.clean, reason: stopped.reason })
      }
      console.log(JSON.stringify(results))
    `
    await fs.writeFile(path.join(dir, 'cycle.mjs'), cycle)

    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        'setpriv',
        [
          '--reuid',
          String(uid),
          '--regid',
          String(uid),
          '--groups',
          String(socket.gid),
          '--',
          path.join(dir, 'bin', 'node'),
          path.join(dir, 'cycle.mjs')
        ],
        {
          cwd: dir,
          env: {
            PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
            HOME: path.join(dir, 'home'),
            DOCKER_HOST: process.env.DOCKER_HOST
          }
        }
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', chunk => (stdout += chunk))
      child.stderr.on('data', chunk => (stderr += chunk))
      child.on('error', reject)
      child.on('close', code =>
        code === 0 ? resolve(stdout) : reject(new Error(`non-root cycle exited ${code}: ${stderr}`))
      )
    })
    const results = JSON.parse(output.trim().split('\n').pop() ?? '') as { uid: number; runs: unknown[] }
    expect(results.uid).toBe(uid)
    expect(results.runs).toEqual([
      {
        hadState: false,
        started: { runnerHost: `docker-container://${names.container}`, reusedContainer: false },
        clean: true
      },
      {
        hadState: true,
        started: { runnerHost: `docker-container://${names.container}`, reusedContainer: false },
        clean: true
      }
    ])
    expect(await dagqlCache(names.volume)).toBe('stand-in-dagql-cache v1\nstarts=2\nclean_shutdown=1\n')
    // The state stays root-owned inside the volume; the unprivileged user never touches it.
    const owners = await inVolume(names.volume, "find /var/lib/dagger -maxdepth 2 -printf '%U:%G %p\\n' | sort")
    expect(owners).toContain('0:0 /var/lib/dagger/dagql-cache.db')
    expect(owners).toContain('0:0 /var/lib/dagger/worker')
    await fs.rm(dir, { recursive: true, force: true })
  })
})
