// The real-engine part of `npm run bench`: the committed bundle on the real Dagger engine of the
// e2e world (`npm run e2e:setup`), cold against warm in one run. A cold job runs `build,test`,
// post stops the engine and saves its state to the loopback cache service; the volume is then
// removed, as on a new runner, and a warm job restores the state and runs the same stages. Then
// main's own overhead: a tool-cache hit and no restore, from the step's start to the engine's
// first answer, set against the engine's own start-up.
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { StepRun } from '../__tests__/support/runner.js'
import { readWorld, repoRoot, run, startRealWorld, WORLD_DIR, type RealJob } from '../e2e/support/world.js'
import { expectOk, seconds, timed } from './bench-steps.js'

type Figures = Record<string, number | string>

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
/** Goal of the issue: a warm run, restore included, at most a quarter of the cold one. */
const WARM_GOAL = 0.25

/** A duration as the summary prints it ("850 ms", "12.3 s", "2 m 05 s"), in seconds. */
function parseDuration(text: string): number {
  const minutes = /^(\d+) m (\d+) s$/.exec(text)
  if (minutes) return Number(minutes[1]) * 60 + Number(minutes[2])
  const [value, unit] = text.split(' ')
  return Number(value) / (unit === 'ms' ? 1000 : 1)
}

/** "Restored 1.2 GiB … in 3.4 s." and "Saved 1.2 GiB … in 5.6 s" from the job summaries. */
function summaryTransfer(summary: string, verb: 'Restored' | 'Saved'): { size: string; seconds: number } | undefined {
  const match = new RegExp(`${verb} ([\\d.]+ [KMGT]?i?B)[^\\n]*? in (\\d+ m \\d+ s|[\\d.]+ m?s)`).exec(summary)
  return match ? { size: match[1], seconds: parseDuration(match[2]) } : undefined
}

/** Bytes and files in the engine's state volume, read by the world's helper image. */
async function stateSize(volume: string, helperImage: string): Promise<{ bytes: number; files: number }> {
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--volume',
    `${volume}:/state:ro`,
    helperImage,
    'sh',
    '-c',
    'du -sb /state | cut -f1; find /state | wc -l'
  ])
  const [bytes, files] = stdout.trim().split('\n').map(Number)
  return { bytes, files }
}

/** When the engine first answered: the first line of the engine's own progress in main's output. */
function firstAnswerMs(step: StepRun): number | undefined {
  return step.stdoutTimeline.find(piece => /^\s*\d+\s*: /m.test(piece.text))?.atMs
}

/** The engine's own start-up: from the container's start to its "running server on …engine.sock". */
async function engineStartupMs(container: string): Promise<number> {
  const { stdout: started } = await run('docker', ['inspect', '-f', '{{.State.StartedAt}}', container])
  const { stdout, stderr } = await run('docker', ['logs', '--timestamps', container])
  const serving = `${stdout}${stderr}`.split('\n').find(line => /running server on \S*engine\.sock/.test(line))
  if (!serving) throw new Error(`engine ${container} never logged that it serves`)
  return Date.parse(serving.split(' ')[0]) - Date.parse(started.trim())
}

interface Module {
  label: string
  source: string
  stages: string
}

const MODULES: Module[] = [
  { label: 'examples/hello', source: path.join(repoRoot, 'examples', 'hello'), stages: 'build,test' },
  // Real dependencies (a router, cobra, zap, the Prometheus client): module downloads and their compile.
  { label: 'examples/service', source: path.join(repoRoot, 'examples', 'service'), stages: 'build,test' }
]

async function coldWarm(module: Module): Promise<Figures> {
  const world = await startRealWorld(`bench-${module.label.replace(/\W+/g, '-')}`)
  const newOutput = () => mkdtemp(path.join(tmpdir(), 'gda-bench-out-'))
  const inputs = {
    ...world.inputs,
    stage: module.stages,
    source: module.source,
    platforms: 'linux/amd64',
    'cache-key': `bench-${process.pid}`
  }
  try {
    const step = async (job: RealJob, what: string) => {
      const [main, mainMs] = await timed(async () => job.runMain({ ...inputs, output: await newOutput() }))
      expectOk(main, `${what} main`)
      const [post, postMs] = await timed(() => job.runPost())
      expectOk(post, `${what} post`)
      return { main, mainMs, post, postMs }
    }
    const cold = await step(await world.newJob(), 'cold')
    const volume = cold.main.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST.replace('docker-container://', '')
    const state = await stateSize(volume, world.description.helperImage)
    await run('docker', ['volume', 'rm', volume])

    const warmJob = await world.newJob()
    const warm = await step(warmJob, 'warm')
    if (warm.main.outputs['cache-hit'] !== 'true')
      throw new Error(`the warm job did not restore (cache-hit ${warm.main.outputs['cache-hit']})`)
    const saved = summaryTransfer(cold.post.summary, 'Saved')
    const restored = summaryTransfer(warm.main.summary, 'Restored')

    // Main's own overhead: the same runner (the CLI now in its tool cache), nothing to restore (the
    // warm job's state is still on the daemon), from the step's start to the engine's first answer.
    const [overheadMain] = await timed(() => warmJob.runMain({ ...inputs, cache: 'false', output: tmpdir() }))
    expectOk(overheadMain, 'overhead main')
    const firstAnswer = firstAnswerMs(overheadMain)
    const startup = await engineStartupMs(volume)
    expectOk(await warmJob.runPost(), 'overhead post')

    const coldJob = cold.mainMs + cold.postMs
    const warmJobMs = warm.mainMs + warm.postMs
    return {
      stages: module.stages,
      'cold main s': seconds(cold.mainMs),
      'warm main s (restore included)': seconds(warm.mainMs),
      'warm / cold (main)': ratio(warm.mainMs, cold.mainMs),
      'cold job s (main + post)': seconds(coldJob),
      'warm job s (main + post)': seconds(warmJobMs),
      'warm / cold (job)': ratio(warmJobMs, coldJob),
      'goal warm / cold': WARM_GOAL,
      'state MiB after the cold run': Math.round(state.bytes / 2 ** 20),
      'state files after the cold run': state.files,
      'save s (cold post)': saved?.seconds ?? 'not in the summary',
      'saved (compressed)': saved?.size ?? '–',
      'restore s (warm main)': restored?.seconds ?? 'not in the summary',
      'restored (compressed)': restored?.size ?? '–',
      'main to first engine answer s (tool-cache hit, no restore)':
        firstAnswer === undefined ? 'no progress seen' : seconds(firstAnswer),
      "engine's own start-up s": seconds(startup),
      'overhead beyond the engine start-up s (goal < 2)':
        firstAnswer === undefined ? '–' : seconds(firstAnswer - startup)
    }
  } finally {
    await world.close()
  }
}

export interface RealSection {
  name: string
  run: () => Promise<Figures>
}

export const REAL_SECTIONS: RealSection[] = MODULES.map(module => ({
  name: `real engine: ${module.stages} on ${module.label}, cold then warm on a new runner`,
  run: async () => {
    if (!existsSync(path.join(WORLD_DIR, 'world.json')))
      return { skipped: `no real-engine world at ${WORLD_DIR}: run npm run e2e:setup` }
    await readWorld()
    return coldWarm(module)
  }
}))
