// `npm run bench`: measures the engine-state store on a synthetic state (>= 1 GiB, >= 50,000 files)
// against the loopback v2 cache service, side by side with the floor (tar | zstd -T0 in a helper
// container) and the peer (the real @actions/cache saving the whole directory as one tarball);
// then a warm save and restore after a 5% change, the post step with nothing changed, and the
// committed bundles as the runner executes them: main's overhead around the pipeline, and post's
// start-up; last, the real engine cold against warm (scripts/bench-real.ts). The cache service
// and every state operation run in processes of their own, so each peak memory is the store's
// alone. Prints a table and writes bench-results.json.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import type { RestoreResult, SaveResult } from '../src/engine-state/store.js'
import type { PhaseSpan } from '../src/engine-state/phases.js'
import { SDK_CLI_VERSION } from '../src/dagger-cli/install.js'
import {
  dockerWrapperEnv,
  ensureStandInImages,
  removeTestEngines,
  removeVolumes,
  STAND_IN_IMAGE,
  TOOLBOX_IMAGE
} from '../__tests__/support/docker.js'
import { startDownloadServer, writeFakeReleases } from '../__tests__/support/download-server.js'
import { startEngineSession } from '../__tests__/support/engine-session.js'
import { answerTools } from '../__tests__/support/pipeline-session.js'
import { repoRoot, RunnerJob, type StepRun } from '../__tests__/support/runner.js'
import { startCacheServerProcess, type CacheServerProcess } from './bench-cache-server.js'
import { runStoreOperation, type StoreOutcome, type StoreRequest } from './bench-store.js'
import { REAL_SECTIONS } from './bench-real.js'
import { expectOk, seconds, timed } from './bench-steps.js'

const run = promisify(execFile)
// The test suite's marker, so its cleanup also finds what an interrupted bench left behind.
const MARKER = `gdatest-bench-${process.pid}`
const SNAPSHOTS = 500
const FILES_PER_SNAPSHOT = 100
const BLOBS = 10
const BLOB_BYTES = 64 * 1024 * 1024
const MEAN_FILE_BYTES = 9 * 1024
const POST_STARTUP_RUNS = 5
/** The floor's compressed archive, relative to the bench's temp dir, for the transfer section. */
const TRANSFER_FILE = path.join('transfer', 'state.tzst')

type Figures = Record<string, number | string>
interface Context {
  server: CacheServerProcess
  tempDir: string
  volumes: string[]
  results: Record<string, Figures>
  stateBytes: number
  stateFiles: number
}
interface Section {
  name: string
  run: (ctx: Context) => Promise<Figures>
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20)

async function newVolume(ctx: Context, label: string): Promise<string> {
  const name = `${MARKER}-${label}`
  await run('docker', ['volume', 'create', name])
  ctx.volumes.push(name)
  return name
}

function docker(args: string[], input?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'inherit'] })
    if (input && child.stdin) input.pipe(child.stdin)
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`docker ${args[0]} exited ${code}`))))
  })
}

// ---- the synthetic state: a ustar stream generated here, extracted in a helper container ----

/**
 * About half compressible, like a real state (compressed layer blobs beside plain files), and
 * never repeating across the state: a repeated pool would let zstd's long-distance matching
 * (which @actions/cache turns on) shrink it many times over, which no real state allows.
 */
function fileContent(size: number, serial: number): Buffer {
  const content = randomBytes(size)
  for (let offset = 4096; offset < size; offset += 8192) {
    const line = `func handler${serial}_${offset}(w http.ResponseWriter, r *http.Request) { log.Println(r.URL) }\n`
    content.write(line.repeat(Math.ceil(4096 / line.length)), offset, Math.min(4096, size - offset))
  }
  return content
}

function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  const header = Buffer.alloc(512)
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0')
  header.write(name, 0, 100)
  header.write(octal(type === '5' ? 0o755 : 0o644, 8), 100)
  header.write(octal(0, 8), 108)
  header.write(octal(0, 8), 116)
  header.write(octal(size, 12), 124)
  header.write(octal(1_700_000_000, 12), 136)
  header.write(' '.repeat(8), 148)
  header.write(type, 156)
  header.write('ustar\u000000', 257)
  const sum = header.reduce((a, b) => a + b, 0)
  header.write(`${octal(sum, 7)}\0`, 148)
  return header
}

function* stateTar(ctx: Context, snapshotIds: number[], withBlobsAndDbs: boolean): Generator<Buffer> {
  const file = function* (name: string, size: number) {
    yield tarHeader(name, size, '0')
    yield fileContent(size, ctx.stateFiles)
    if (size % 512) yield Buffer.alloc(512 - (size % 512))
    ctx.stateBytes += size
    ctx.stateFiles++
  }
  for (const dir of [
    'worker/',
    'worker/snapshots/',
    'worker/snapshots/snapshots/',
    'worker/content/',
    'worker/content/blobs/',
    'worker/content/blobs/sha256/'
  ]) {
    yield tarHeader(dir, 0, '5')
  }
  for (const id of snapshotIds) {
    yield tarHeader(`worker/snapshots/snapshots/${id}/`, 0, '5')
    yield tarHeader(`worker/snapshots/snapshots/${id}/fs/`, 0, '5')
    for (let f = 0; f < FILES_PER_SNAPSHOT; f++) {
      const size = Math.floor(MEAN_FILE_BYTES * (0.2 + ((f * 7919 + id * 104729) % 1000) / 625))
      yield* file(`worker/snapshots/snapshots/${id}/fs/f${f}`, size)
    }
  }
  if (withBlobsAndDbs) {
    for (let b = 0; b < BLOBS; b++)
      yield* file(`worker/content/blobs/sha256/${b.toString(16).padStart(64, '0')}`, BLOB_BYTES)
    yield* file('worker/metadata_v2.db', 16 * 1024 * 1024)
    yield* file('dagql-cache.db', 8 * 1024 * 1024)
  }
  yield Buffer.alloc(1024)
}

async function populate(ctx: Context, volume: string, snapshotIds: number[], withBlobsAndDbs: boolean): Promise<void> {
  await docker(
    ['run', '--rm', '-i', '-v', `${volume}:/var/lib/dagger`, TOOLBOX_IMAGE, 'tar', '-x', '-C', '/var/lib/dagger'],
    Readable.from(stateTar(ctx, snapshotIds, withBlobsAndDbs))
  )
}

// ---- state operations, each in a process of its own ----

/**
 * Flushes dirty pages before each timed operation: the earlier ones' writes would otherwise be
 * written back during the next and bill it for them.
 */
const settle = () => run('sync')

let operations = 0
async function storeOperation<T>(ctx: Context, request: StoreRequest): Promise<StoreOutcome<T>> {
  const base = path.join(ctx.tempDir, 'ops', `${++operations}-${request.op}`)
  await mkdir(path.dirname(base), { recursive: true })
  const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.server.env, RUNNER_TEMP: ctx.tempDir }
  for (const [name, value] of Object.entries(ctx.server.env)) if (value === undefined) delete env[name]
  await settle()
  const labels = new Map([
    [ctx.server.pid, 'cache service (node)'],
    [process.pid, 'bench (node)']
  ])
  return runStoreOperation<T>(
    request,
    env,
    { request: `${base}.request.json`, outcome: `${base}.outcome.json`, log: `${base}.log` },
    labels
  )
}

/** Per phase: busy seconds summed over parts, and the window from its first start to its last end. */
function phaseFigures(prefix: string, phases: PhaseSpan[]): Figures {
  const byPhase = new Map<string, PhaseSpan[]>()
  for (const span of phases) byPhase.set(span.phase, [...(byPhase.get(span.phase) ?? []), span])
  const figures: Figures = {}
  for (const [name, spans] of byPhase) {
    const busy = spans.reduce((sum, span) => sum + span.end - span.start, 0)
    const from = Math.min(...spans.map(span => span.start))
    const to = Math.max(...spans.map(span => span.end))
    figures[`${prefix} ${name} (x${spans.length}): busy s / window`] =
      `${seconds(busy)}  [${seconds(from)}-${seconds(to)}]`
  }
  return figures
}

const memoryFigures = (label: string, outcome: StoreOutcome) => ({
  [`${label} peak RSS MiB: store process / its children`]: `${Math.round(outcome.selfPeakKiB / 1024)} / ${Math.round(outcome.childrenPeakKiB / 1024)}`,
  [`${label} machine CPU busy % (2 cores, all processes)`]: outcome.machineBusyPercent,
  [`${label} CPU s by command`]: Object.entries(outcome.cpuSeconds)
    .slice(0, 8)
    .map(([comm, s]) => `${comm} ${s}`)
    .join(', ')
})

// ---- sections ----

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
let sourceVolume = ''
let restoredVolume = ''
let restored: { fingerprint: string; manifest?: RestoreResult['manifest'] } | undefined
let fullSave: { ms: number; bytes: number } = { ms: 0, bytes: 0 }

const storeOptions = (ctx: Context, volume: string, runId: string) => ({
  volume,
  helperImage: TOOLBOX_IMAGE,
  engineVersion: 'v0.21.8',
  scope: 'bench',
  tempDir: ctx.tempDir,
  runId,
  runAttempt: '1'
})

async function save(ctx: Context, volume: string, runId: string, previous = restored) {
  await ctx.server.resetStats()
  const outcome = await storeOperation<SaveResult>(ctx, {
    op: 'save',
    options: { ...storeOptions(ctx, volume, runId), restored: previous }
  })
  return { outcome, uploaded: (await ctx.server.stats()).bytesUploaded }
}

async function restore(ctx: Context, volume: string, runId: string) {
  const outcome = await storeOperation<RestoreResult>(ctx, { op: 'restore', options: storeOptions(ctx, volume, runId) })
  if (outcome.result.cacheHit !== 'true') throw new Error('bench restore missed')
  return outcome
}

export const SECTIONS: Section[] = [
  {
    name: 'synthetic state',
    run: async ctx => {
      sourceVolume = await newVolume(ctx, 'source')
      const [, ms] = await timed(() => populate(ctx, sourceVolume, range(1, SNAPSHOTS), true))
      return { files: ctx.stateFiles, bytes: ctx.stateBytes, MiB: mib(ctx.stateBytes), 'create s': seconds(ms) }
    }
  },
  {
    name: 'store: full save + restore (loopback v2)',
    run: async ctx => {
      const { outcome: saved, uploaded } = await save(ctx, sourceVolume, '1', undefined)
      if (!saved.result.saved) throw new Error(`bench save failed: ${saved.result.reason}`)
      fullSave = { ms: saved.ms, bytes: uploaded }
      restoredVolume = await newVolume(ctx, 'restored')
      const loaded = await restore(ctx, restoredVolume, '2')
      restored = { fingerprint: loaded.result.fingerprint, manifest: loaded.result.manifest }
      return {
        'save s': seconds(saved.ms),
        'restore s': seconds(loaded.ms),
        'round trip s': seconds(saved.ms + loaded.ms),
        parts: saved.result.partsUploaded,
        'uploaded MiB (compressed)': mib(uploaded),
        ...memoryFigures('save', saved),
        ...memoryFigures('restore', loaded),
        ...phaseFigures('save', saved.phases),
        ...phaseFigures('restore', loaded.phases)
      }
    }
  },
  {
    name: 'floor: tar | zstd -T0 and back, in a helper container',
    run: async ctx => {
      const target = await newVolume(ctx, 'floor')
      const id = (
        await run('docker', [
          'run',
          '-d',
          '--rm',
          '-v',
          `${sourceVolume}:/src`,
          '-v',
          `${target}:/dst`,
          TOOLBOX_IMAGE,
          'sleep',
          '3600'
        ])
      ).stdout.trim()
      try {
        await settle()
        const [, saveMs] = await timed(() =>
          run('docker', ['exec', id, 'sh', '-c', 'tar -C /src -c . | zstd -T0 -q > /tmp/state.tzst'])
        )
        await settle()
        const [, restoreMs] = await timed(() =>
          run('docker', ['exec', id, 'sh', '-c', 'zstd -d -c -q /tmp/state.tzst | tar -C /dst -x'])
        )
        const size = (await run('docker', ['exec', id, 'stat', '-c', '%s', '/tmp/state.tzst'])).stdout.trim()
        // The transfer section moves this very archive through @actions/cache.
        await mkdir(path.join(ctx.tempDir, 'transfer'), { recursive: true })
        await run('docker', ['cp', `${id}:/tmp/state.tzst`, path.join(ctx.tempDir, TRANSFER_FILE)])
        return {
          'save s': seconds(saveMs),
          'restore s': seconds(restoreMs),
          'round trip s': seconds(saveMs + restoreMs),
          'archive MiB': mib(Number(size))
        }
      } finally {
        await run('docker', ['rm', '-f', id])
      }
    }
  },
  {
    name: 'peer: @actions/cache on the whole directory (host copy)',
    run: async ctx => {
      const dir = path.join('peer', 'state')
      const hostDir = path.join(ctx.tempDir, dir)
      await mkdir(hostDir, { recursive: true })
      await new Promise<void>((resolve, reject) => {
        const out = spawn(
          'docker',
          ['run', '--rm', '-v', `${sourceVolume}:/src`, TOOLBOX_IMAGE, 'tar', '-C', '/src', '-c', '.'],
          { stdio: ['ignore', 'pipe', 'inherit'] }
        )
        const into = spawn('tar', ['-x', '-C', hostDir], { stdio: ['pipe', 'ignore', 'inherit'] })
        out.stdout.pipe(into.stdin)
        into.on('close', code => (code === 0 ? resolve() : reject(new Error(`host tar exited ${code}`))))
      })
      const key = `bench-peer-${process.pid}`
      await ctx.server.resetStats()
      const saved = await storeOperation<number>(ctx, { op: 'peer-save', dir, key, tempDir: ctx.tempDir })
      const uploaded = (await ctx.server.stats()).bytesUploaded
      await rm(hostDir, { recursive: true, force: true })
      const loaded = await storeOperation<string | undefined>(ctx, {
        op: 'peer-restore',
        dir,
        key,
        tempDir: ctx.tempDir
      })
      if (loaded.result !== key) throw new Error('peer restore missed')
      await rm(path.join(ctx.tempDir, 'peer'), { recursive: true, force: true })
      return {
        'save s': seconds(saved.ms),
        'restore s': seconds(loaded.ms),
        'round trip s': seconds(saved.ms + loaded.ms),
        'uploaded MiB (compressed)': mib(uploaded),
        ...memoryFigures('save', saved),
        ...memoryFigures('restore', loaded)
      }
    }
  },
  {
    // What any store pays on this machine on top of the floor: the compressed bytes through
    // @actions/cache (its tar and zstd pass included) and the cache service, both ways.
    name: "transfer: the floor's archive alone through @actions/cache and back",
    run: async ctx => {
      const key = `bench-transfer-${process.pid}`
      await ctx.server.resetStats()
      const saved = await storeOperation<number>(ctx, {
        op: 'peer-save',
        dir: TRANSFER_FILE,
        key,
        tempDir: ctx.tempDir
      })
      const uploaded = (await ctx.server.stats()).bytesUploaded
      await rm(path.join(ctx.tempDir, TRANSFER_FILE))
      const loaded = await storeOperation<string | undefined>(ctx, {
        op: 'peer-restore',
        dir: TRANSFER_FILE,
        key,
        tempDir: ctx.tempDir
      })
      if (loaded.result !== key) throw new Error('transfer restore missed')
      return {
        'save s': seconds(saved.ms),
        'restore s': seconds(loaded.ms),
        'round trip s': seconds(saved.ms + loaded.ms),
        'uploaded MiB': mib(uploaded),
        ...memoryFigures('save', saved),
        ...memoryFigures('restore', loaded)
      }
    }
  },
  {
    name: 'post step, nothing changed',
    run: async ctx => {
      const { outcome, uploaded } = await save(ctx, restoredVolume, '3')
      return {
        s: seconds(outcome.ms),
        'bytes uploaded': uploaded,
        saved: String(outcome.result.saved),
        ...memoryFigures('save', outcome),
        ...phaseFigures('save', outcome.phases)
      }
    }
  },
  {
    name: 'warm round trip after changing 5% of the state',
    run: async ctx => {
      // 5% of the bytes: new snapshots, a grown database, and 5% of the snapshots removed.
      const before = ctx.stateBytes
      const added = Math.ceil(SNAPSHOTS * 0.05)
      await populate(ctx, restoredVolume, range(SNAPSHOTS + 1, added), false)
      await docker([
        'run',
        '--rm',
        '-v',
        `${restoredVolume}:/var/lib/dagger`,
        TOOLBOX_IMAGE,
        'sh',
        '-c',
        `cd /var/lib/dagger/worker && head -c 1048576 /dev/urandom >> metadata_v2.db && cd snapshots/snapshots && rm -rf ${range(1, added).join(' ')}`
      ])
      const changedBytes = ctx.stateBytes - before + 2 ** 20
      const { outcome: saved, uploaded } = await save(ctx, restoredVolume, '4')
      const target = await newVolume(ctx, 'warm-restored')
      const loaded = await restore(ctx, target, '5')
      if (loaded.result.matchedKey !== saved.result.key) throw new Error('the warm restore did not find the warm save')
      return {
        'save s': seconds(saved.ms),
        'full save s': seconds(fullSave.ms),
        'restore s': seconds(loaded.ms),
        'changed MiB': mib(changedBytes),
        'uploaded MiB': Math.round((uploaded / 2 ** 20) * 10) / 10,
        'of a full save': `${Math.round((uploaded / fullSave.bytes) * 1000) / 10}%`,
        'parts uploaded': saved.result.partsUploaded,
        'parts reused': saved.result.partsReused
      }
    }
  },
  {
    name: 'main step (committed bundle), tool-cache hit, overhead around the pipeline',
    run: async ctx => mainStepOverhead(ctx)
  },
  {
    name: 'post step (committed bundle) start-up, no engine state',
    run: async () => postStartup()
  },
  ...REAL_SECTIONS
]

// ---- the committed bundles, run as the runner runs them ----

/** The stage results main logs, e.g. "✓ build passed in 1.2 s" (or "… in 850 ms"). */
function stageSeconds(stdout: string): number {
  let total = 0
  for (const match of stdout.matchAll(/ (?:passed|failed|skipped) in ([\d.]+) (ms|s)\b/g))
    total += Number(match[1]) / (match[2] === 'ms' ? 1000 : 1)
  return total
}

async function mainStepOverhead(ctx: Context): Promise<Figures> {
  await ensureStandInImages()
  const work = path.join(ctx.tempDir, 'bundle')
  await writeFakeReleases(path.join(work, 'mirror', 'dagger'), { versions: [SDK_CLI_VERSION] })
  const mirror = await startDownloadServer(path.join(work, 'mirror'))
  const session = await startEngineSession()
  answerTools(session, {})
  const job = await RunnerJob.create()
  const inputs = {
    'dagger-base-url': `${mirror.url}/dagger`,
    'engine-image': STAND_IN_IMAGE,
    'state-helper-image': TOOLBOX_IMAGE,
    'cache-key': `${MARKER}-main`,
    'engine-stop-timeout': '30',
    stage: 'build',
    source: 'examples/hello',
    platforms: 'linux/amd64',
    output: path.join(work, 'bin')
  }
  const env = (runId: string) => {
    const vars = dockerWrapperEnv({
      ...session.env,
      GITHUB_RUN_ID: runId,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKSPACE: repoRoot
    })
    for (const [name, value] of Object.entries(ctx.server.env)) {
      if (value === undefined) delete vars[name]
      else vars[name] = value
    }
    return vars
  }
  try {
    // The first job fills the tool cache and saves a state; the engine's volume is then removed,
    // as on a fresh runner, so the measured job installs from the tool cache and restores.
    expectOk(await job.run('main', inputs, env('9001')), 'warming main')
    expectOk(await job.run('post', inputs, env('9001')), 'warming post')
    await removeTestEngines(`${MARKER}-main`)
    const requestsBefore = mirror.requests.length
    const [main, mainMs] = await timed(() => job.run('main', inputs, env('9002')))
    expectOk(main, 'main')
    const [post, postMs] = await timed(() => job.run('post', inputs, env('9002')))
    expectOk(post, 'post')
    const pipeline = stageSeconds(main.stdout)
    return {
      'main s': seconds(mainMs),
      'pipeline stages s (from the log)': pipeline,
      'overhead s (main minus stages)': seconds(mainMs - pipeline * 1000),
      'download requests (tool-cache hit: 0)': mirror.requests.length - requestsBefore,
      'cache-hit': main.outputs['cache-hit'],
      'post s (stop + save)': seconds(postMs)
    }
  } finally {
    await removeTestEngines(`${MARKER}-main`).catch(() => undefined)
    await job.remove()
    await mirror.close()
    await session.close()
  }
}

async function postStartup(): Promise<Figures> {
  const job = await RunnerJob.create()
  try {
    const times: number[] = []
    let last: StepRun | undefined
    for (let i = 0; i < POST_STARTUP_RUNS; i++) {
      const [step, ms] = await timed(() => job.run('post', {}))
      expectOk(step, 'post')
      times.push(ms)
      last = step
    }
    times.sort((a, b) => a - b)
    // Post is one file: whatever it loads is in it. The SDK and the TypeScript compiler it pulls in
    // would show as their own sources (and main's extra chunks).
    const bundle = await readFile(path.join(repoRoot, 'dist', 'post', 'index.js'), 'utf8')
    const loadsSdk = /@dagger\.io\/dagger|createSourceFile|typescriptVersion/.test(bundle)
    return {
      [`median s of ${POST_STARTUP_RUNS}`]: seconds(times[Math.floor(times.length / 2)]),
      'min s': seconds(times[0]),
      'bundle KiB': Math.round((await stat(path.join(repoRoot, 'dist', 'post', 'index.js'))).size / 1024),
      'loads the Dagger SDK or TypeScript': loadsSdk ? 'YES' : 'no',
      log: (last?.stdout.trim().split('\n').at(-1) ?? '').slice(0, 60)
    }
  } finally {
    await job.remove()
  }
}

async function main(): Promise<void> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'bench-'))
  const server = await startCacheServerProcess('v2')
  const ctx: Context = { server, tempDir, volumes: [], results: {}, stateBytes: 0, stateFiles: 0 }
  const only = process.argv.slice(2)
  try {
    for (const section of SECTIONS) {
      if (only.length && !only.some(word => section.name.includes(word))) continue
      process.stderr.write(`bench: ${section.name}...\n`)
      const [figures, ms] = await timed(() => section.run(ctx))
      ctx.results[section.name] = { ...figures, 'section s': seconds(ms) }
    }
  } finally {
    const serverPeak = await server.peakKiB().catch(() => 0)
    await server.close()
    await rm(tempDir, { recursive: true, force: true })
    await removeVolumes(ctx.volumes).catch(() => undefined)
    ctx.results['cache service process'] = { 'peak RSS MiB (not the store)': Math.round(serverPeak / 1024) }
  }
  const store = ctx.results['store: full save + restore (loopback v2)']
  const floor = ctx.results['floor: tar | zstd -T0 and back, in a helper container']
  const peer = ctx.results['peer: @actions/cache on the whole directory (host copy)']
  if (store && floor && peer) {
    const ratio = (figures: Figures) =>
      Math.round((Number(figures['round trip s']) / Number(floor['round trip s'])) * 100) / 100
    ctx.results.summary = { 'store / floor': ratio(store), 'peer / floor': ratio(peer), 'goal store / floor': 1.15 }
    const transfer = ctx.results["transfer: the floor's archive alone through @actions/cache and back"]
    if (transfer) {
      const floorAndTransfer = Number(floor['round trip s']) + Number(transfer['round trip s'])
      Object.assign(ctx.results.summary, {
        'floor + transfer s': Math.round(floorAndTransfer * 100) / 100,
        'store / (floor + transfer)': Math.round((Number(store['round trip s']) / floorAndTransfer) * 100) / 100
      })
    }
  }
  for (const [name, figures] of Object.entries(ctx.results)) {
    console.log(`\n${name}`)
    for (const [label, value] of Object.entries(figures)) console.log(`  ${label.padEnd(58)} ${value}`)
  }
  await writeFile(
    'bench-results.json',
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), results: ctx.results }, null, 2)}\n`
  )
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
