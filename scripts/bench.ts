// `npm run bench`: measures the engine-state store on a synthetic state (>= 1 GiB, >= 50,000 files)
// against the loopback v2 cache service, side by side with the floor (tar | zstd -T0 in a helper
// container) and the peer (the real @actions/cache saving the whole directory as one tarball).
// Prints a table and writes bench-results.json. Each section is one entry of SECTIONS: add more
// (main-step overhead, post start-up) by appending to it.
import * as cache from '@actions/cache'
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { restoreEngineState, saveEngineState, type Manifest } from '../src/engine/state.js'
import { applyEnv, startCacheServer, type CacheServer } from '../__tests__/support/cache-server.js'

const run = promisify(execFile)
const TOOLBOX = 'go-dagger-action-test/toolbox:latest'
const MARKER = `gdabench-${process.pid}`
const SNAPSHOTS = 500
const FILES_PER_SNAPSHOT = 100
const BLOBS = 10
const BLOB_BYTES = 64 * 1024 * 1024
const MEAN_FILE_BYTES = 9 * 1024

type Figures = Record<string, number | string>
interface Context {
  server: CacheServer
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

const seconds = (ms: number) => Math.round(ms / 10) / 100
async function timed<T>(body: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const value = await body()
  return [value, performance.now() - started]
}

async function newVolume(ctx: Context, label: string): Promise<string> {
  const name = `${MARKER}-${label}`
  await run('docker', ['volume', 'create', name])
  ctx.volumes.push(name)
  return name
}

function docker(args: string[], input?: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'inherit'] })
    if (input && child.stdin) input.pipe(child.stdin)
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`docker ${args[0]} exited ${code}`))))
  })
}

// ---- the synthetic state: a ustar stream generated here, extracted in a helper container ----

/** Semi-compressible bytes: 4 KiB blocks alternating between random and repetitive text. */
function makePool(bytes: number): Buffer {
  const pool = Buffer.alloc(bytes)
  let seed = createHash('sha256').update('bench').digest()
  for (let offset = 0; offset < bytes; offset += 4096) {
    const block = pool.subarray(offset, offset + 4096)
    if ((offset / 4096) % 2 === 0) {
      for (let i = 0; i < block.length; i += 32) {
        seed = createHash('sha256').update(seed).digest()
        seed.copy(block, i)
      }
    } else {
      block.write(`func handler${offset}(w http.ResponseWriter, r *http.Request) { log.Println(r.URL) }\n`.repeat(64))
    }
  }
  return pool
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

async function* stateTar(ctx: Context, pool: Buffer, snapshotIds: number[], extraDbBytes: number): AsyncGenerator<Buffer> {
  let cursor = 0
  const slice = (size: number) => {
    if (cursor + size > pool.length) cursor = 0
    const out = pool.subarray(cursor, cursor + size)
    cursor += size + 4096 + 512
    return out
  }
  const file = function* (name: string, size: number) {
    yield tarHeader(name, size, '0')
    yield slice(size)
    if (size % 512) yield Buffer.alloc(512 - (size % 512))
    ctx.stateBytes += size
    ctx.stateFiles++
  }
  for (const dir of ['worker/', 'worker/snapshots/', 'worker/snapshots/snapshots/', 'worker/content/', 'worker/content/blobs/', 'worker/content/blobs/sha256/']) {
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
  if (extraDbBytes > 0) {
    for (let b = 0; b < BLOBS; b++) yield* file(`worker/content/blobs/sha256/${createHash('sha256').update(`blob${b}`).digest('hex')}`, BLOB_BYTES)
    yield* file('worker/metadata_v2.db', extraDbBytes)
    yield* file('dagql-cache.db', extraDbBytes / 2)
  }
  yield Buffer.alloc(1024)
}

async function populate(ctx: Context, volume: string, snapshotIds: number[], dbBytes: number): Promise<void> {
  const { Readable } = await import('node:stream')
  const pool = makePool(96 * 1024 * 1024)
  await docker(['run', '--rm', '-i', '-v', `${volume}:/var/lib/dagger`, TOOLBOX, 'tar', '-x', '-C', '/var/lib/dagger'], Readable.from(stateTar(ctx, pool, snapshotIds, dbBytes)))
}

// ---- sections ----

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
let sourceVolume = ''
let restoredVolume = ''
let restored: { fingerprint: string; manifest?: Manifest } | undefined
let fullSaveBytes = 0

const storeOptions = (ctx: Context, volume: string, runId: string) => ({
  volume, helperImage: TOOLBOX, engineVersion: 'v0.21.8', scope: 'bench', tempDir: ctx.tempDir, runId, runAttempt: '1'
})

export const SECTIONS: Section[] = [
  {
    name: 'synthetic state',
    run: async ctx => {
      sourceVolume = await newVolume(ctx, 'source')
      const [, ms] = await timed(() => populate(ctx, sourceVolume, range(1, SNAPSHOTS), 16 * 1024 * 1024))
      return { files: ctx.stateFiles, bytes: ctx.stateBytes, 'MiB': Math.round(ctx.stateBytes / 2 ** 20), 'create s': seconds(ms) }
    }
  },
  {
    name: 'store: full save + restore (loopback v2)',
    run: async ctx => {
      ctx.server.resetStats()
      const [saved, saveMs] = await timed(() => saveEngineState(storeOptions(ctx, sourceVolume, '1')))
      if (!saved.saved) throw new Error(`bench save failed: ${saved.reason}`)
      fullSaveBytes = ctx.server.stats.bytesUploaded
      restoredVolume = await newVolume(ctx, 'restored')
      const [result, restoreMs] = await timed(() => restoreEngineState(storeOptions(ctx, restoredVolume, '2')))
      if (result.cacheHit !== 'true') throw new Error('bench restore missed')
      restored = result
      return {
        'save s': seconds(saveMs), 'restore s': seconds(restoreMs), 'round trip s': seconds(saveMs + restoreMs),
        parts: saved.partsUploaded, 'uploaded MiB (compressed)': Math.round(fullSaveBytes / 2 ** 20)
      }
    }
  },
  {
    name: 'floor: tar | zstd -T0 and back, in a helper container',
    run: async ctx => {
      const target = await newVolume(ctx, 'floor')
      const id = (await run('docker', ['run', '-d', '--rm', '-v', `${sourceVolume}:/src`, '-v', `${target}:/dst`, TOOLBOX, 'sleep', '3600'])).stdout.trim()
      try {
        const [, saveMs] = await timed(() => run('docker', ['exec', id, 'sh', '-c', 'tar -C /src -c . | zstd -T0 -q > /tmp/state.tzst']))
        const [, restoreMs] = await timed(() => run('docker', ['exec', id, 'sh', '-c', 'zstd -d -c -q /tmp/state.tzst | tar -C /dst -x']))
        const size = (await run('docker', ['exec', id, 'stat', '-c', '%s', '/tmp/state.tzst'])).stdout.trim()
        return { 'save s': seconds(saveMs), 'restore s': seconds(restoreMs), 'round trip s': seconds(saveMs + restoreMs), 'archive MiB': Math.round(Number(size) / 2 ** 20) }
      } finally {
        await run('docker', ['rm', '-f', id])
      }
    }
  },
  {
    name: 'peer: @actions/cache on the whole directory (host copy)',
    run: async ctx => {
      const dir = path.join(ctx.tempDir, 'peer', 'state')
      await mkdir(dir, { recursive: true })
      await new Promise<void>((resolve, reject) => {
        const out = spawn('docker', ['run', '--rm', '-v', `${sourceVolume}:/src`, TOOLBOX, 'tar', '-C', '/src', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] })
        const into = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'inherit'] })
        out.stdout.pipe(into.stdin)
        into.on('close', code => (code === 0 ? resolve() : reject(new Error(`host tar exited ${code}`))))
      })
      const [, saveMs] = await timed(() => cache.saveCache([dir], `bench-peer-${process.pid}`))
      await rm(dir, { recursive: true, force: true })
      const [key, restoreMs] = await timed(() => cache.restoreCache([dir], `bench-peer-${process.pid}`))
      if (!key) throw new Error('peer restore missed')
      await rm(path.join(ctx.tempDir, 'peer'), { recursive: true, force: true })
      return { 'save s': seconds(saveMs), 'restore s': seconds(restoreMs), 'round trip s': seconds(saveMs + restoreMs) }
    }
  },
  {
    name: 'post step, nothing changed',
    run: async ctx => {
      ctx.server.resetStats()
      const [saved, ms] = await timed(() => saveEngineState({ ...storeOptions(ctx, restoredVolume, '3'), restored }))
      return { 's': seconds(ms), 'bytes uploaded': ctx.server.stats.bytesUploaded, saved: String(saved.saved) }
    }
  },
  {
    name: 'warm save after changing 5% of the state',
    run: async ctx => {
      // 5% of the bytes: new snapshots, a rewritten database, and 5% of the snapshots removed.
      const before = ctx.stateBytes
      const added = Math.ceil(SNAPSHOTS * 0.05)
      await populate(ctx, restoredVolume, range(SNAPSHOTS + 1, added), 0)
      await docker(['run', '--rm', '-v', `${restoredVolume}:/var/lib/dagger`, TOOLBOX, 'sh', '-c',
        `cd /var/lib/dagger/worker && head -c 1048576 /dev/urandom >> metadata_v2.db && cd snapshots/snapshots && rm -rf ${range(1, added).join(' ')}`])
      const changedBytes = ctx.stateBytes - before
      ctx.server.resetStats()
      const [saved, ms] = await timed(() => saveEngineState({ ...storeOptions(ctx, restoredVolume, '4'), restored }))
      const uploaded = ctx.server.stats.bytesUploaded
      return {
        's': seconds(ms), 'changed MiB': Math.round(changedBytes / 2 ** 20), 'uploaded MiB': Math.round(uploaded / 2 ** 20),
        'of a full save': `${Math.round((uploaded / fullSaveBytes) * 1000) / 10}%`, 'parts uploaded': saved.partsUploaded, 'parts reused': saved.partsReused
      }
    }
  }
]

async function main(): Promise<void> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'bench-'))
  const server = await startCacheServer({ protocol: 'v2' })
  const restoreEnv = applyEnv({ ...server.env, RUNNER_TEMP: tempDir })
  const ctx: Context = { server, tempDir, volumes: [], results: {}, stateBytes: 0, stateFiles: 0 }
  try {
    for (const section of SECTIONS) {
      process.stderr.write(`bench: ${section.name}...\n`)
      ctx.results[section.name] = await section.run(ctx)
    }
  } finally {
    restoreEnv()
    await server.close()
    await rm(tempDir, { recursive: true, force: true })
    if (ctx.volumes.length) await run('docker', ['volume', 'rm', '-f', ...ctx.volumes]).catch(() => undefined)
  }
  const store = ctx.results['store: full save + restore (loopback v2)']
  const floor = ctx.results['floor: tar | zstd -T0 and back, in a helper container']
  const peer = ctx.results['peer: @actions/cache on the whole directory (host copy)']
  ctx.results.summary = {
    'store / floor': Math.round((Number(store['round trip s']) / Number(floor['round trip s'])) * 100) / 100,
    'peer / floor': Math.round((Number(peer['round trip s']) / Number(floor['round trip s'])) * 100) / 100,
    // The cache server runs in this process too, so this overstates the action's own peak.
    'peak RSS MiB (bench process incl. loopback server)': Math.round(process.resourceUsage().maxRSS / 1024)
  }
  for (const [name, figures] of Object.entries(ctx.results)) {
    console.log(`\n${name}`)
    for (const [label, value] of Object.entries(figures)) console.log(`  ${label.padEnd(52)} ${value}`)
  }
  await writeFile('bench-results.json', `${JSON.stringify({ node: process.version, at: new Date().toISOString(), results: ctx.results }, null, 2)}\n`)
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
