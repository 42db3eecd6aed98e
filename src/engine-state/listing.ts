// The engine state seen through one `find -printf` listing: a fingerprint of the whole tree, and
// its split into units (the parts of the state that never change once written, stored once and
// reused across saves) and the mutable remainder (uploaded in every save). Pure: no I/O here.
import { createHash } from 'node:crypto'
import { ENGINE_STATE_DIR } from '../engine/engine-json.js'

/** Where the state volume is mounted in every helper container. */
/** The helper mounts the state volume where the engine does, so paths read the same in both. */
export const STATE_MOUNT = ENGINE_STATE_DIR

/**
 * GNU find format, one NUL-terminated field each: type, mode, uid, gid, size, mtime, ctime,
 * inode, link count, symlink target, path. ctime moves with every change (content, mode, owner,
 * xattrs), so it tells a change apart without reading any content (unchangedSince).
 */
export const FIND_FORMAT = '%y\\0%m\\0%U\\0%G\\0%s\\0%T@\\0%C@\\0%i\\0%n\\0%l\\0%p\\0'
const FIELDS_PER_ENTRY = 11

export interface ListingEntry {
  type: string
  mode: string
  uid: string
  gid: string
  size: number
  mtime: string
  ctime: string
  inode: string
  links: number
  target: string
  /** Relative to the state root, starting with '.' (the root itself is '.'). */
  path: string
}

export function parseListing(raw: Buffer | string): ListingEntry[] {
  const fields = raw.toString('utf8').split('\0')
  // The output ends with a NUL, so the split leaves one empty trailing field.
  if ((fields.length - 1) % FIELDS_PER_ENTRY !== 0) {
    throw new Error(`Malformed state listing: ${fields.length - 1} fields is not a multiple of ${FIELDS_PER_ENTRY}`)
  }
  const entries: ListingEntry[] = []
  for (let i = 0; i + FIELDS_PER_ENTRY <= fields.length - 1; i += FIELDS_PER_ENTRY) {
    entries.push({
      type: fields[i],
      mode: fields[i + 1],
      uid: fields[i + 2],
      gid: fields[i + 3],
      size: Number(fields[i + 4]),
      mtime: fields[i + 5],
      ctime: fields[i + 6],
      inode: fields[i + 7],
      links: Number(fields[i + 8]),
      target: fields[i + 9],
      path: fields[i + 10]
    })
  }
  return entries
}

/**
 * sha256 over every entry's fields that survive a save/restore round trip (not ctime or inode), in
 * path order: a save's fingerprint, carried in its manifest, is the fingerprint of the state
 * restored from it, so a restore need not list the state again.
 */
export function fingerprintOf(entries: readonly ListingEntry[]): string {
  // Each line starts with its path and a NUL, so sorting the lines sorts by path.
  const lines = entries.map(identityLine).sort()
  return createHash('sha256')
    .update(`${lines.join('\n')}\n`)
    .digest('hex')
}

/**
 * What post compares to decide that the state did not change since main restored it:
 * `<fingerprint>@<time>`, the time read from the Docker host's clock (the clock of every ctime in
 * the volume) once the restore was done. A write, chmod, chown or xattr change after it gives the
 * entry a later ctime even when it keeps its size and mtime; a removal changes the fingerprint.
 */
export function stateStamp(fingerprint: string, since: string): string {
  return `${fingerprint}@${since}`
}

export function unchangedSince(
  entries: readonly ListingEntry[],
  stamp: string,
  fingerprint = fingerprintOf(entries)
): boolean {
  const at = stamp.lastIndexOf('@')
  if (at < 0) return false
  const since = exactTime(stamp.slice(at + 1))
  if (since === undefined) return false
  return fingerprint === stamp.slice(0, at) && entries.every(entry => (exactTime(entry.ctime) ?? since + 1n) <= since)
}

/** find's `%C@` (seconds, a fraction of up to 10 digits) in units of 1e-10 s: a double would round nanoseconds away. */
function exactTime(text: string): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{1,10})\d*)?$/.exec(text.trim())
  if (!match) return undefined
  return BigInt(match[1]) * 10_000_000_000n + BigInt((match[2] ?? '').padEnd(10, '0'))
}

/** The fields that survive a save/restore round trip unchanged; ctime and inode do not. */
function identityLine(entry: ListingEntry): string {
  return [
    entry.path,
    entry.type,
    entry.mode,
    entry.uid,
    entry.gid,
    entry.size,
    entry.mtime,
    entry.links,
    entry.target
  ].join('\0')
}

function sortedByPath(entries: readonly ListingEntry[]): ListingEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

// A committed snapshot (overlay snapshotter) and a content-addressed blob (content store). Both are
// written once and only ever removed, wherever the engine keeps its worker directory.
const SNAPSHOT_DIR = /(^|\/)snapshots\/snapshots\/[^/]+$/
const CONTENT_BLOB = /(^|\/)content\/blobs\/sha256\/[0-9a-f]{64}$/

function isUnitRoot(entry: ListingEntry): boolean {
  return (entry.type === 'd' && SNAPSHOT_DIR.test(entry.path)) || (entry.type === 'f' && CONTENT_BLOB.test(entry.path))
}

export interface StateUnit {
  /** sha256 over the unit's roots and the listing of everything under them. */
  id: string
  /** Archive member names (paths relative to the state root) that hold the unit. */
  roots: string[]
  /** File bytes plus one tar header per entry: what the unit adds to a part archive, roughly. */
  bytes: number
}

export interface StateSplit {
  units: StateUnit[]
  /** Every entry outside the units, in listing order (parents before children). */
  remainder: ListingEntry[]
  /** Identity of the remainder, to key its part: equal listings hold equal files. */
  remainderId: string
  remainderBytes: number
}

const TAR_HEADER_BYTES = 512

function archivedBytes(entry: ListingEntry): number {
  return TAR_HEADER_BYTES + (entry.type === 'f' ? Math.ceil(entry.size / 512) * 512 : 0)
}

/**
 * Splits a listing (as find prints it: each directory before its contents) into units and the
 * remainder. Units never nest: a blob path inside a snapshot belongs to the snapshot. Hard links
 * must stay within one archive to be restored as links, so units that share an inode are merged
 * into one unit, and a unit sharing an inode with the remainder joins the remainder.
 */
export function splitState(entries: readonly ListingEntry[]): StateSplit {
  const REMAINDER = -1
  const owner = new Array<number>(entries.length)
  const unitEntries: ListingEntry[][] = []
  let currentRoot: string | undefined
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    if (currentRoot !== undefined && entry.path.startsWith(`${currentRoot}/`)) {
      owner[i] = unitEntries.length - 1
      unitEntries[unitEntries.length - 1].push(entry)
    } else if (isUnitRoot(entry)) {
      currentRoot = entry.path
      owner[i] = unitEntries.length
      unitEntries.push([entry])
    } else {
      currentRoot = undefined
      owner[i] = REMAINDER
    }
  }

  // Union-find over units; index unitEntries.length stands for the remainder.
  const remainderNode = unitEntries.length
  const parent = Array.from({ length: unitEntries.length + 1 }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]]
    return i
  }
  const union = (a: number, b: number): void => {
    const [ra, rb] = [find(a), find(b)]
    if (ra === rb) return
    // The remainder always stays a root, so find(x) === remainderNode means "joined the remainder".
    if (ra === remainderNode) parent[rb] = ra
    else parent[ra] = rb
  }
  const firstOwnerOfInode = new Map<string, number>()
  entries.forEach((entry, i) => {
    if (entry.type === 'd' || entry.links < 2) return
    const node = owner[i] === REMAINDER ? remainderNode : owner[i]
    const seen = firstOwnerOfInode.get(entry.inode)
    if (seen === undefined) firstOwnerOfInode.set(entry.inode, node)
    else union(seen, node)
  })

  const groups = new Map<number, number[]>()
  for (let u = 0; u < unitEntries.length; u++) {
    const root = find(u)
    if (root === remainderNode) continue
    const members = groups.get(root)
    if (members) members.push(u)
    else groups.set(root, [u])
  }

  const units: StateUnit[] = []
  for (const members of groups.values()) {
    const memberEntries = members.flatMap(u => unitEntries[u])
    const hash = createHash('sha256')
    for (const entry of sortedByPath(memberEntries)) hash.update(`${identityLine(entry)}\n`)
    units.push({
      id: hash.digest('hex'),
      roots: members.map(u => unitEntries[u][0].path),
      bytes: memberEntries.reduce((sum, entry) => sum + archivedBytes(entry), 0)
    })
  }

  const remainder = entries.filter((_, i) => owner[i] === REMAINDER || find(owner[i]) === remainderNode)
  const remainderHash = createHash('sha256')
  for (const entry of sortedByPath(remainder)) remainderHash.update(`${identityLine(entry)}\n`)
  return {
    units,
    remainder,
    remainderId: remainderHash.digest('hex'),
    remainderBytes: remainder.reduce((sum, entry) => sum + archivedBytes(entry), 0)
  }
}
