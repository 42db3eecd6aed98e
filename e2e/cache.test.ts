// The engine's cache across runners, with the real engine: a cold job saves the state that the
// engine closed cleanly; on a new runner (no volume, no container) the next job restores it, the
// engine starts on it without wiping it, and the unchanged steps come back cached. Then the other
// side: an engine that was killed leaves nothing to save, and a wiped state is not called restored.
// expect from @jest/globals: its asymmetric matchers are typed, the global ones return any.
import { expect } from '@jest/globals'
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { engineOf } from '../__tests__/support/action-world.js'
import {
  execOutcomes,
  expectPassed,
  pulledRepositories,
  registryLog,
  repoRoot,
  run,
  startRealWorld,
  type RealWorld
} from './support/world.js'

/** A value of the engine's own clean-shutdown marker in the state volume, read with the engine image's sqlite3. */
async function cleanShutdownMarker(world: RealWorld, volume: string): Promise<string> {
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--entrypoint',
    'sqlite3',
    '--volume',
    `${volume}:/var/lib/dagger:ro`,
    world.description.engineImage,
    // immutable: the volume is mounted read-only, and a WAL database would otherwise want its -shm file.
    'file:/var/lib/dagger/dagql-cache.db?immutable=1',
    "select value from meta where key = 'clean_shutdown'"
  ])
  return stdout.trim()
}

const WIPE = /local cache state invalid|wiping and cold-starting|resetting worker/

async function engineLog(container: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', container])
  return `${stdout}${stderr}`
}

/** The outputs that report what the stages found (not where files went, nor the cache). */
function results(outputs: Record<string, string>): Record<string, string> {
  const measured = ['coverage', 'tests-passed', 'tests-failed', 'tests-skipped', 'lint-findings', 'vulnerabilities']
  return Object.fromEntries(Object.entries(outputs).filter(([name]) => measured.includes(name)))
}

/** The step's output, kept for a look after a failure: $TMPDIR/gda-e2e-logs/<name>.log. */
async function keepLog(name: string, text: string): Promise<void> {
  const dir = path.join(tmpdir(), 'gda-e2e-logs')
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, `${name.replace(/\W+/g, '-')}.log`), text)
}

/** The engine's addresses on Docker's networks: only its own requests in the registry's log count, other engines may share the registry. */
async function engineAddresses(container: string): Promise<string[]> {
  const { stdout } = await run('docker', [
    'inspect',
    '-f',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
    container
  ])
  return stdout.trim().split(/\s+/).filter(Boolean)
}

const hello = path.join(repoRoot, 'examples', 'hello')
const newOutput = () => mkdtemp(path.join(tmpdir(), 'gda-e2e-out-'))

interface Case {
  stage: string
  /** Execs that must run cold (end DONE) and come back warm without running. */
  work: RegExp[]
  /** Images (registry repositories) the cold job pulls and the warm one must not pull again. */
  images: string[]
  /** Execs that run again warm, and why. */
  rerunsWarm?: { exec: RegExp; why: string }
}

const cases: Case[] = [
  { stage: 'lint', work: [/golangci-lint run/], images: ['golangci/golangci-lint'] },
  {
    stage: 'image',
    work: [/go build .*hello_linux_arm64/],
    images: ['gcr.io/distroless/static-debian12', 'library/golang']
  },
  {
    stage: 'scan',
    work: [/go build/, /image --download-db-only/, /image --input .* --scanners vuln/],
    images: ['aquasec/trivy', 'gcr.io/distroless/static-debian12', 'library/golang'],
    // Measured: the engine builds Container.asTarball anew in each session, so the scan that reads
    // it runs again (about a second, on the database the restored state kept: no download).
    rerunsWarm: {
      exec: /image --input .* --scanners vuln/,
      why: 'reads a tarball the engine exports anew in each session'
    }
  },
  // build and test each on their own took two more cold runs (4 minutes of CI) for what this one shows of both.
  {
    stage: 'build,test',
    work: [/go mod download/, /go build .*hello_linux_arm64/, /go test/],
    images: ['library/golang']
  }
]

describe.each(cases)('stage $stage, cold then warm on a new runner', ({ stage, work, images, rerunsWarm }) => {
  let world: RealWorld
  // Each case has a cache service of its own: the cold job finds no entry, not even another case's.
  beforeAll(async () => {
    world = await startRealWorld(`cache-${stage.replace(',', '-')}`)
  })
  afterAll(async () => {
    await world?.close()
  })

  test('restored, not wiped; the steps cached and the images not pulled again', async () => {
    const inputs = {
      ...world.inputs,
      stage,
      source: hello,
      platforms: 'linux/amd64,linux/arm64',
      'cache-key': `e2e-${process.pid}`
    }

    const registryLogFile = path.join(world.description.world, 'registry', 'registry.log')
    const coldOffset = (await stat(registryLogFile)).size
    const cold = await world.newJob()
    const coldMain = await cold.runMain({ ...inputs, output: await newOutput() })
    expect(coldMain.outputs['cache-hit']).toBe('false')
    const engine = engineOf(coldMain)
    const coldAddresses = await engineAddresses(engine)
    // Cold, the engine pulled the stage's images from the registry.
    expect(pulledRepositories(await registryLog(world.description, coldOffset), coldAddresses)).toEqual(
      expect.arrayContaining(images)
    )
    expect(await engineLog(engine)).not.toMatch(WIPE)
    const coldPost = await cold.runPost()
    expectPassed(coldPost)
    expect(world.cache.entries().length).toBeGreaterThan(0)
    // The engine closed its state itself: the marker it writes at shutdown is set.
    expect(await cleanShutdownMarker(world, engine)).toBe('1')

    // A new runner: nothing of the engine is left on the daemon.
    await run('docker', ['volume', 'rm', engine])
    const registryOffset = (await stat(registryLogFile)).size

    const warm = await world.newJob()
    const warmMain = await warm.runMain({ ...inputs, output: await newOutput() })
    await keepLog(`${stage}-cold-main`, coldMain.stdout)
    await keepLog(`${stage}-warm-main`, warmMain.stdout)
    const warmAddresses = await engineAddresses(engineOf(warmMain))
    expect(warmMain.outputs['cache-hit']).toBe('true')
    expect(Number(warmMain.outputs['cache-size'])).toBeGreaterThan(0)
    expect(await engineLog(engineOf(warmMain))).not.toMatch(WIPE)
    // Each stage's own outcome is the cold one's (the scan fails on the planted advisory both times).
    expect(warmMain.exitCode).toBe(coldMain.exitCode)
    expect(results(warmMain.outputs)).toEqual(results(coldMain.outputs))

    // The engine's own progress: cold, the work ran; warm, it came back from the restored state, so
    // no exec of it ran again (a cached call ends CACHED, or is not printed at all).
    for (const command of work) {
      expect({ command: String(command), cold: execOutcomes(coldMain.stdout, command) }).toEqual({
        command: String(command),
        cold: expect.arrayContaining(['DONE'])
      })
    }
    const ranWarm = execOutcomes(warmMain.stdout, /./).filter(outcome => outcome !== 'CACHED')
    const mayRerun = rerunsWarm
      ? execOutcomes(warmMain.stdout, rerunsWarm.exec).filter(outcome => outcome !== 'CACHED')
      : []
    expect({ ranWarm: ranWarm.length, mayRerun: mayRerun.length, why: rerunsWarm?.why }).toEqual({
      ranWarm: mayRerun.length,
      mayRerun: mayRerun.length,
      why: rerunsWarm?.why
    })
    // The registry's access log: the warm engine fetched no layer of any image again.
    expect(pulledRepositories(await registryLog(world.description, registryOffset), warmAddresses)).toEqual([])
    expectPassed(await warm.runPost())
    await run('docker', ['volume', 'rm', engine]).catch(() => undefined)
  })
})

describe('an engine that did not stop cleanly', () => {
  let world: RealWorld
  beforeAll(async () => {
    world = await startRealWorld('cache-killed')
  })
  afterAll(async () => {
    await world?.close()
  })

  test('killed: post saves nothing and says why', async () => {
    const job = await world.newJob()
    const main = await job.runMain({
      ...world.inputs,
      stage: 'build',
      source: hello,
      platforms: 'linux/amd64',
      'cache-key': `killed-${process.pid}`,
      output: await newOutput()
    })
    expectPassed(main)
    const engine = engineOf(main)
    await run('docker', ['kill', engine])
    const post = await job.runPost()
    expectPassed(post)
    expect(world.cache.entries()).toEqual([])
    expect(post.stdout).toMatch(/::warning::The engine did not shut down cleanly \(.*\): its state is not saved/)
    await run('docker', ['volume', 'rm', engine]).catch(() => undefined)
  })
})
