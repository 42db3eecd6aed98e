// The engine-state store through the real @actions/cache against the loopback cache service (v2
// and v1), with real Docker volumes and helper containers from the local toolbox image.
import * as cache from '@actions/cache'
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import {
  cacheAccess,
  cacheServiceVersion,
  engineStateKeys,
  restoreEngineState,
  saveEngineState,
  stateFingerprint,
  type Manifest
} from '../src/engine-state/store.js'
import { StateHelper } from '../src/engine-state/helper-container.js'
import { applyEnv, startCacheServer, type CacheServer } from './support/cache-server.js'
import {
  ensureStandInImages,
  inVolume,
  listState,
  removeTestEngines,
  TEST_NAME_MARKER,
  TOOLBOX_IMAGE
} from './support/docker.js'

const run = promisify(execFile)
const ENGINE_VERSION = 'v0.21.8'
const SECRET_TEXT = 'ghp_notARealTokenButSecretShaped1234'

// Every special file an overlay snapshotter relies on, spread over snapshots, blobs and the
// mutable databases, plus a hard link that crosses two snapshots (a merged unit).
const POPULATE = `set -e
cd /var/lib/dagger
mkdir -p worker/snapshots/snapshots worker/content/blobs/sha256 worker/content/ingest
s=worker/snapshots/snapshots
mkdir -p $s/1/fs/etc $s/1/fs/empty $s/1/fs/opaque $s/2/fs/bin $s/3/fs $s/4/fs
echo hello > $s/1/fs/etc/hosts
chown 1000:2000 $s/1/fs/etc/hosts
chmod 4751 $s/1/fs/etc/hosts
ln -s ../etc/hosts $s/1/fs/link
ln -s /does/not/exist $s/1/fs/dangling
mknod $s/1/fs/whiteout c 0 0
setfattr -n trusted.overlay.opaque -v y $s/1/fs/opaque
printf 'binary' > $s/2/fs/bin/ping
setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 $s/2/fs/bin/ping
dd if=/dev/urandom of=$s/2/fs/bin/big bs=1M count=3 2>/dev/null
printf 'x' > $s/2/fs/sparse
dd if=/dev/urandom of=$s/2/fs/sparse bs=4096 count=1 seek=4096 conv=notrunc 2>/dev/null
truncate -s 64M $s/2/fs/sparse
echo shared > $s/3/fs/shared
ln $s/3/fs/shared $s/4/fs/shared-too
echo twin > $s/1/fs/etc/twin
ln $s/1/fs/etc/twin $s/1/fs/etc/twin-link
echo ${SECRET_TEXT} > $s/3/fs/token
for d in 0 1 2; do
  f=worker/content/blobs/sha256/$(printf '%064d' $d)
  dd if=/dev/urandom of=$f bs=1K count=$((200 + d)) 2>/dev/null
done
dd if=/dev/urandom of=worker/metadata_v2.db bs=1K count=64 2>/dev/null
dd if=/dev/urandom of=dagql-cache.db bs=1K count=32 2>/dev/null
touch -d '2024-01-02 03:04:05' $s/1/fs/etc/hosts
`

/** mtimes to the nanosecond, which listState leaves out. */
async function mtimes(volume: string): Promise<string[]> {
  const out = await inVolume(volume, "cd /var/lib/dagger && find . -printf '%p %T@\\n' | sort")
  return out.split('\n').filter(Boolean)
}

async function fullListing(volume: string): Promise<string[]> {
  return [...(await listState(volume)), ...(await mtimes(volume))]
}

async function createVolume(name: string): Promise<string> {
  await run('docker', ['volume', 'create', name])
  return name
}

async function emptyVolume(volume: string): Promise<void> {
  await inVolume(volume, 'find /var/lib/dagger -mindepth 1 -delete')
}

function captureWarnings(): { warnings: () => string[]; lines: () => string[]; restore: () => void } {
  const lines: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk))
    return true
  })
  return {
    warnings: () => lines.filter(line => line.startsWith('::warning::') || line.startsWith('::error::')),
    lines: () => lines,
    restore: () => spy.mockRestore()
  }
}

/** Containers (helpers, engines) that have this volume mounted, running or not. */
async function containersOn(volume: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '--all', '--quiet', '--filter', `volume=${volume}`])
  return stdout.split('\n').filter(Boolean)
}

/** A helper image that cannot be pulled: any helper start fails loudly, so its absence proves none was tried. */
const NO_HELPER_IMAGE = 'go-dagger-action-test/no-such-image:latest'

let sequence = 0
function uniqueVolume(label: string): string {
  return `${TEST_NAME_MARKER}-${process.pid}-state-${label}-${++sequence}`
}

beforeAll(async () => {
  await ensureStandInImages()
}, 600_000)

afterAll(async () => {
  await removeTestEngines()
})

describe.each(['v2', 'v1'] as const)('engine state through the %s cache service', protocol => {
  let server: CacheServer
  let restoreEnv: () => void
  let tempDir: string
  let output: ReturnType<typeof captureWarnings>
  let runCounter = 0

  const base = (volume: string, scope = 'build') => ({
    volume,
    helperImage: TOOLBOX_IMAGE,
    engineVersion: ENGINE_VERSION,
    scope,
    tempDir,
    runId: String(1000 + ++runCounter),
    runAttempt: '1'
  })

  beforeAll(async () => {
    server = await startCacheServer({ protocol })
    tempDir = await mkdtemp(path.join(tmpdir(), 'engine-state-'))
    restoreEnv = applyEnv({ ...server.env, RUNNER_TEMP: tempDir })
  })

  afterAll(async () => {
    restoreEnv()
    await server.close()
    await rm(tempDir, { recursive: true, force: true })
  })

  beforeEach(() => {
    output = captureWarnings()
  })

  afterEach(async () => {
    output.restore()
    await server.clearFaults()
    server.resetStats()
  })

  /** A populated volume saved once under scope 'build'; returns what the save reported. */
  async function savedState(label: string, scope = 'build') {
    const volume = await createVolume(uniqueVolume(label))
    await inVolume(volume, POPULATE)
    const saved = await saveEngineState(base(volume, scope))
    expect(saved).toMatchObject({ saved: true, partsReused: 0 })
    return { volume, saved }
  }

  test('round trip keeps every file attribute an overlay snapshotter relies on, and is an exact hit', async () => {
    const { volume, saved } = await savedState('fidelity')
    expect(saved.partsUploaded).toBeGreaterThanOrEqual(2)
    expect(saved.key).toMatch(/^go-dagger-action-engine-v1-linux-[^-]+-v0.21.8-build-\d+-1$/)
    const original = await fullListing(volume)

    const target = await createVolume(uniqueVolume('fidelity-target'))
    const restored = await restoreEngineState(base(target))
    expect(restored.cacheHit).toBe('true')
    expect(restored.matchedKey).toBe(saved.key)
    expect(restored.bytes).toBeGreaterThan(64 * 1024)
    expect(await fullListing(target)).toEqual(original)
    // The specifics, so a regression names what broke.
    const listing = (await listState(target)).join('\n')
    expect(listing).toMatch(/\/1\/fs\/whiteout\|c[-rwx]{9}\|0:0\|0\|-\|1\|0:0\|/)
    expect(listing).toMatch(/trusted.overlay.opaque=0x79/)
    expect(listing).toMatch(/security.capability=0x0100000200200000000000000000000000000000/)
    expect(listing).toMatch(/\/1\/fs\/etc\/hosts\|-rwsr-x--x\|1000:2000/)
    const sparse = (await listState(target)).find(line => line.startsWith('./worker/snapshots/snapshots/2/fs/sparse|'))!
    const [, , , size, blocks] = sparse.split('|')
    expect(Number(size)).toBe(64 * 1024 * 1024)
    expect(Number(blocks) * 512).toBeLessThan(1024 * 1024)
    const inodeOf = (suffix: string) =>
      (listing.split('\n').find(line => line.startsWith(`./worker/snapshots/snapshots/${suffix}|`)) ?? '').split('|')[8]
    expect(inodeOf('3/fs/shared')).toBe(inodeOf('4/fs/shared-too'))
    expect(inodeOf('1/fs/etc/twin')).toBe(inodeOf('1/fs/etc/twin-link'))
    // The save's fingerprint, carried in the manifest, is that of the restored state: no listing needed after a restore.
    const [restoredFingerprint] = restored.fingerprint.split('@')
    expect(restoredFingerprint).toBe(restored.manifest!.fingerprint)
    expect((await stateFingerprint(target, TOOLBOX_IMAGE)).split('@')[0]).toBe(restoredFingerprint)
    expect(output.warnings()).toEqual([])
  })

  test('no secret and no file content reaches a key or the manifest', async () => {
    const { saved } = await savedState('secret')
    const target = await createVolume(uniqueVolume('secret-target'))
    const restored = await restoreEngineState(base(target))
    const manifestText = JSON.stringify(restored.manifest)
    expect(manifestText).not.toContain(SECRET_TEXT)
    expect(
      server
        .entries()
        .map(entry => entry.key)
        .join('\n')
    ).not.toContain(SECRET_TEXT)
    expect(saved.key).not.toContain(SECRET_TEXT)
  })

  test('another scope restores as partial, an unknown engine version and an empty cache as false', async () => {
    const { volume } = await savedState('scopes', 'lint')
    const original = await fullListing(volume)
    const target = await createVolume(uniqueVolume('scopes-target'))
    const partial = await restoreEngineState(base(target, 'test-matrix'))
    expect(partial.cacheHit).toBe('partial')
    expect(await fullListing(target)).toEqual(original)

    const other = await createVolume(uniqueVolume('scopes-other-version'))
    const newer = await restoreEngineState({ ...base(other, 'lint'), engineVersion: 'v0.21.9' })
    expect(newer).toMatchObject({ cacheHit: 'false', bytes: 0 })
    const rc = await restoreEngineState({ ...base(other, 'lint'), engineVersion: 'v0.21.8-rc.1' })
    expect(rc.cacheHit).toBe('false')
    expect(await inVolume(other, 'find /var/lib/dagger -mindepth 1')).toBe('')
    expect(output.warnings()).toEqual([])
  })

  test('scope names that prefix each other do not share a cache', () => {
    const build = engineStateKeys({
      engineVersion: 'v1.0.0',
      scope: 'build',
      runId: '1',
      runAttempt: '1',
      os: 'linux',
      arch: 'x64'
    })
    const buildLinux = engineStateKeys({
      engineVersion: 'v1.0.0',
      scope: 'build-linux',
      runId: '1',
      runAttempt: '1',
      os: 'linux',
      arch: 'x64'
    })
    const rc = engineStateKeys({
      engineVersion: 'v1.0.0-rc.1',
      scope: 'build',
      runId: '1',
      runAttempt: '1',
      os: 'linux',
      arch: 'x64'
    })
    expect(buildLinux.primary.startsWith(build.restoreKeys[0])).toBe(false)
    expect(rc.primary.startsWith(build.restoreKeys[1])).toBe(false)
    expect(build.primary).toBe('go-dagger-action-engine-v1-linux-x64-v1.0.0-build-1-1')
    expect(build.restoreKeys).toEqual([
      'go-dagger-action-engine-v1-linux-x64-v1.0.0-build-',
      'go-dagger-action-engine-v1-linux-x64-v1.0.0-'
    ])
  })

  test.each(['', 'read', 'write', 'write-only', 'none', ' Write-Only ', 'READ', 'bogus'])(
    'the store reads ACTIONS_CACHE_MODE %j as @actions/cache does',
    async mode => {
      const file = path.join(tempDir, 'mode-probe.txt')
      await writeFile(file, mode)
      const restoreMode = applyEnv({ ACTIONS_CACHE_MODE: mode || undefined })
      try {
        const access = cacheAccess()
        server.resetStats()
        await cache.restoreCache([file], `mode-probe-${protocol}-${mode}`, [], { lookupOnly: true })
        const libraryReads = server.stats.requests.lookup > 0
        await cache.saveCache([file], `mode-probe-${protocol}-${mode}-${++sequence}`)
        const libraryWrites = server.stats.requests.reserve > 0
        expect({ mode, readable: access.readable, writable: access.writable }).toEqual({
          mode,
          readable: libraryReads,
          writable: libraryWrites
        })
        expect(access.available).toBe(cache.isFeatureAvailable())
      } finally {
        restoreMode()
      }
    }
  )

  test('the store speaks the protocol @actions/cache speaks, and verifies uploads by lookup only under v1', async () => {
    expect(cacheServiceVersion()).toBe(protocol)
    const restoreGhes = applyEnv({ GITHUB_SERVER_URL: 'https://ghes.example.com' })
    try {
      expect(cacheServiceVersion()).toBe('v1')
    } finally {
      restoreGhes()
    }
    const volume = await createVolume(uniqueVolume('lookups'))
    await inVolume(volume, POPULATE)
    server.resetStats()
    const saved = await saveEngineState(base(volume, `lookups-${protocol}`))
    expect(saved.saved).toBe(true)
    // One lookup per new part before any upload; v1 then looks up every entry it stored (parts and manifest).
    const verifications = protocol === 'v1' ? saved.partsUploaded + 1 : 0
    expect(server.stats.requests.lookup).toBe(saved.partsUploaded + verifications)
  })

  test('an unchanged state saves nothing and uploads zero bytes', async () => {
    const { volume } = await savedState('unchanged')
    const restored = await restoreEngineState(base(volume))
    expect(restored.cacheHit).toBe('true')
    server.resetStats()
    const again = await saveEngineState({ ...base(volume), restored })
    expect(again).toMatchObject({ saved: false, bytesUploaded: 0, partsUploaded: 0 })
    expect(again.reason).toMatch(/did not change/)
    expect(server.stats.bytesUploaded).toBe(0)
    expect(server.stats.requests.reserve).toBe(0)
  })

  test.each([
    ['xattr', 'an xattr set', 'setfattr -n user.note -v changed worker/snapshots/snapshots/1/fs/etc/hosts'],
    ['chmod', 'a chmod and its undoing', 'chmod 600 worker/metadata_v2.db && chmod 644 worker/metadata_v2.db'],
    // GNU tar puts the nanoseconds of the mtime back, which busybox's touch cannot.
    [
      'rewrite',
      'a same-size rewrite with its mtime put back',
      [
        'db=worker/metadata_v2.db; mkdir -p /tmp/new/worker && cp $db /tmp/new/$db',
        'printf X | dd of=/tmp/new/$db bs=1 count=1 conv=notrunc 2>/dev/null',
        'tar --format=posix --mtime=@$(find $db -printf %T@) -C /tmp/new -cf /tmp/new.tar $db && tar --overwrite -xf /tmp/new.tar'
      ].join('; ')
    ]
  ])('a change that keeps every size and mtime is still saved (%s: %s)', async (label, _, change) => {
    const { volume } = await savedState(`stamp-${label}`)
    const restored = await restoreEngineState(base(volume))
    const sizesAndMtimes = () => inVolume(volume, "cd /var/lib/dagger && find . -printf '%p %s %T@\\n' | sort")
    const before = await sizesAndMtimes()
    await inVolume(volume, `set -e; cd /var/lib/dagger; ${change}`)
    // Only the ctime tells this change.
    expect(await sizesAndMtimes()).toBe(before)
    const again = await saveEngineState({ ...base(volume), restored })
    expect(again).toMatchObject({ saved: true, reason: 'saved' })
  })

  test('a small change uploads only the new units and the remainder, reusing the stored parts', async () => {
    const { volume, saved: first } = await savedState('incremental')
    const restored = await restoreEngineState(base(volume))
    await inVolume(
      volume,
      `set -e; cd /var/lib/dagger
      mkdir -p worker/snapshots/snapshots/5/fs && echo new > worker/snapshots/snapshots/5/fs/file
      echo more >> worker/metadata_v2.db
      rm -rf worker/snapshots/snapshots/4`
    )
    const changed = await fullListing(volume)
    server.resetStats()
    const second = await saveEngineState({ ...base(volume), restored })
    expect(second.saved).toBe(true)
    expect(second.partsReused).toBeGreaterThanOrEqual(1)
    expect(second.partsUploaded).toBe(2) // the part with snapshot 5, and the remainder
    expect(second.bytesUploaded).toBeLessThan(first.bytesUploaded / 10)

    const target = await createVolume(uniqueVolume('incremental-target'))
    const again = await restoreEngineState(base(target))
    expect(again.matchedKey).toBe(second.key)
    expect(await fullListing(target)).toEqual(changed)
  })

  test('a part missing from the cache means a cold start with an empty volume', async () => {
    const { saved } = await savedState('missing-part')
    const target = await createVolume(uniqueVolume('missing-part-target'))
    await inVolume(target, 'echo stale > /var/lib/dagger/leftover')
    const manifest = (await restoreEngineState(base(await createVolume(uniqueVolume('probe'))))).manifest as Manifest
    const unitPart = manifest.parts.find(part => !part.remainder)!
    expect(await server.evict(unitPart.key)).toBe(true)
    const restored = await restoreEngineState(base(target))
    expect(restored).toMatchObject({ cacheHit: 'false', bytes: 0 })
    expect(await inVolume(target, 'find /var/lib/dagger -mindepth 1')).toBe('')
    expect(output.warnings().join('\n')).toMatch(/could not be restored.*missing/)
    expect(saved.saved).toBe(true)
  })

  describe('cache trouble warns and never throws', () => {
    const restoreFaults = [
      ['the service is down', { kind: 'down' }],
      ['a 500 on lookup', { kind: 'status', endpoint: 'lookup', status: 500 }],
      ['a 429 on lookup', { kind: 'status', endpoint: 'lookup', status: 429 }],
      ['a download cut midway', { kind: 'abort', endpoint: 'download', afterBytes: 4096 }]
    ] as const
    test.each(restoreFaults)('restore: %s → cold, empty volume', async (_, fault) => {
      await savedState(`restore-fault`)
      const target = await createVolume(uniqueVolume('restore-fault-target'))
      await server.fault(fault)
      const restored = await restoreEngineState(base(target))
      expect(restored.cacheHit).toBe('false')
      expect(await inVolume(target, 'find /var/lib/dagger -mindepth 1')).toBe('')
      expect(output.warnings().length).toBeGreaterThan(0)
    })

    test('restore: a slow lookup is waited for', async () => {
      const { volume } = await savedState('slow')
      const original = await fullListing(volume)
      const target = await createVolume(uniqueVolume('slow-target'))
      await server.fault({ kind: 'stall', endpoint: 'lookup', ms: 3000, times: 1 })
      const restored = await restoreEngineState(base(target))
      expect(restored.cacheHit).toBe('true')
      expect(restored.durationMs).toBeGreaterThanOrEqual(3000)
      expect(await fullListing(target)).toEqual(original)
    })

    const saveFaults = [
      ['the service is down', { kind: 'down' }],
      ['a 500 on reserve', { kind: 'status', endpoint: 'reserve', status: 500 }],
      ['a 429 on reserve', { kind: 'status', endpoint: 'reserve', status: 429 }],
      ['an upload cut midway', { kind: 'abort', endpoint: 'upload', afterBytes: 4096 }]
    ] as const
    test.each(saveFaults)('save: %s → not saved, and no manifest names a missing part', async (_, fault) => {
      const volume = await createVolume(uniqueVolume('save-fault'))
      await inVolume(volume, POPULATE)
      const scope = `save-fault-${++sequence}`
      await server.fault(fault)
      const saved = await saveEngineState(base(volume, scope))
      expect(saved.saved).toBe(false)
      expect(output.warnings().length).toBeGreaterThan(0)
      await server.clearFaults()
      const { restoreKeys } = engineStateKeys(base(volume, scope))
      expect(server.entries().filter(entry => entry.key.startsWith(restoreKeys[0]))).toEqual([])
      // The next save, with the service healthy again, stores the state whole.
      const retried = await saveEngineState(base(volume, scope))
      expect(retried.saved).toBe(true)
      const target = await createVolume(uniqueVolume('save-fault-target'))
      const restored = await restoreEngineState(base(target, scope))
      expect(restored.cacheHit).toBe('true')
      expect(await fullListing(target)).toEqual(await fullListing(volume))
    })
  })

  test('no helper container outlives the restore or the save that started it', async () => {
    const volume = await createVolume(uniqueVolume('helpers-gone'))
    await inVolume(volume, POPULATE)
    const saved = await saveEngineState(base(volume, 'helpers-gone'))
    expect(saved.saved).toBe(true)
    expect(await containersOn(volume)).toEqual([])
    const target = await createVolume(uniqueVolume('helpers-gone-target'))
    const restored = await restoreEngineState(base(target, 'helpers-gone'))
    expect(restored.cacheHit).toBe('true')
    expect(await containersOn(target)).toEqual([])
    await stateFingerprint(target, TOOLBOX_IMAGE)
    expect(await containersOn(target)).toEqual([])
  })

  describe('the cache mode the runner gives the run (ACTIONS_CACHE_MODE)', () => {
    let restoreMode: (() => void) | undefined
    const withMode = (mode: string) => {
      restoreMode = applyEnv({ ACTIONS_CACHE_MODE: mode })
    }
    afterEach(() => {
      restoreMode?.()
      restoreMode = undefined
    })

    test('read: the state is restored; the save is skipped before any helper starts, said once', async () => {
      const { volume } = await savedState('mode-read', 'mode-read')
      const original = await fullListing(volume)
      withMode('read')
      const target = await createVolume(uniqueVolume('mode-read-target'))
      const restored = await restoreEngineState(base(target, 'mode-read'))
      expect(restored.cacheHit).toBe('true')
      expect(await fullListing(target)).toEqual(original)
      await inVolume(target, 'echo changed >> /var/lib/dagger/worker/metadata_v2.db')
      server.resetStats()
      const saved = await saveEngineState({ ...base(target, 'mode-read'), helperImage: NO_HELPER_IMAGE, restored })
      expect(saved).toMatchObject({
        saved: false,
        reason: 'the Actions cache is read-only for this run (ACTIONS_CACHE_MODE=read)'
      })
      expect(server.stats.requests).toEqual({ lookup: 0, reserve: 0, upload: 0, commit: 0, download: 0 })
      expect(output.warnings()).toEqual([])
    })

    test('write-only: the restore is skipped with one line, and the save stores the state without a lookup', async () => {
      const scope = `mode-write-only-${protocol}`
      await savedState('mode-write-only-earlier', scope)
      withMode('write-only')
      const target = await createVolume(uniqueVolume('mode-write-only'))
      await inVolume(target, POPULATE)
      server.resetStats()
      const before = output.lines().length
      const restored = await restoreEngineState({ ...base(target, scope), helperImage: NO_HELPER_IMAGE })
      expect(restored).toMatchObject({ cacheHit: 'false', bytes: 0, fingerprint: '' })
      const said = output
        .lines()
        .slice(before)
        .filter(line => !line.startsWith('::debug::'))
      expect(said).toEqual([
        'The Actions cache is write-only for this run (ACTIONS_CACHE_MODE=write-only): nothing is restored, the engine starts cold\n'
      ])
      const saved = await saveEngineState(base(target, scope))
      expect(saved).toMatchObject({ saved: true, partsReused: 0 })
      // The library skips each lookup with a line of its own: none was asked for.
      expect(output.lines().filter(line => line.includes('Cache restore skipped'))).toEqual([])
      expect(server.stats.requests.lookup).toBe(0)
      expect(output.warnings()).toEqual([])
      restoreMode?.()
      restoreMode = undefined
      const check = await createVolume(uniqueVolume('mode-write-only-check'))
      const again = await restoreEngineState(base(check, scope))
      expect(again.matchedKey).toBe(saved.key)
      expect(await fullListing(check)).toEqual(await fullListing(target))
    })

    test('none: neither restored nor saved, and no helper started', async () => {
      withMode('none')
      const volume = await createVolume(uniqueVolume('mode-none'))
      await inVolume(volume, POPULATE)
      const restored = await restoreEngineState({ ...base(volume, 'mode-none'), helperImage: NO_HELPER_IMAGE })
      expect(restored.cacheHit).toBe('false')
      const saved = await saveEngineState({ ...base(volume, 'mode-none'), helperImage: NO_HELPER_IMAGE })
      expect(saved).toMatchObject({
        saved: false,
        reason: 'the Actions cache is closed to this run (ACTIONS_CACHE_MODE=none)'
      })
      expect(output.warnings()).toEqual([])
      expect((await inVolume(volume, 'test -s /var/lib/dagger/dagql-cache.db && echo kept')).trim()).toBe('kept')
    })
  })

  test('no cache service for this job: one warning, a cold start and no helper; the save says why and starts none', async () => {
    const restoreService = applyEnv({ ACTIONS_CACHE_URL: undefined, ACTIONS_RESULTS_URL: undefined })
    try {
      const volume = await createVolume(uniqueVolume('unavailable'))
      await inVolume(volume, POPULATE)
      const restored = await restoreEngineState({ ...base(volume, 'unavailable'), helperImage: NO_HELPER_IMAGE })
      expect(restored).toMatchObject({ cacheHit: 'false', bytes: 0, fingerprint: '' })
      expect(output.warnings()).toEqual([
        '::warning::The Actions cache service is not available to this job: the engine starts cold, and its state will not be saved\n'
      ])
      const saved = await saveEngineState({ ...base(volume, 'unavailable'), helperImage: NO_HELPER_IMAGE })
      expect(saved).toMatchObject({ saved: false, reason: 'the Actions cache service is not available to this job' })
      expect(output.warnings()).toHaveLength(1)
    } finally {
      restoreService()
    }
  })

  test('uploads refused as under a read-only cache token: the save stops at the first part, with one warning', async () => {
    const volume = await createVolume(uniqueVolume('refused'))
    await inVolume(volume, POPULATE)
    await server.fault({ kind: 'read-only' })
    const scope = `refused-${protocol}`
    const entriesBefore = server.entries()
    const saved = await saveEngineState(base(volume, scope))
    expect(saved.saved).toBe(false)
    expect(saved.reason).toMatch(/read-only for this run/)
    // The library reports each refused call itself: the first part's key and, in case an upload
    // that died left that key reserved, its run key. Nothing else is tried.
    expect(server.stats.requests.reserve).toBeLessThanOrEqual(2)
    expect(server.stats.requests.upload).toBe(0)
    const ours = output.warnings().filter(line => !line.startsWith('::warning::Failed to save:'))
    expect(ours).toEqual([
      expect.stringMatching(/^::warning::Engine state not saved: the Actions cache refused the first upload/)
    ])
    expect(server.entries()).toEqual(entriesBefore)
  })

  test('a state whose archive fails in the helper is warned about, never thrown', async () => {
    const volume = await createVolume(uniqueVolume('bad-helper'))
    await inVolume(volume, POPULATE)
    const saved = await saveEngineState({ ...base(volume), helperImage: 'go-dagger-action-test/no-such-image:latest' })
    expect(saved.saved).toBe(false)
    expect(output.warnings().join('\n')).toMatch(/Engine state not saved/)
    await emptyVolume(volume)
  })
})

describe('moving archives between the helper and the host', () => {
  let dir: string
  const helpers: StateHelper[] = []
  const start = async (volume: string, exchangeDir?: string) => {
    const helper = await StateHelper.start(volume, TOOLBOX_IMAGE, exchangeDir)
    helpers.push(helper)
    return helper
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'engine-state-exchange-'))
  })

  afterAll(async () => {
    await Promise.all(helpers.map(helper => helper.remove()))
    await rm(dir, { recursive: true, force: true })
  })

  test('a directory the daemon sees is shared with the helper, and left clean', async () => {
    const volume = await createVolume(uniqueVolume('exchange'))
    const exchange = path.join(dir, 'shared')
    const helper = await start(volume, exchange)
    expect(helper.sharedDir).toBe(exchange)
    expect(await readdir(exchange)).toEqual([])
  })

  // What a daemon that does not see this process's files gets (act's job containers, remote daemons).
  test('streamed through docker exec, an archive keeps every attribute, whole or a selection', async () => {
    const source = await createVolume(uniqueVolume('stream-source'))
    await inVolume(source, POPULATE)
    const whole = await createVolume(uniqueVolume('stream-whole'))
    const selection = await createVolume(uniqueVolume('stream-selection'))
    const [from, intoWhole, intoSelection] = await Promise.all([start(source), start(whole), start(selection)])
    expect(from.sharedDir).toBeUndefined()
    const archive = path.join(dir, 'streamed.tar')
    await from.createArchive(['.'], true, archive)
    await intoWhole.extract(archive)
    expect(await fullListing(whole)).toEqual(await fullListing(source))

    const snapshot = './worker/snapshots/snapshots/1'
    await intoSelection.makeParents([snapshot])
    await intoSelection.extract(archive, [snapshot])
    const extracted = await fullListing(selection)
    expect(extracted.some(line => line.startsWith(`${snapshot}/fs/etc/hosts|`))).toBe(true)
    expect(extracted.filter(line => line.startsWith('./worker/snapshots/snapshots/2'))).toEqual([])
    // Inodes are numbered in listing order, which differs between the two trees.
    const snapshotLines = (lines: string[]) =>
      lines.filter(line => line.startsWith(`${snapshot}/`)).map(line => line.replace(/inode#\d+/, 'inode'))
    expect(snapshotLines(extracted)).toEqual(snapshotLines(await fullListing(source)))
  })
})

// The post step's entry (src/entry/post.ts, run from source as the bundle runs it) when something
// throws outside any promise while it saves: what @actions/cache can do with a failed upload stream.
describe('the post entry under an uncaught exception', () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  let server: CacheServer
  let tempDir: string

  beforeAll(async () => {
    server = await startCacheServer({ protocol: 'v2' })
    tempDir = await mkdtemp(path.join(tmpdir(), 'post-entry-'))
    // Throws from a timer once the engine has stopped, i.e. as the save starts.
    await writeFile(
      path.join(tempDir, 'throw-while-saving.mjs'),
      [
        'const write = process.stdout.write.bind(process.stdout)',
        'let thrown = false',
        'process.stdout.write = (chunk, ...rest) => {',
        "  if (!thrown && String(chunk).includes('The engine stopped cleanly')) {",
        '    thrown = true',
        "    setImmediate(() => { throw new Error('a stray upload stream error') })",
        '  }',
        '  return write(chunk, ...rest)',
        '}'
      ].join('\n')
    )
  })

  afterAll(async () => {
    await server.close()
    await rm(tempDir, { recursive: true, force: true })
  })

  function runPost(state: string): Promise<{ code: number | null; stdout: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_TEMP: tempDir, 'STATE_go-dagger-action': state }
    for (const [name, value] of Object.entries(server.env)) {
      if (value === undefined) delete env[name]
      else env[name] = value
    }
    delete env.GITHUB_STEP_SUMMARY
    const args = [
      '--import',
      'tsx',
      '--import',
      pathToFileURL(path.join(tempDir, 'throw-while-saving.mjs')).href,
      'src/entry/post.ts'
    ]
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'inherit'] })
      let stdout = ''
      child.stdout.on('data', chunk => (stdout += chunk))
      child.on('error', reject)
      child.on('close', code => resolve({ code, stdout }))
    })
  }

  test('warns and lets the save carry on to its manifest', async () => {
    const volume = await createVolume(uniqueVolume('post-uncaught'))
    await inVolume(volume, POPULATE)
    // An engine stand-in that exits cleanly on SIGTERM, as the engine does.
    const container = `${volume}-engine`
    await run('docker', [
      'run',
      '--detach',
      '--name',
      container,
      '--volume',
      `${volume}:/var/lib/dagger`,
      '--entrypoint',
      'sh',
      TOOLBOX_IMAGE,
      '-c',
      'trap "exit 0" TERM; while :; do sleep 0.1; done'
    ])
    const cache = {
      save: true,
      saveReason: 'may be saved: push runs are trusted',
      scope: 'postuncaught',
      tempDir,
      runId: '4242',
      runAttempt: '1'
    }
    const state = {
      container,
      volume,
      engineVersion: ENGINE_VERSION,
      helperImage: TOOLBOX_IMAGE,
      stopTimeoutSeconds: 10,
      cache
    }
    const post = await runPost(JSON.stringify(state))
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('The engine stopped cleanly')
    expect(post.stdout).toMatch(/^::warning::.*a stray upload stream error.*the save carries on/m)
    expect(post.stdout).toMatch(/Saved the engine state as \S+-4242-1/)
    expect(server.entries().some(entry => entry.key.endsWith('-postuncaught-4242-1'))).toBe(true)
    expect(await containersOn(volume)).toEqual([])
  })

  test('when the post step cannot go on, its warning says the engine state is not saved', async () => {
    const post = await runPost('{"container": ')
    expect(post.code).toBe(0)
    expect(post.stdout).toMatch(/^::warning::.*engine state not saved/im)
  })
})
