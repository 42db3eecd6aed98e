// The manifest of a saved engine state and the plan of a save: which stored parts to reuse, which
// to repack, and how new units are packed into part archives. Pure: no I/O here.
import { createHash } from 'node:crypto'
import { STAGES, type Stage } from '../inputs/pipeline-config.js'
import type { StateSplit, StateUnit } from './listing.js'

export const MANIFEST_FORMAT = 1

export interface ManifestPart {
  /** Cache key of the part archive; derived from what it holds, so equal parts share one entry. */
  key: string
  /** The path given to @actions/cache when the part was saved; restoring needs the same path. */
  path: string
  /** Size of the uncompressed part archive. */
  bytes: number
  /** How many units the archive holds; fewer live ones in the manifest means some are dead. */
  units: number
  /** The units' estimated bytes when stored, the measure of how much of the part is still live. */
  unitBytes: number
  /** true for the part holding the mutable remainder, which is restored last. */
  remainder?: boolean
}

export interface ManifestUnit {
  /** Index into Manifest.parts. */
  part: number
  roots: string[]
  bytes: number
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT
  engineVersion: string
  /** fingerprintOf the state when it was saved; it holds for the state restored from this save. */
  fingerprint: string
  savedAt: string
  parts: ManifestPart[]
  /** Every unit of the saved state by id. Units of a part missing here are dead and not extracted. */
  units: Record<string, ManifestUnit>
  /** The durations of the cold run this line of saves began with, which warm runs are measured against. */
  coldRun?: ColdRun
}

/** What a cold run took, recorded only when every stage passed: a failed run is no baseline. */
export interface ColdRun {
  /** Milliseconds from the session's start to the pipeline's end. */
  pipelineMs: number
  /** Milliseconds of each stage. */
  stages: Partial<Record<Stage, number>>
}

/** The longest a recorded duration may be: a week, beyond any job GitHub runs. */
export const MAX_RECORDED_MS = 7 * 24 * 3600 * 1000

/** A part archive a save must produce and upload. */
export interface NewPart {
  key: string
  /** Archive member names; for unit parts tar recurses into them, the remainder lists every entry. */
  members: string[]
  recursive: boolean
  bytes: number
  units: StateUnit[]
  remainder: boolean
}

export interface SavePlan {
  /** Parts of the previous manifest kept as they are, with the live units each still provides. */
  reused: Array<{ part: ManifestPart; units: StateUnit[] }>
  created: NewPart[]
}

export interface PlanOptions {
  /** Key prefix of part entries (OS, arch and engine version included). */
  partKeyPrefix: string
  /** Pack new units into parts of about this many bytes. */
  partTargetBytes: number
  /**
   * A reused part whose live bytes fall below this fraction of its size is repacked, so dead units
   * do not make restores download more and more data nobody needs.
   */
  minLiveFraction: number
}

export function partKey(prefix: string, content: string): string {
  return `${prefix}-${createHash('sha256').update(content).digest('hex').slice(0, 40)}`
}

export function planSave(split: StateSplit, previous: Manifest | undefined, options: PlanOptions): SavePlan {
  const current = new Map(split.units.map(unit => [unit.id, unit]))
  const reused: SavePlan['reused'] = []
  const placed = new Set<string>()
  if (previous) {
    const liveByPart = new Map<number, StateUnit[]>()
    for (const [id, stored] of Object.entries(previous.units)) {
      const unit = current.get(id)
      if (!unit) continue
      const list = liveByPart.get(stored.part)
      if (list) list.push(unit)
      else liveByPart.set(stored.part, [unit])
    }
    for (const [index, units] of liveByPart) {
      const part = previous.parts[index]
      if (!part || part.remainder) continue
      const liveBytes = units.reduce((sum, unit) => sum + unit.bytes, 0)
      if (liveBytes < part.unitBytes * options.minLiveFraction) continue
      reused.push({ part, units })
      for (const unit of units) placed.add(unit.id)
    }
  }
  const fresh = split.units.filter(unit => !placed.has(unit.id))
  return { reused, created: [...packUnits(fresh, options), remainderPart(split, options)] }
}

/**
 * Greedy packing in root order, so the same set of new units always yields the same parts (and
 * keys): a re-run or a parallel job with the same new units finds them already stored.
 */
export function packUnits(units: readonly StateUnit[], options: PlanOptions): NewPart[] {
  const ordered = [...units].sort((a, b) => (a.roots[0] < b.roots[0] ? -1 : a.roots[0] > b.roots[0] ? 1 : 0))
  const parts: NewPart[] = []
  let batch: StateUnit[] = []
  let batchBytes = 0
  const flush = (): void => {
    if (batch.length === 0) return
    const ids = batch.map(unit => unit.id).sort()
    parts.push({
      key: partKey(`${options.partKeyPrefix}-units`, ids.join('\n')),
      members: batch.flatMap(unit => unit.roots),
      recursive: true,
      bytes: batchBytes,
      units: batch,
      remainder: false
    })
    batch = []
    batchBytes = 0
  }
  for (const unit of ordered) {
    if (batchBytes > 0 && batchBytes + unit.bytes > options.partTargetBytes) flush()
    batch.push(unit)
    batchBytes += unit.bytes
  }
  flush()
  return parts
}

function remainderPart(split: StateSplit, options: PlanOptions): NewPart {
  return {
    key: partKey(`${options.partKeyPrefix}-rest`, split.remainderId),
    members: split.remainder.map(entry => entry.path),
    recursive: false,
    bytes: split.remainderBytes,
    units: [],
    remainder: true
  }
}

/** The manifest of a save once every created part is stored (under the key and path it was stored with). */
export function buildManifest(
  plan: SavePlan,
  stored: ReadonlyArray<{ key: string; path: string; bytes: number }>,
  meta: { engineVersion: string; fingerprint: string; coldRun?: ColdRun }
): Manifest {
  const parts: ManifestPart[] = []
  const units: Record<string, ManifestUnit> = {}
  const addPart = (part: ManifestPart, held: readonly StateUnit[]): void => {
    const index = parts.push(part) - 1
    for (const unit of held) units[unit.id] = { part: index, roots: unit.roots, bytes: unit.bytes }
  }
  for (const { part, units: held } of plan.reused) addPart(part, held)
  plan.created.forEach((part, i) => {
    const { key, path, bytes } = stored[i]
    addPart(
      {
        key,
        path,
        bytes,
        units: part.units.length,
        unitBytes: part.bytes,
        ...(part.remainder ? { remainder: true } : {})
      },
      part.units
    )
  })
  return {
    format: MANIFEST_FORMAT,
    engineVersion: meta.engineVersion,
    fingerprint: meta.fingerprint,
    savedAt: new Date().toISOString(),
    parts,
    units,
    ...(meta.coldRun ? { coldRun: meta.coldRun } : {})
  }
}

/** What a restored manifest must agree with: the store's keys and paths for this engine version. */
export interface ManifestExpectations {
  engineVersion: string
  /** Every part key of this engine version starts with it (EngineStateKeys.partPrefix). */
  partPrefix: string
  /** The path the store gives a part's archive for the key partKey made (before any run suffix). */
  partPath: (key: string) => string
  /** Told why an optional field was dropped: one that is bad costs the report, never the restore. */
  warn?: (message: string) => void
}

type Fields = Record<string, unknown>

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value from the manifest as it may appear in a message: it is untrusted, so quoted and cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function isDuration(value: unknown): value is number {
  return isSize(value) && value <= MAX_RECORDED_MS
}

/** Why a manifest's coldRun is not one this code could have written, or undefined. */
export function coldRunProblem(value: unknown): string | undefined {
  if (!isFields(value)) return `${shown(value)} is not an object`
  if (!isDuration(value.pipelineMs))
    return `pipelineMs ${shown(value.pipelineMs)} is not a whole number of 0 to ${MAX_RECORDED_MS} ms`
  const { stages } = value
  if (!isFields(stages)) return `stages ${shown(stages)} is not an object keyed by stage`
  const entries = Object.entries(stages)
  if (entries.length === 0) return 'stages is empty'
  for (const [stage, ms] of entries) {
    if (!(STAGES as readonly string[]).includes(stage))
      return `stage ${shown(stage)} is not one of ${STAGES.join(', ')}`
    if (!isDuration(ms)) return `stage ${stage}: ${shown(ms)} is not a whole number of 0 to ${MAX_RECORDED_MS} ms`
  }
  const extra = Object.keys(value).filter(key => key !== 'pipelineMs' && key !== 'stages')
  if (extra.length > 0) return `unknown field ${shown(extra[0])}`
  return undefined
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Why a unit root cannot be one the state listing produced, or undefined. Roots become tar member
 * names and, through their parents, `mkdir` arguments in the helper: the listing's './' prefix
 * keeps each below the state root and keeps any from being read as an option.
 */
function badRoot(root: unknown): string | undefined {
  if (typeof root !== 'string') return `root ${shown(root)} is not a string`
  if (root.includes('\0')) return `root ${shown(root)} holds a NUL`
  if (!root.startsWith('./') || root.length === 2)
    return `root ${shown(root)} is not a path below the state root ('./…')`
  if (root.split('/').includes('..')) return `root ${shown(root)} has a .. segment`
  return undefined
}

/**
 * Throws, saying why, when a manifest read from the cache is not one this code could have
 * written. Any workflow run of the repository can write cache entries, so nothing in it is
 * trusted: a part's path is a host file the restore writes and deletes, its key names an entry to
 * download, and unit roots are names extracted and created in the state volume.
 */
export function validateManifest(value: unknown, expected: ManifestExpectations): Manifest {
  if (!isFields(value) || value.format !== MANIFEST_FORMAT) throw new Error('unknown manifest format')
  if (value.engineVersion !== expected.engineVersion) {
    throw new Error(`manifest is for engine ${shown(value.engineVersion)}, not ${shown(expected.engineVersion)}`)
  }
  if (typeof value.fingerprint !== 'string') throw new Error('manifest fingerprint is not a string')
  if (typeof value.savedAt !== 'string') throw new Error('manifest savedAt is not a string')
  const { parts, units } = value
  if (!Array.isArray(parts)) throw new Error('manifest parts are not a list')
  if (!isFields(units)) throw new Error('manifest units are not an object keyed by unit id')

  // The keys partKey gives a unit part or the remainder, 40 hex digits at the end, so the path
  // derived from one stays inside the parts directory; the store may add the run's id and attempt
  // (two key components) when an upload under the plain key failed, and keeps the plain key's path.
  const partKeyPattern = new RegExp(
    `^(${escapeRegExp(expected.partPrefix)}-(units|rest)-[0-9a-f]{40})(?:-[A-Za-z0-9._+]+-[A-Za-z0-9._+]+)?$`
  )
  const paths = new Set<string>()
  parts.forEach((part: unknown, i) => {
    if (!isFields(part)) throw new Error(`manifest part ${i} is not an object`)
    const match = typeof part.key === 'string' ? partKeyPattern.exec(part.key) : null
    if (!match) throw new Error(`manifest part ${i}: key ${shown(part.key)} is not a part key of this engine version`)
    const [, plainKey, kind] = match
    const path = expected.partPath(plainKey)
    if (part.path !== path) throw new Error(`manifest part ${i}: path ${shown(part.path)} is not the path of its key`)
    // Parts restore concurrently, each through its own file.
    if (paths.has(path)) throw new Error(`manifest names part key ${shown(plainKey)} twice`)
    paths.add(path)
    for (const field of ['bytes', 'units', 'unitBytes'] as const) {
      if (!isSize(part[field]))
        throw new Error(`manifest part ${i}: ${field} ${shown(part[field])} is not a whole number of at least 0`)
    }
    if (part.remainder !== undefined && typeof part.remainder !== 'boolean') {
      throw new Error(`manifest part ${i}: remainder ${shown(part.remainder)} is not a boolean`)
    }
    if ((kind === 'rest') !== (part.remainder === true)) {
      throw new Error(
        `manifest part ${i}: a ${kind === 'rest' ? 'remainder key on a part not marked remainder' : 'unit key on the remainder part'}`
      )
    }
  })
  if (parts.filter((part: Fields) => part.remainder).length !== 1)
    throw new Error('manifest needs exactly one remainder part')

  const live = new Map<number, number>()
  for (const [id, unit] of Object.entries(units)) {
    if (!isFields(unit)) throw new Error(`manifest unit ${shown(id)} is not an object`)
    const index = unit.part
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= parts.length) {
      throw new Error(`manifest unit ${shown(id)}: part ${shown(index)} is not an index into the parts`)
    }
    if ((parts[index] as Fields).remainder)
      throw new Error(`manifest unit ${shown(id)}: part ${index} is the remainder`)
    live.set(index, (live.get(index) ?? 0) + 1)
    if (!isSize(unit.bytes))
      throw new Error(`manifest unit ${shown(id)}: bytes ${shown(unit.bytes)} is not a whole number of at least 0`)
    if (!Array.isArray(unit.roots) || unit.roots.length === 0)
      throw new Error(`manifest unit ${shown(id)}: roots is not a non-empty list`)
    for (const root of unit.roots as unknown[]) {
      const reason = badRoot(root)
      if (reason) throw new Error(`manifest unit ${shown(id)}: ${reason}`)
    }
  }
  for (const [index, count] of live) {
    const held = (parts[index] as Fields).units as number
    if (count > held) throw new Error(`manifest part ${index}: ${count} live units, but it holds ${held} units`)
  }
  const coldRunBad = value.coldRun === undefined ? undefined : coldRunProblem(value.coldRun)
  if (coldRunBad) {
    // Only the summary's time-saved figures read it: the state restores without them.
    expected.warn?.(`The manifest's cold-run durations are ignored: ${coldRunBad}`)
    const { coldRun: _dropped, ...rest } = value
    return rest as unknown as Manifest
  }
  return value as unknown as Manifest
}
