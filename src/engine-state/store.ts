// The engine-state store: saves and restores the Dagger engine's state volume through the Actions
// cache, incrementally. Units of the state that never change once written (committed snapshots,
// content blobs) are stored once in part archives keyed by their identity and reused by later
// saves; the mutable remainder is stored in every save; a small manifest per save names its parts
// and is the only entry looked up by key. Cache trouble never fails a build: it warns and the
// run goes on cold (restore) or unsaved (save).
import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { StateHelper } from './helper-container.js'
import { fingerprintOf, parseListing, splitState, stateStamp, unchangedSince } from './listing.js'
import {
  buildManifest,
  packUnits,
  planSave,
  validateManifest,
  type ColdRun,
  type Manifest,
  type ManifestPart,
  type NewPart
} from './manifest.js'
import { phase } from './phases.js'
import { errorMessage } from '../shared/errors.js'

export type { Manifest } from './manifest.js'

/** Bump when the archive layout changes: old entries then simply stop matching. */
const STATE_KEY_PREFIX = 'go-dagger-action-engine-v1'
/**
 * New units are packed into parts of about this size (uncompressed). Each part costs cache
 * requests, helper commands and compressor start-ups; on a 2-core runner 256 MiB parts saved and
 * restored faster than 128 MiB ones, and keep each compressor's window (as large as its input) modest.
 */
const PART_TARGET_BYTES = 256 * 1024 * 1024
/** A reused part with less than this fraction of its bytes still live is repacked. */
const MIN_LIVE_FRACTION = 0.5
/** Parts in flight at once: enough to overlap archiving, compression and transfer on a 2-core runner. */
const PART_CONCURRENCY = 3
/**
 * Archives created or extracted in the helper at once. One tar at a time reads or writes the
 * volume at full speed; several only contend for the same disk and starve the compressors.
 */
const HELPER_CONCURRENCY = 1
/** Longest wait for one lookup or reservation answer before going on without the cache. */
const LOOKUP_DEADLINE_MS = 120_000

export interface EngineStateKeys {
  primary: string
  /** From the most specific to the least: this scope, then any scope of the same engine version. */
  restoreKeys: [string, string]
  partPrefix: string
}

interface KeyOptions {
  engineVersion: string
  scope: string
  os?: string
  arch?: string
  runId: string
  runAttempt: string
}

/**
 * Keys are `<prefix>-<os>-<arch>-<engineVersion>-<scope>-<runId>-<runAttempt>`. Every component
 * has '-' (and anything else outside [A-Za-z0-9._+]) turned into '_', so a restore key such as
 * `…-v0.21.8-` can never prefix-match another version (`…-v0.21.8_rc…`) or `…-build-` another scope
 * (`…-build_linux-…`). Part keys start with `<prefix>-part-`, which no manifest restore key matches.
 */
function keyComponent(value: string): string {
  return value.replace(/[^A-Za-z0-9._+]/g, '_') || '_'
}

export function engineStateKeys(options: KeyOptions): EngineStateKeys {
  const os = keyComponent(options.os ?? process.platform)
  const arch = keyComponent(options.arch ?? process.arch)
  const version = keyComponent(options.engineVersion)
  const versionPrefix = `${STATE_KEY_PREFIX}-${os}-${arch}-${version}-`
  const scopePrefix = `${versionPrefix}${keyComponent(options.scope || 'default')}-`
  return {
    primary: `${scopePrefix}${keyComponent(options.runId)}-${keyComponent(options.runAttempt)}`,
    restoreKeys: [scopePrefix, versionPrefix],
    partPrefix: `${STATE_KEY_PREFIX}-part-${os}-${arch}-${version}`
  }
}

/** Where the state store keeps its files, relative to the runner's temp dir. */
const STATE_DIR = 'go-dagger-action-state'

/**
 * @actions/cache folds the `paths` array into each entry's version, and stores archive entries
 * relative to GITHUB_WORKSPACE (else the working directory). So every cache call names a path
 * relative to the temp dir, and runs with both pointing at it (inCacheRoot): the version then
 * does not depend on where the runner keeps its temp dir, and a restore lands in this run's.
 */
const MANIFEST_PATH = path.join(STATE_DIR, 'manifest.json')

const PARTS_DIR = path.join(STATE_DIR, 'parts')

function partPath(key: string): string {
  return path.join(PARTS_DIR, `${key.slice(-40)}.tar`)
}

async function inCacheRoot<T>(tempDir: string, body: () => Promise<T>): Promise<T> {
  const workspace = process.env.GITHUB_WORKSPACE
  const cwd = process.cwd()
  await mkdir(tempDir, { recursive: true })
  process.env.GITHUB_WORKSPACE = tempDir
  process.chdir(tempDir)
  try {
    return await body()
  } finally {
    process.chdir(cwd)
    if (workspace === undefined) delete process.env.GITHUB_WORKSPACE
    else process.env.GITHUB_WORKSPACE = workspace
  }
}

export interface RestoreOptions extends KeyOptions {
  volume: string
  helperImage: string
  tempDir: string
}

export interface RestoreResult {
  /** 'true': a save of this scope; 'partial': a save of another scope (same engine version); 'false': cold. */
  cacheHit: 'true' | 'false' | 'partial'
  matchedKey?: string
  /** Uncompressed bytes of the part archives extracted into the state. */
  bytes: number
  durationMs: number
  /** The state's stamp after the restore (or of the cold state): saveEngineState compares it (see stateStamp). */
  fingerprint: string
  manifest?: Manifest
}

/**
 * Restores the newest manifest for this scope (else any scope of this engine version) and every
 * part it names, replacing the volume's contents. All or nothing: if any part is missing or fails,
 * the volume is emptied and the run starts cold, with a warning.
 */
export async function restoreEngineState(options: RestoreOptions): Promise<RestoreResult> {
  // Decided before any lookup or helper: a cache this job cannot read costs nothing but one line.
  const access = cacheAccess()
  const notRestored: RestoreResult = { cacheHit: 'false', bytes: 0, durationMs: 0, fingerprint: '' }
  if (!access.available) {
    core.warning(
      'The Actions cache service is not available to this job: the engine starts cold, and its state will not be saved'
    )
    return notRestored
  }
  if (!access.readable) {
    core.info(
      access.writable
        ? `The Actions cache is write-only for this run (ACTIONS_CACHE_MODE=${access.mode}): nothing is restored, the engine starts cold`
        : `The Actions cache is closed to this run (ACTIONS_CACHE_MODE=${access.mode}): nothing is restored or saved, the engine starts cold`
    )
    return notRestored
  }
  return inCacheRoot(options.tempDir, () => restoreInCacheRoot(options))
}

async function restoreInCacheRoot(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now()
  const keys = engineStateKeys(options)
  // Without a helper running, a cold start has no fingerprint (post then saves whatever the engine
  // wrote): starting one only for that would make a cold start depend on pulling the helper image.
  const cold = async (helper: StateHelper | undefined): Promise<RestoreResult> => ({
    cacheHit: 'false',
    bytes: 0,
    durationMs: Date.now() - started,
    fingerprint: helper ? await fingerprintWith(helper) : ''
  })

  let matchedKey: string | undefined
  let manifest: Manifest
  try {
    await mkdir(path.dirname(MANIFEST_PATH), { recursive: true })
    matchedKey = await deadline(
      cache.restoreCache([MANIFEST_PATH], keys.primary, keys.restoreKeys),
      'looking up the engine state'
    )
    if (!matchedKey) {
      core.info(`No saved engine state for ${keys.restoreKeys[0]}* or ${keys.restoreKeys[1]}*: starting cold`)
      return await cold(undefined)
    }
    const expected = { engineVersion: options.engineVersion, partPrefix: keys.partPrefix, partPath, warn: core.warning }
    manifest = validateManifest(JSON.parse(await readFile(MANIFEST_PATH, 'utf8')), expected)
  } catch (error) {
    core.warning(`Engine state not restored (${errorMessage(error)}): starting cold`)
    return await cold(undefined)
  }
  const cacheHit = matchedKey.startsWith(keys.restoreKeys[0]) ? 'true' : 'partial'
  core.info(`Restoring engine state ${matchedKey} (${manifest.parts.length} parts)`)

  // The helper starts while the first parts download: they need it only to be extracted.
  const helperStart = phase('start helper', undefined, () =>
    StateHelper.start(options.volume, options.helperImage, path.resolve(PARTS_DIR))
  )
  helperStart.catch(() => undefined)
  let helper: StateHelper | undefined
  try {
    const bytes = await extractParts(
      helperStart.then(started => (helper = started)),
      manifest
    )
    // What was restored is what was saved: the manifest's fingerprint holds, and only the time the
    // restore ended is needed to tell later changes (see stateStamp).
    const fingerprint = stateStamp(manifest.fingerprint, await helper!.clock())
    return { cacheHit, matchedKey, bytes, durationMs: Date.now() - started, fingerprint, manifest }
  } catch (error) {
    core.warning(`Engine state ${matchedKey} could not be restored (${errorMessage(error)}): starting cold`)
    try {
      helper ??= await helperStart.catch(() => StateHelper.start(options.volume, options.helperImage))
      await helper.wipe()
      return await cold(helper)
    } catch (wipeError) {
      // Without a helper the volume cannot be read either; the lifecycle will report Docker trouble.
      core.warning(`Could not empty the engine state volume ${options.volume}: ${errorMessage(wipeError)}`)
      return { cacheHit: 'false', bytes: 0, durationMs: Date.now() - started, fingerprint: '' }
    }
  } finally {
    helper ??= await helperStart.catch(() => undefined)
    // Awaited: the step may end (process.exit) soon after, and a helper left behind lives for hours.
    await Promise.all([helper?.remove(), rm(PARTS_DIR, { recursive: true, force: true })])
  }
}

/**
 * Downloads the manifest's parts and extracts them into the emptied volume. Downloads start at
 * once; extraction waits for the helper (started meanwhile) to have emptied the volume. Returns
 * only once nothing is left running in the helper, so a failure can be followed by a wipe.
 */
async function extractParts(helperReady: Promise<StateHelper>, manifest: Manifest): Promise<number> {
  // Per part: the roots of its units still in the state, and how many such units there are.
  const live = new Map<number, { roots: string[]; units: number }>()
  for (const unit of Object.values(manifest.units)) {
    const held = live.get(unit.part)
    if (held) {
      held.roots.push(...unit.roots)
      held.units++
    } else live.set(unit.part, { roots: [...unit.roots], units: 1 })
  }
  const unitParts = manifest.parts
    .map((part, index) => ({ part, index }))
    .filter(({ part, index }) => !part.remainder && live.has(index))
  const remainder = manifest.parts.find(part => part.remainder)!
  const prepared = helperReady.then(helper =>
    phase('prepare', undefined, async () => {
      await helper.wipe()
      await helper.makeParents(unitParts.flatMap(({ index }) => live.get(index)!.roots))
      return helper
    })
  )
  prepared.catch(() => undefined)

  let bytes = 0
  const restorePart = async (part: ManifestPart): Promise<void> => {
    await mkdir(path.dirname(part.path), { recursive: true })
    const key = await phase('download and unpack', part.key, () =>
      deadline(cache.restoreCache([part.path], part.key), `restoring part ${part.key}`, transferDeadline(part.bytes))
    )
    if (key !== part.key) throw new Error(`part ${part.key} is missing from the cache`)
    bytes += (await stat(part.path)).size
  }
  // The remainder downloads alongside the units but is extracted last: it holds the directories
  // above the units, whose modes and mtimes must be set after their contents are in place.
  const remainderDownload = restorePart(remainder)
  const extracting = limiter(HELPER_CONCURRENCY)
  try {
    await mapConcurrently(unitParts, PART_CONCURRENCY, async ({ part, index }) => {
      await restorePart(part)
      const helper = await prepared
      const { roots, units } = live.get(index)!
      // Units removed from the state since the part was stored stay in its archive, unextracted.
      await extracting(() =>
        phase('extract', part.key, () => helper.extract(part.path, units === part.units ? undefined : roots))
      )
      await rm(part.path, { force: true })
    })
    await remainderDownload
    const helper = await prepared
    await phase('extract', remainder.key, () => helper.extract(remainder.path))
    await rm(remainder.path, { force: true })
    return bytes
  } finally {
    await remainderDownload.catch(() => undefined)
    await prepared.catch(() => undefined)
  }
}

export interface SaveOptions {
  volume: string
  helperImage: string
  engineVersion: string
  scope: string
  os?: string
  arch?: string
  tempDir: string
  runId: string
  runAttempt: string
  /** What restoreEngineState returned: an unchanged fingerprint skips the save, its manifest's parts are reused. */
  restored?: { fingerprint: string; manifest?: Manifest }
  /** The cold run's durations for the new manifest (see Manifest.coldRun). */
  coldRun?: ColdRun
}

export interface SaveResult {
  saved: boolean
  reason: string
  /** Uncompressed bytes of the part archives uploaded (the cache compresses them). */
  bytesUploaded: number
  partsUploaded: number
  partsReused: number
  durationMs: number
  key?: string
}

/**
 * Saves the state (the engine must be stopped) unless it is unchanged since the restore. Uploads
 * only parts for new units and the remainder; parts of the restored manifest whose units are still
 * there are reused. The manifest goes last, so a failed save leaves no manifest naming missing parts.
 */
export function saveEngineState(options: SaveOptions): Promise<SaveResult> {
  // Decided before the helper starts: a cache this job cannot write is said once, not per part.
  const access = cacheAccess()
  const unsaved = (reason: string): Promise<SaveResult> =>
    Promise.resolve({ saved: false, reason, bytesUploaded: 0, partsUploaded: 0, partsReused: 0, durationMs: 0 })
  // Not a warning: main's restore gave one already (unless a self-hosted daemon's volume made it skip the restore).
  if (!access.available) return unsaved('the Actions cache service is not available to this job')
  if (!access.writable) {
    return unsaved(
      access.readable
        ? `the Actions cache is read-only for this run (ACTIONS_CACHE_MODE=${access.mode})`
        : `the Actions cache is closed to this run (ACTIONS_CACHE_MODE=${access.mode})`
    )
  }
  return inCacheRoot(options.tempDir, () => saveInCacheRoot(options, access))
}

async function saveInCacheRoot(options: SaveOptions, access: CacheAccess): Promise<SaveResult> {
  const started = Date.now()
  const result = (saved: boolean, reason: string, extra: Partial<SaveResult> = {}): SaveResult => ({
    saved,
    reason,
    bytesUploaded: 0,
    partsUploaded: 0,
    partsReused: 0,
    durationMs: Date.now() - started,
    ...extra
  })
  const keys = engineStateKeys(options)
  const firstUpload = firstUploadAlone()
  let helper: StateHelper | undefined
  try {
    helper = await phase('start helper', undefined, () =>
      StateHelper.start(options.volume, options.helperImage, path.resolve(PARTS_DIR))
    )
    const listing = await phase('list', undefined, () => helper!.listing())
    const { entries, fingerprint, unchanged } = await phase('compare', undefined, () => {
      const entries = parseListing(listing)
      const fingerprint = fingerprintOf(entries)
      return {
        entries,
        fingerprint,
        unchanged: !!options.restored && unchangedSince(entries, options.restored.fingerprint, fingerprint)
      }
    })
    if (unchanged) return result(false, 'the engine state did not change since it was restored')
    if (entries.length <= 1) return result(false, 'the engine state is empty')

    // A write-only cache cannot confirm that a restored part is still there: every part is stored anew.
    const previous = access.readable ? options.restored?.manifest : undefined
    const planOptions = {
      partKeyPrefix: keys.partPrefix,
      partTargetBytes: PART_TARGET_BYTES,
      minLiveFraction: MIN_LIVE_FRACTION
    }
    const plan = planSave(splitState(entries), previous, planOptions)
    // One batch of lookups, run while the first parts are archived: a reused part may have been
    // evicted since the restore (its units are then stored again), and a new part may be stored
    // already (a re-run or another job stored equal units: equal keys hold equal units).
    const lookups = access.readable
      ? [
          ...plan.reused.map(({ part }) => part),
          ...plan.created.map(part => ({ key: part.key, path: partPath(part.key) }))
        ]
      : []
    let storedKeys: Set<string> | undefined
    const lookedUp = mapConcurrently(lookups, 8, part => isStored(part.path, part.key)).then(found => {
      storedKeys = new Set(lookups.filter((_, i) => found[i]).map(part => part.key))
      return storedKeys
    })
    const archiving = limiter(HELPER_CONCURRENCY)
    // Parts repacked after an eviction were not looked up: they are never in the set, so they are stored.
    const store = (parts: readonly NewPart[]): Promise<PartUpload[]> =>
      mapConcurrently(parts, PART_CONCURRENCY, part => {
        const stored = { key: part.key, path: partPath(part.key), bytes: part.bytes, uploaded: false }
        if (storedKeys?.has(part.key)) return Promise.resolve(stored)
        return storePart(helper!, archiving, part, { options, access, firstUpload }, async () =>
          (await lookedUp).has(part.key)
        )
      })
    const uploads = await store(plan.created)
    const stillStored = await lookedUp
    const evicted = plan.reused.filter(({ part }) => !stillStored.has(part.key))
    if (evicted.length > 0) {
      const again = packUnits(
        evicted.flatMap(r => r.units),
        planOptions
      )
      plan.reused = plan.reused.filter(({ part }) => stillStored.has(part.key))
      plan.created.unshift(...again)
      uploads.unshift(...(await store(again)))
    }
    const manifest = buildManifest(plan, uploads, {
      engineVersion: options.engineVersion,
      fingerprint,
      coldRun: options.coldRun
    })
    await mkdir(path.dirname(MANIFEST_PATH), { recursive: true })
    await writeFile(MANIFEST_PATH, JSON.stringify(manifest))
    const stored = await saveEntry(MANIFEST_PATH, keys.primary, access)
    const totals = {
      bytesUploaded: uploads.reduce((sum, u) => sum + (u.uploaded ? u.bytes : 0), 0),
      partsUploaded: uploads.filter(u => u.uploaded).length,
      partsReused: plan.reused.length + uploads.filter(u => !u.uploaded).length
    }
    if (!stored) {
      core.warning(`Engine state not saved: the manifest ${keys.primary} could not be stored`)
      return result(false, `the manifest ${keys.primary} could not be stored`, totals)
    }
    return result(true, 'saved', { ...totals, key: keys.primary })
  } catch (error) {
    core.warning(`Engine state not saved: ${errorMessage(error)}`)
    return result(false, `error: ${errorMessage(error)}`)
  } finally {
    await Promise.all([helper?.remove(), rm(PARTS_DIR, { recursive: true, force: true })])
  }
}

interface PartUpload {
  key: string
  path: string
  bytes: number
  uploaded: boolean
}

interface PartStore {
  options: SaveOptions
  access: CacheAccess
  firstUpload: FirstUploadAlone
}

/** Archives a part and uploads it, unless `storedAlready` (asked once the archive is made) says it is there. */
async function storePart(
  helper: StateHelper,
  archiving: Limiter,
  part: NewPart,
  { options, access, firstUpload }: PartStore,
  storedAlready: () => Promise<boolean>
): Promise<PartUpload> {
  const file = partPath(part.key)
  await mkdir(path.dirname(file), { recursive: true })
  await archiving(() => phase('archive', part.key, () => helper.createArchive(part.members, part.recursive, file)))
  const bytes = (await stat(file)).size
  try {
    if (await storedAlready()) return { key: part.key, path: file, bytes, uploaded: false }
    return await firstUpload(async first => {
      if (await saveEntry(file, part.key, access)) return { key: part.key, path: file, bytes, uploaded: true }
      // Another job may have stored the same part meanwhile; then it is there to reuse.
      if (access.readable && (await isStored(file, part.key)))
        return { key: part.key, path: file, bytes, uploaded: false }
      // An upload that died midway can leave its key reserved for a long while; without another
      // name these units could not be stored again until it expires.
      const runKey = `${part.key}-${keyComponent(options.runId)}-${keyComponent(options.runAttempt)}`
      if (await saveEntry(file, runKey, access)) return { key: runKey, path: file, bytes, uploaded: true }
      // Refused under both names before anything of this save was stored. saveCache does not say
      // why (it logs it): most likely the run's cache token is read-only, which a runner that
      // exports no ACTIONS_CACHE_MODE leaves to be found out this way; the other parts would fare
      // no better, so they are not tried.
      if (first) {
        throw new Error(
          `the Actions cache refused the first upload (under the part's key and under this run's), so nothing else was tried: ` +
            `the cache is ${READ_ONLY_RUN}, or its service failed; the cache library's line above says which`
        )
      }
      throw new Error(`part ${part.key} could not be stored`)
    })
  } finally {
    await rm(file, { force: true })
  }
}

const READ_ONLY_RUN = 'read-only for this run (as under the read-only cache token of an untrusted event)'

/** How the cache service words a refused write, when the library passes the refusal on as an error. */
const WRITE_REFUSED = /read-only|write denied|\b403\b|forbidden/i

/**
 * Runs the first upload of a save alone; the others wait for it and go on together once it
 * stored something. When the first is refused, so are the others, without trying: a cache that
 * refuses a run's writes is then said once, not once for every part in flight.
 */
type FirstUploadAlone = <T>(upload: (first: boolean) => Promise<T>) => Promise<T>

function firstUploadAlone(): FirstUploadAlone {
  let firstDone: Promise<unknown> | undefined
  return async upload => {
    if (firstDone) {
      await firstDone
      return upload(false)
    }
    const attempt = upload(true)
    firstDone = attempt
    attempt.catch(() => undefined)
    return attempt
  }
}

/**
 * saveCache reports its own failures as warnings and returns -1, except that the v1 protocol
 * returns the reserved id even when the upload then failed: there only a lookup proves the entry
 * is there. v2 returns an id only once the entry is finalized. A write-only cache allows no
 * lookup: the id is taken at its word, and a restore that misses a part starts cold.
 */
async function saveEntry(file: string, key: string, access: CacheAccess): Promise<boolean> {
  try {
    const { size } = await stat(file)
    const id = await phase('pack and upload', key, () =>
      deadline(cache.saveCache([file], key), `storing ${key}`, transferDeadline(size))
    )
    if (id === -1) return false
  } catch (error) {
    if (WRITE_REFUSED.test(errorMessage(error)))
      throw new Error(`the Actions cache refused to store ${key} (${errorMessage(error)}), so it is ${READ_ONLY_RUN}`)
    core.warning(`Could not store ${key}: ${errorMessage(error)}`)
    return false
  }
  return cacheServiceVersion() === 'v2' || !access.readable || isStored(file, key)
}

/** What the Actions cache lets this job do. */
export interface CacheAccess {
  /** The service is configured for this job (the library's isFeatureAvailable). */
  available: boolean
  /** ACTIONS_CACHE_MODE as the library reads it: trimmed, lower case, '' when unset. */
  mode: string
  readable: boolean
  writable: boolean
}

const CACHE_MODES = ['none', 'read', 'write', 'write-only']

/**
 * The runner's cache mode, decided as @actions/cache decides it (it does not export that part):
 * restoreCache and saveCache skip, each with a line of their own, what the mode does not permit.
 * An unset or unknown mode permits both, as in the library.
 */
export function cacheAccess(): CacheAccess {
  const mode = (process.env.ACTIONS_CACHE_MODE || '').trim().toLowerCase()
  const known = CACHE_MODES.includes(mode)
  return {
    available: cache.isFeatureAvailable(),
    mode,
    readable: !known || mode === 'read' || mode === 'write',
    writable: !known || mode === 'write' || mode === 'write-only'
  }
}

/**
 * The protocol @actions/cache speaks, decided as it decides (it does not export its decision):
 * v2 when ACTIONS_CACHE_SERVICE_V2 is set, except on GitHub Enterprise Server, which only has v1.
 */
export function cacheServiceVersion(): 'v1' | 'v2' {
  const host = new URL(process.env.GITHUB_SERVER_URL || 'https://github.com').hostname.trimEnd().toUpperCase()
  const ghes = host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST')
  return !ghes && process.env.ACTIONS_CACHE_SERVICE_V2 ? 'v2' : 'v1'
}

async function isStored(file: string, key: string): Promise<boolean> {
  try {
    return (await deadline(cache.restoreCache([file], key, [], { lookupOnly: true }), `looking up ${key}`)) === key
  } catch (error) {
    core.warning(`Could not look up ${key}: ${errorMessage(error)}`)
    return false
  }
}

/** The stamp of the volume's state now, as saveEngineState compares it (see stateStamp). */
export async function stateFingerprint(volume: string, helperImage: string): Promise<string> {
  const helper = await StateHelper.start(volume, helperImage)
  try {
    return await fingerprintWith(helper)
  } finally {
    await helper.remove()
  }
}

async function fingerprintWith(helper: StateHelper): Promise<string> {
  const fingerprint = fingerprintOf(parseListing(await helper.listing()))
  return stateStamp(fingerprint, await helper.clock())
}

/** A transfer slower than 1 MB/s after a lookup's allowance is treated as a stalled service. */
function transferDeadline(bytes: number): number {
  return LOOKUP_DEADLINE_MS + bytes / 1000
}

function deadline<T>(promise: Promise<T>, what: string, ms = LOOKUP_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the cache service did not answer within ${ms / 1000} s while ${what}`)),
      ms
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

type Limiter = <T>(body: () => Promise<T>) => Promise<T>

/** Runs bodies with at most `slots` at once, in the order they ask. */
function limiter(slots: number): Limiter {
  let free = slots
  const waiting: Array<() => void> = []
  return async body => {
    if (free > 0) free--
    else await new Promise<void>(resolve => waiting.push(resolve))
    try {
      return await body()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else free++
    }
  }
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, body: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  // Boxed, so that a body that throws undefined still stops the others and is rethrown.
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const index = next++
      try {
        results[index] = await body(items[index])
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure) throw failure.error
  return results
}
