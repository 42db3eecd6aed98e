// The real @actions/cache against the loopback cache service, in both protocols: what hits, what misses,
// and for each fault whether the library throws or swallows it (warning, info or error annotation).
import * as cache from '@actions/cache'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyEnv, startCacheServer, type CacheProtocol, type CacheServer } from './support/cache-server.js'

interface Outcome<T> {
  value?: T
  error?: Error
  /** What @actions/core printed: annotations appear as `::warning::`, `::error::`. */
  output: string
}

// Every observation running at that moment sees everything printed, so concurrent calls are told apart
// by their messages ("Failed to restore" / "Failed to save").
const sinks = new Set<string[]>()
const realWrite = process.stdout.write.bind(process.stdout)

/** Runs an @actions/cache call, recording whether it threw and what it logged through @actions/core. */
async function observe<T>(action: () => Promise<T>): Promise<Outcome<T>> {
  const lines: string[] = []
  if (sinks.size === 0) {
    process.stdout.write = (chunk: string | Uint8Array) => {
      for (const sink of sinks) sink.push(chunk.toString())
      return true
    }
  }
  sinks.add(lines)
  try {
    return { value: await action(), error: undefined, output: lines.join('') }
  } catch (error) {
    return { value: undefined, error: error as Error, output: lines.join('') }
  } finally {
    sinks.delete(lines)
    if (sinks.size === 0) process.stdout.write = realWrite
  }
}

const annotations = (output: string, level: 'warning' | 'error'): string[] =>
  output.split('\n').filter(line => line.startsWith(`::${level}::`))

/** Resolves to 'pending' if the promise has not settled after `ms`. */
const settledWithin = (promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> =>
  Promise.race([
    promise.then(() => 'settled' as const),
    new Promise<'pending'>(r => setTimeout(() => r('pending'), ms))
  ])

describe.each<CacheProtocol>(['v1', 'v2'])('@actions/cache %s against the loopback cache service', protocol => {
  let server: CacheServer
  let restoreEnv: () => void
  let work: string
  let stateDir: string
  let paths: string[]
  let fingerprint: string
  let keyCounter = 0
  const newKey = (label: string): string => `state-${protocol}-${label}-${++keyCounter}`

  async function writeState(bytes: number): Promise<string> {
    await rm(stateDir, { recursive: true, force: true })
    await mkdir(join(stateDir, 'nested', 'empty'), { recursive: true })
    const blob = randomBytes(bytes)
    await writeFile(join(stateDir, 'blob.bin'), blob)
    await writeFile(join(stateDir, 'nested', 'note.txt'), `state of ${protocol}\n`)
    return createHash('sha256').update(blob).digest('hex')
  }

  async function restoredFingerprint(): Promise<string> {
    return createHash('sha256')
      .update(await readFile(join(stateDir, 'blob.bin')))
      .digest('hex')
  }

  async function saveFresh(key: string): Promise<number> {
    const saved = await observe(() => cache.saveCache(paths, key))
    expect(saved.error).toBeUndefined()
    expect(saved.value).toBeGreaterThan(0)
    return saved.value as number
  }

  beforeAll(async () => {
    server = await startCacheServer({ protocol })
    work = await mkdtemp(join(tmpdir(), `cache-client-${protocol}-`))
    stateDir = join(work, 'state')
    paths = [stateDir]
    restoreEnv = applyEnv({ ...server.env, RUNNER_TEMP: join(work, 'runner-temp') })
    fingerprint = await writeState(1 << 20)
  })

  afterEach(async () => {
    await server.clearFaults()
  })

  afterAll(async () => {
    restoreEnv()
    await server.close()
    await rm(work, { recursive: true, force: true })
  })

  test('exact hit restores the saved files', async () => {
    const key = newKey('exact')
    server.resetStats()
    await saveFresh(key)
    expect(server.entries().find(e => e.key === key)?.size).toBe(server.stats.bytesUploaded)
    await rm(stateDir, { recursive: true })

    const restored = await observe(() => cache.restoreCache(paths, key))
    expect(restored.value).toBe(key)
    expect(await restoredFingerprint()).toBe(fingerprint)
    expect(await readFile(join(stateDir, 'nested', 'note.txt'), 'utf8')).toBe(`state of ${protocol}\n`)
    expect(server.stats.bytesDownloaded).toBe(server.stats.bytesUploaded)
    expect(server.stats.requests.lookup).toBe(1)
    expect(server.stats.requests.download).toBe(1)
  })

  test('a restore key matches by prefix and the newest matching entry wins', async () => {
    const prefix = newKey('prefix')
    await saveFresh(`${prefix}-older`)
    const newest = await writeState(4096)
    await saveFresh(`${prefix}-newer`)
    await rm(stateDir, { recursive: true })

    const restored = await observe(() =>
      cache.restoreCache(paths, `${prefix}-absent`, ['no-such-prefix', `${prefix}-`])
    )
    expect(restored.value).toBe(`${prefix}-newer`)
    expect(await restoredFingerprint()).toBe(newest)
    fingerprint = await writeState(1 << 20)
  })

  test('a miss returns undefined without a warning; another version never matches', async () => {
    const key = newKey('versioned')
    await saveFresh(key)
    const miss = await observe(() => cache.restoreCache(paths, newKey('absent'), ['nothing-']))
    expect(miss).toMatchObject({ value: undefined, error: undefined })
    expect(annotations(miss.output, 'warning')).toEqual([])

    // The version hashes the path list, so the same key under other paths is a miss.
    const otherPaths = await observe(() => cache.restoreCache([join(work, 'elsewhere')], key))
    expect(otherPaths.value).toBeUndefined()
  })

  test('entries are immutable: a second save of a key is refused with an info line, not a throw', async () => {
    const key = newKey('immutable')
    await saveFresh(key)
    const again = await observe(() => cache.saveCache(paths, key))
    expect(again).toMatchObject({ value: -1, error: undefined })
    expect(again.output).toContain('Failed to save: Unable to reserve cache with key')
    expect(annotations(again.output, 'warning')).toEqual([])
    expect(server.entries().filter(e => e.key === key)).toHaveLength(1)
  })

  test('an archive larger than one upload chunk round-trips (v1 PATCH chunks, v2 staged blocks)', async () => {
    const key = newKey('large')
    const large = await writeState(130 * 1024 * 1024)
    server.resetStats()
    await saveFresh(key)
    // v1 sends 32 MiB chunks, v2 stages 64 MiB blocks above the 128 MiB single-shot limit.
    expect(server.stats.requests.upload).toBe(protocol === 'v1' ? 5 : 4)
    await rm(stateDir, { recursive: true })
    expect((await observe(() => cache.restoreCache(paths, key))).value).toBe(key)
    expect(await restoredFingerprint()).toBe(large)
    fingerprint = await writeState(1 << 20)
  })

  describe('faults never throw out of restoreCache or saveCache', () => {
    let savedKey: string
    beforeAll(async () => {
      savedKey = newKey('for-faults')
      await saveFresh(savedKey)
    })

    test('service down: restore warns and misses, save gives up without throwing', async () => {
      await server.fault({ kind: 'down' })
      const restored = await observe(() => cache.restoreCache(paths, savedKey))
      expect(restored).toMatchObject({ value: undefined, error: undefined })
      expect(annotations(restored.output, 'warning').join()).toContain('ECONNREFUSED')

      const saved = await observe(() => cache.saveCache(paths, newKey('down')))
      expect(saved).toMatchObject({ value: -1, error: undefined })
      if (protocol === 'v1') expect(annotations(saved.output, 'warning').join()).toContain('ECONNREFUSED')
      // v2 reports a failed CreateCacheEntry as "another job may be creating this cache", as info only.
      else expect(saved.output).toContain('Failed to save: Unable to reserve cache')
    })

    test('500 on every API call: restore and save fail soft', async () => {
      await server.fault({ kind: 'status', endpoint: 'lookup', status: 500 })
      await server.fault({ kind: 'status', endpoint: 'reserve', status: 500 })
      // v2 retries twirp 5xx five times with backoff; both calls run at once to pay that wait once.
      const [restored, saved] = await Promise.all([
        observe(() => cache.restoreCache(paths, savedKey)),
        observe(() => cache.saveCache(paths, newKey('500')))
      ])
      expect(restored).toMatchObject({ value: undefined, error: undefined })
      expect(annotations(restored.output, 'warning').join()).toMatch(/Failed to restore: .*500/)
      expect(saved).toMatchObject({ value: -1, error: undefined })
      expect(saved.output).toContain('Failed to save')
    })

    test('a single 503 on lookup is retried and the restore still hits', async () => {
      await server.fault({ kind: 'status', endpoint: 'lookup', status: 503, times: 1 })
      server.resetStats()
      const restored = await observe(() => cache.restoreCache(paths, savedKey))
      expect(restored.value).toBe(savedKey)
      expect(server.stats.requests.lookup).toBe(2)
    })

    test('429: restore warns and misses, save gives up without throwing', async () => {
      await server.fault({ kind: 'status', endpoint: 'lookup', status: 429 })
      await server.fault({ kind: 'status', endpoint: 'reserve', status: 429 })
      server.resetStats()
      const restored = await observe(() => cache.restoreCache(paths, savedKey))
      expect(restored).toMatchObject({ value: undefined, error: undefined })
      expect(annotations(restored.output, 'warning').join()).toMatch(/429|Rate limited/)
      expect(server.stats.requests.lookup).toBe(1) // neither protocol retries a 429

      const saved = await observe(() => cache.saveCache(paths, newKey('429')))
      expect(saved).toMatchObject({ value: -1, error: undefined })
      expect(saved.output).toContain('Failed to save: Unable to reserve cache')
    })

    // v1 keeps the reserved cacheId as its return value even when the upload then fails, so only the
    // warning (and the absent entry) tell a failed v1 save from a good one; v2 returns -1.
    const failedSaveId = (value: number | undefined): boolean => (protocol === 'v1' ? (value ?? 0) > 0 : value === -1)

    test('5xx on the archive upload: save warns, stores nothing and does not throw', async () => {
      await server.fault({ kind: 'status', endpoint: 'upload', status: 500 })
      const key = newKey('upload-500')
      const saved = await observe(() => cache.saveCache(paths, key))
      expect(saved.error).toBeUndefined()
      expect(failedSaveId(saved.value)).toBe(true)
      expect(annotations(saved.output, 'warning').join()).toContain('Failed to save')
      expect(server.entries().some(e => e.key === key)).toBe(false)
    })

    test('connection dropped mid-upload: one drop is retried, persistent drops fail soft', async () => {
      await server.fault({ kind: 'abort', endpoint: 'upload', afterBytes: 64 * 1024, times: 1 })
      const recovered = newKey('upload-drop-once')
      const once = await observe(() => cache.saveCache(paths, recovered))
      expect(once.error).toBeUndefined()
      expect(once.value).toBeGreaterThan(0)
      expect(server.entries().some(e => e.key === recovered)).toBe(true)

      await server.fault({ kind: 'abort', endpoint: 'upload', afterBytes: 64 * 1024 })
      const lost = newKey('upload-drop')
      const saved = await observe(() => cache.saveCache(paths, lost))
      expect(saved.error).toBeUndefined()
      expect(failedSaveId(saved.value)).toBe(true)
      expect(annotations(saved.output, 'warning').join()).toContain('Failed to save')
      expect(server.entries().some(e => e.key === lost)).toBe(false)
    })

    test('connection dropped mid-download: restore warns, misses and leaves no archive behind', async () => {
      await server.fault({ kind: 'abort', endpoint: 'download', afterBytes: 256 * 1024 })
      const restored = await observe(() => cache.restoreCache(paths, savedKey))
      expect(restored).toMatchObject({ value: undefined, error: undefined })
      expect(annotations(restored.output, 'warning').join()).toContain('Failed to restore')
    })

    test('download stalls mid-body: the 5 s socket timeout aborts it and restore misses', async () => {
      await server.fault({ kind: 'stall', endpoint: 'download', afterBytes: 256 * 1024 })
      const restored = await observe(() => cache.restoreCache(paths, savedKey))
      expect(restored).toMatchObject({ value: undefined, error: undefined })
      expect(annotations(restored.output, 'warning').join()).toContain('Failed to restore')
    })

    test('a stalled lookup is not cut short by the library: the caller needs its own deadline', async () => {
      await server.fault({ kind: 'stall', endpoint: 'lookup' })
      const pending = observe(() => cache.restoreCache(paths, savedKey))
      expect(await settledWithin(pending, 2000)).toBe('pending')
      await server.clearFaults()
      expect((await pending).value).toBe(savedKey)
    })
  })
})

// A v1 chunk answered with 5xx before the body is read makes @actions/cache close the archive while its
// read stream is still open; the stream's error handler then throws outside any promise, which no caller
// can catch. Run in a child process so the crash is observed rather than taking the test runner down.
test('v1: a 5xx that answers an upload chunk early crashes the process with an uncaught EBADF', async () => {
  const server = await startCacheServer({ protocol: 'v1' })
  const work = await mkdtemp(join(tmpdir(), 'cache-client-crash-'))
  try {
    await mkdir(join(work, 'state'))
    await writeFile(join(work, 'state', 'blob.bin'), randomBytes(1 << 20))
    await server.fault({ kind: 'status', endpoint: 'upload', status: 500, early: true })
    // The crash is a race between the stream's last read and the close, so try a bounded number of saves.
    const script = `import * as cache from '@actions/cache'
      for (let attempt = 0; attempt < 30; attempt++) await cache.saveCache([process.env.STATE_DIR], 'crash-' + attempt)
      console.log('all saves returned')`
    const env: NodeJS.ProcessEnv = { ...process.env, STATE_DIR: join(work, 'state'), RUNNER_TEMP: join(work, 'tmp') }
    for (const [name, value] of Object.entries(server.env)) {
      if (value === undefined) delete env[name]
      else env[name] = value
    }
    // Asynchronous: the server answers from this process's event loop.
    const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>(resolve => {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 60_000 })
      let stdout = ''
      let stderr = ''
      proc.stdout.on('data', chunk => (stdout += chunk))
      proc.stderr.on('data', chunk => (stderr += chunk))
      proc.on('close', status => resolve({ status, stdout, stderr }))
    })
    expect(child.stdout).not.toContain('all saves returned')
    expect(child.status).not.toBe(0)
    expect(child.stderr).toContain('Cache upload failed because file read failed with EBADF')
  } finally {
    await server.close()
    await rm(work, { recursive: true, force: true })
  }
})
