// The manifest of a saved engine state and the plan of a save: which stored parts to reuse, which
// to repack, and how new units are packed into part archives. Pure: no I/O here.
import { createHash } from 'node:crypto'
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
}

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
  meta: { engineVersion: string; fingerprint: string }
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
    addPart({ key, path, bytes, units: part.units.length, unitBytes: part.bytes, ...(part.remainder ? { remainder: true } : {}) }, part.units)
  })
  return { format: MANIFEST_FORMAT, engineVersion: meta.engineVersion, fingerprint: meta.fingerprint, savedAt: new Date().toISOString(), parts, units }
}

/** Throws when a manifest read from the cache is not one this code wrote. */
export function validateManifest(value: unknown, engineVersion: string): Manifest {
  const manifest = value as Manifest
  if (!manifest || manifest.format !== MANIFEST_FORMAT) throw new Error('unknown manifest format')
  if (manifest.engineVersion !== engineVersion) {
    throw new Error(`manifest is for engine ${manifest.engineVersion}, not ${engineVersion}`)
  }
  if (!Array.isArray(manifest.parts) || typeof manifest.units !== 'object' || manifest.units === null) {
    throw new Error('manifest has no parts or units')
  }
  for (const part of manifest.parts) {
    if (typeof part.key !== 'string' || typeof part.path !== 'string' || typeof part.bytes !== 'number' || typeof part.units !== 'number' || typeof part.unitBytes !== 'number') {
      throw new Error('manifest part is malformed')
    }
  }
  for (const unit of Object.values(manifest.units)) {
    if (!manifest.parts[unit.part] || !Array.isArray(unit.roots)) throw new Error('manifest unit is malformed')
  }
  if (manifest.parts.filter(part => part.remainder).length !== 1) throw new Error('manifest needs exactly one remainder part')
  return manifest
}
