// The engine's cache across runners, with the real engine: a cold job saves the state that the
// engine closed cleanly; on a new runner (no volume, no container) the next job restores it, the
// engine starts on it without wiping it, and the unchanged steps come back cached.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { engineOf } from '../__tests__/support/action-world.js'
import { execOutcomes, expectPassed, repoRoot, run, startRealWorld, type RealWorld } from './support/world.js'

let world: RealWorld
const scope = `e2e-cache-${process.pid}`

beforeAll(async () => {
  world = await startRealWorld('cache')
})

afterAll(async () => {
  await world?.close()
})

/** A value of the engine's own clean-shutdown marker in the state volume, read with the engine image's sqlite3. */
async function cleanShutdownMarker(volume: string): Promise<string> {
  const { stdout } = await run('docker', [
    'run', '--rm', '--entrypoint', 'sqlite3', '--volume', `${volume}:/var/lib/dagger:ro`, world.description.engineImage,
    // immutable: the volume is mounted read-only, and a WAL database would otherwise want its -shm file.
    'file:/var/lib/dagger/dagql-cache.db?immutable=1', "select value from meta where key = 'clean_shutdown'"
  ])
  return stdout.trim()
}

test('cold, then warm on a new runner: restored, not wiped, and the build steps cached', async () => {
  const inputs = { ...world.inputs, stage: 'build', source: path.join(repoRoot, 'examples', 'hello'), 'cache-key': scope }

  const cold = await world.newJob()
  const coldMain = await cold.runMain({ ...inputs, output: await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-')) })
  expectPassed(coldMain)
  expect(coldMain.outputs['cache-hit']).toBe('false')
  const engine = engineOf(coldMain)
  const coldPost = await cold.runPost()
  expectPassed(coldPost)
  expect(world.cache.entries().length).toBeGreaterThan(0)
  // The engine closed its state itself: the marker it writes at shutdown is set.
  expect(await cleanShutdownMarker(engine)).toBe('1')

  // A new runner: nothing of the engine is left on the daemon.
  await run('docker', ['volume', 'rm', engine])

  const warm = await world.newJob()
  const warmMain = await warm.runMain({ ...inputs, output: await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-')) })
  expectPassed(warmMain)
  expect(warmMain.outputs['cache-hit']).toBe('true')
  expect(Number(warmMain.outputs['cache-size'])).toBeGreaterThan(0)
  const { stdout: engineLog, stderr: engineErr } = await run('docker', ['logs', engineOf(warmMain)])
  expect(`${engineLog}${engineErr}`).not.toMatch(/local cache state invalid|wiping and cold-starting|resetting worker/)
  // The engine's own progress: cold, the module download and each platform's compile ran; warm, the
  // build's results came back from the restored state, so none of them ran again (a cached call ends
  // CACHED, or is not printed at all).
  const goSteps = /go (mod download|build)/
  expect(execOutcomes(coldMain.stdout, /go mod download/)).toContain('DONE')
  expect(execOutcomes(coldMain.stdout, /go build .*hello_linux_arm64/)).toContain('DONE')
  expect(execOutcomes(warmMain.stdout, goSteps).filter(outcome => outcome !== 'CACHED')).toEqual([])
  expect(warmMain.outputs.artifacts).toBeTruthy()
  expectPassed(await warm.runPost())
  await run('docker', ['volume', 'rm', engine]).catch(() => undefined)
})
