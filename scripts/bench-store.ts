// One state operation of `npm run bench` in a process of its own, as the action runs it (main
// restores, post saves): its peak memory is the store's alone. `runStoreOperation` starts it and
// samples the memory of the processes it spawns (the Docker CLI, tar, zstd) alongside.
import * as cache from '@actions/cache'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  restoreEngineState,
  saveEngineState,
  type RestoreOptions,
  type SaveOptions
} from '../src/engine-state/store.js'
import { collectStatePhases, type PhaseSpan } from '../src/engine-state/phases.js'

export type StoreRequest =
  | { op: 'save'; options: SaveOptions }
  | { op: 'restore'; options: RestoreOptions }
  | { op: 'peer-save' | 'peer-restore'; dir: string; key: string; tempDir: string }

export interface StoreOutcome<T = unknown> {
  result: T
  /** Milliseconds of the operation itself (the process's start-up is measured elsewhere). */
  ms: number
  phases: PhaseSpan[]
  /** The operation's process: its own peak RSS (VmHWM), KiB. */
  selfPeakKiB: number
  /** The processes it spawned, sampled every 200 ms: the peak of their summed RSS, KiB. */
  childrenPeakKiB: number
  /** How busy the machine's CPUs were while the operation ran (everything: Docker, the cache service...), percent. */
  machineBusyPercent: number
  /** CPU seconds per command name over the whole machine while the operation ran. */
  cpuSeconds: Record<string, number>
}

// Sampling reads every process's /proc entry: often enough to catch a part's zstd, rarely enough
// not to load the machine being measured.
const SAMPLE_MS = 200

export async function runStoreOperation<T>(
  request: StoreRequest,
  env: NodeJS.ProcessEnv,
  files: { request: string; outcome: string; log: string },
  labels: ReadonlyMap<number, string> = new Map()
): Promise<StoreOutcome<T>> {
  await writeFile(files.request, JSON.stringify(request))
  const log = openSync(files.log, 'a')
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each operation's process there (node refuses --cpu-prof in NODE_OPTIONS).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), files.request, files.outcome],
    {
      env,
      stdio: ['ignore', log, log]
    }
  )
  const cpuBefore = await machineCpu()
  const processes = new ProcessSampler(child.pid!, labels)
  processes.sample()
  const sampler = setInterval(() => processes.sample(), SAMPLE_MS)
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    if (code !== 0) throw new Error(`bench store operation ${request.op} exited with ${code}; see ${files.log}`)
  } finally {
    clearInterval(sampler)
    processes.sample()
    closeSync(log)
  }
  const cpuAfter = await machineCpu()
  const machineBusyPercent = Math.round(((cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total)) * 100)
  const outcome = JSON.parse(await readFile(files.outcome, 'utf8')) as Omit<
    StoreOutcome<T>,
    'childrenPeakKiB' | 'machineBusyPercent' | 'cpuSeconds'
  >
  return {
    ...outcome,
    childrenPeakKiB: processes.childrenPeakKiB,
    machineBusyPercent,
    cpuSeconds: processes.cpuSeconds()
  }
}

/** Jiffies of all CPUs from /proc/stat: busy (all but idle and iowait) and total. */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
  const total = fields.reduce((sum, value) => sum + value, 0)
  return { busy: total - fields[3] - fields[4], total }
}

/**
 * Samples every process on the machine: the summed RSS of those below the operation's process
 * (not itself, nor tsx's compiler), and the CPU seconds each command name used meanwhile
 * (processes that end between two samples lose their last 200 ms).
 */
class ProcessSampler {
  childrenPeakKiB = 0
  private readonly cpu = new Map<number, { comm: string; first: number; last: number }>()
  private samples = 0

  constructor(
    private readonly pid: number,
    /** Names for known processes (the cache service...), else their command name. */
    private readonly labels: ReadonlyMap<number, string>
  ) {}

  sample(): void {
    const parentOf = new Map<number, number>()
    const rssOf = new Map<number, number>()
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        const pid = Number(name)
        const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/^kworker\/.*/, 'kworker')
        const comm = pid === this.pid ? 'store (node)' : (this.labels.get(pid) ?? command)
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        const ticks = Number(fields[11]) + Number(fields[12])
        const seen = this.cpu.get(pid)
        if (seen && seen.comm === comm) seen.last = ticks
        else this.cpu.set(pid, { comm, first: this.samples === 0 ? ticks : 0, last: ticks })
        if (comm === 'esbuild') continue
        parentOf.set(pid, Number(fields[1]))
        rssOf.set(pid, (Number(fields[21]) * 4096) / 1024)
      } catch {
        // The process ended meanwhile.
      }
    }
    this.samples++
    let total = 0
    for (const [candidate, rss] of rssOf) {
      for (let p = parentOf.get(candidate); p !== undefined && p > 1; p = parentOf.get(p)) {
        if (p === this.pid) {
          total += rss
          break
        }
      }
    }
    this.childrenPeakKiB = Math.max(this.childrenPeakKiB, total)
  }

  /** CPU seconds per command name, busiest first (USER_HZ is 100 on Linux). */
  cpuSeconds(): Record<string, number> {
    const byComm = new Map<string, number>()
    for (const { comm, first, last } of this.cpu.values())
      byComm.set(comm, (byComm.get(comm) ?? 0) + (last - first) / 100)
    return Object.fromEntries(
      [...byComm]
        .filter(([, s]) => s >= 0.05)
        .sort((a, b) => b[1] - a[1])
        .map(([c, s]) => [c, Math.round(s * 100) / 100])
    )
  }
}

async function selfPeakKiB(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

async function perform(request: StoreRequest): Promise<unknown> {
  switch (request.op) {
    case 'save':
      return saveEngineState(request.options)
    case 'restore':
      return restoreEngineState(request.options)
    case 'peer-save':
    case 'peer-restore': {
      // What other actions do: the whole directory as one entry, paths relative to the temp dir.
      process.chdir(request.tempDir)
      process.env.GITHUB_WORKSPACE = request.tempDir
      return request.op === 'peer-save'
        ? cache.saveCache([request.dir], request.key)
        : cache.restoreCache([request.dir], request.key)
    }
  }
}

async function main(requestFile: string, outcomeFile: string): Promise<void> {
  const request = JSON.parse(await readFile(requestFile, 'utf8')) as StoreRequest
  const phases: PhaseSpan[] = []
  collectStatePhases(phases)
  const started = performance.now()
  const result = await perform(request)
  const ms = performance.now() - started
  const relative = phases.map(span => ({ ...span, start: span.start - started, end: span.end - started }))
  await writeFile(outcomeFile, JSON.stringify({ result, ms, phases: relative, selfPeakKiB: await selfPeakKiB() }))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv[2], process.argv[3])
