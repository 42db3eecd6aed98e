// The manifest read back from the Actions cache is untrusted input: any workflow run of the
// repository can write an entry under the keys the action looks up. validateManifest must accept
// what a save writes and refuse anything else with a reason.
import { describe, expect, test } from '@jest/globals'
import { splitState, type ListingEntry } from '../src/engine-state/listing.js'
import {
  buildManifest,
  MAX_RECORDED_MS,
  planSave,
  validateManifest,
  type ColdRun,
  type Manifest,
  type ManifestUnit
} from '../src/engine-state/manifest.js'
import { engineStateKeys } from '../src/engine-state/store.js'

const ENGINE_VERSION = 'v0.21.8'
const keys = engineStateKeys({
  engineVersion: ENGINE_VERSION,
  scope: 'all',
  os: 'Linux',
  arch: 'X64',
  runId: '1',
  runAttempt: '1'
})
// The validator is handed the store's derivation; any pure function of the key does for these tests.
const partPath = (key: string): string => `state/parts/${key.slice(-40)}.tar`
const expected = { engineVersion: ENGINE_VERSION, partPrefix: keys.partPrefix, partPath }

function entry(type: 'd' | 'f', path: string, size = 0): ListingEntry {
  return {
    type,
    mode: type === 'd' ? '755' : '644',
    uid: '0',
    gid: '0',
    size,
    mtime: '1700000000.5',
    ctime: '1700000000.5',
    inode: path,
    links: 1,
    target: '',
    path
  }
}

const BLOB = `./worker/content/blobs/sha256/${'ab'.repeat(32)}`
const state = [
  entry('d', '.'),
  entry('d', './worker'),
  entry('d', './worker/snapshots'),
  entry('d', './worker/snapshots/snapshots'),
  entry('d', './worker/snapshots/snapshots/1'),
  entry('f', './worker/snapshots/snapshots/1/hosts', 6),
  entry('d', './worker/snapshots/snapshots/2'),
  entry('f', './worker/snapshots/snapshots/2/ping', 4096),
  entry('d', './worker/content'),
  entry('d', './worker/content/blobs'),
  entry('d', './worker/content/blobs/sha256'),
  entry('f', BLOB, 1024),
  entry('f', './worker/metadata.db', 8192)
]

/** A manifest as saveEngineState builds it: parts stored under the store's path for their keys. */
function savedManifest(entries: readonly ListingEntry[], previous?: Manifest, partTargetBytes = 2048): Manifest {
  const plan = planSave(splitState(entries), previous, {
    partKeyPrefix: keys.partPrefix,
    partTargetBytes,
    minLiveFraction: 0.5
  })
  const stored = plan.created.map(part => ({ key: part.key, path: partPath(part.key), bytes: part.bytes + 512 }))
  // Through JSON, as it comes back from the cache.
  return JSON.parse(
    JSON.stringify(buildManifest(plan, stored, { engineVersion: ENGINE_VERSION, fingerprint: 'f'.repeat(64) }))
  ) as Manifest
}

/** A copy of a saved manifest with one thing changed. */
function altered(change: (manifest: Manifest) => void): unknown {
  const manifest = structuredClone(savedManifest(state))
  change(manifest)
  return manifest
}

/** Writes a value of any type into a field, as a cache entry written by someone else may hold. */
function tamper<T extends object, K extends keyof T>(target: T, field: K, value: unknown): void {
  const fields: Record<K, unknown> = target
  fields[field] = value
}

const unitPartIndex = (manifest: Manifest): number => manifest.parts.findIndex(p => !p.remainder)
const firstUnit = (manifest: Manifest): ManifestUnit => Object.values(manifest.units)[0]

describe('validateManifest', () => {
  test('accepts what a save writes, and what a later save that reuses parts writes', () => {
    const first = savedManifest(state)
    expect(first.parts.length).toBeGreaterThanOrEqual(3)
    expect(validateManifest(first, expected)).toEqual(first)
    const second = savedManifest(
      [...state, entry('d', './worker/snapshots/snapshots/3'), entry('f', './worker/snapshots/snapshots/3/x', 10)],
      first
    )
    expect(second.parts.some(part => first.parts.some(old => old.key === part.key && !part.remainder))).toBe(true)
    expect(validateManifest(second, expected)).toEqual(second)
  })

  test("accepts a part stored under the run's key after its plain key was refused, at the plain key's path", () => {
    const manifest = savedManifest(state)
    manifest.parts[0].key += '-1234567890_build-1'
    expect(validateManifest(manifest, expected)).toEqual(manifest)
  })

  test.each<[string, (manifest: Manifest) => void, RegExp]>([
    // A part's path is a host file the restore writes and deletes: only the store's own path for its key will do.
    [
      'a part path outside the parts directory',
      m => (m.parts[0].path = '../../../home/runner/.ssh/id_ed25519'),
      /part 0: .*path/
    ],
    ['an absolute part path', m => (m.parts[0].path = '/etc/passwd'), /part 0: .*path/],
    ['a part path that is not the one of its key', m => (m.parts[1].path = m.parts[0].path), /part 1: .*path/],
    [
      'a part key of another engine version',
      m => (m.parts[0].key = m.parts[0].key.replace('v0.21.8', 'v0.21.7')),
      /part 0: .*key/
    ],
    [
      'a key that derives a path outside the parts directory',
      m => {
        m.parts[0].key = `${keys.partPrefix}-units-../../../../../../../../../../../../x`
        m.parts[0].path = partPath(m.parts[0].key)
      },
      /part 0: .*key/
    ],
    ['a key that is not a string', m => tamper(m.parts[0], 'key', 7), /part 0: .*key/],
    ['a run suffix that is not two key components', m => (m.parts[0].key += '-1234567890/../x-1'), /part 0: .*key/],
    [
      'a run-suffixed key at a path of its own',
      m => {
        m.parts[0].key += '-1234567890_build-1'
        m.parts[0].path = partPath(m.parts[0].key)
      },
      /part 0: .*path/
    ],
    [
      'the same part under its plain and its run key',
      m => {
        const i = unitPartIndex(m)
        m.parts.push({ ...m.parts[i], key: `${m.parts[i].key}-1234567890_build-1` })
      },
      /key .* twice/
    ],
    [
      'two parts under one key',
      m => {
        const i = unitPartIndex(m)
        m.parts.push({ ...m.parts[i] })
      },
      /key .* twice/
    ],
    ['a negative size', m => (m.parts[0].bytes = -1), /part 0: .*bytes/],
    ['a fractional size', m => (m.parts[0].unitBytes = 1.5), /part 0: .*unitBytes/],
    ['a size that is a string', m => tamper(m.parts[0], 'units', '3'), /part 0: .*units/],
    ['a part that is not an object', m => tamper(m.parts, 0, null), /part 0/],
    ['no remainder part', m => m.parts.forEach(p => delete p.remainder), /remainder/],
    ['a remainder flag that is not a boolean', m => tamper(m.parts[unitPartIndex(m)], 'remainder', 'yes'), /remainder/],
    ['a unit index that is not an integer', m => (firstUnit(m).part = 0.5), /unit .*part/],
    ['a unit index past the parts', m => (firstUnit(m).part = m.parts.length), /unit .*part/],
    ['a unit index that is a string', m => tamper(firstUnit(m), 'part', '0'), /unit .*part/],
    [
      'a unit in the remainder part',
      m => (firstUnit(m).part = m.parts.findIndex(p => p.remainder)),
      /unit .*remainder/
    ],
    ['more live units in a part than it holds', m => (m.parts[firstUnit(m).part].units = 0), /part \d+: .*units/],
    ['a unit with a negative size', m => (firstUnit(m).bytes = -5), /unit .*bytes/],
    ['a unit without roots', m => (firstUnit(m).roots = []), /unit .*roots/],
    ['roots that are not a list', m => tamper(firstUnit(m), 'roots', './worker'), /unit .*roots/],
    // Every root is a name tar extracts and mkdir creates inside the state volume.
    ['a root with a .. segment', m => firstUnit(m).roots.push('./worker/../../etc/shadow'), /unit .*root .*\.\./],
    ['a root that is only ..', m => firstUnit(m).roots.push('..'), /unit .*root/],
    ['an absolute root', m => firstUnit(m).roots.push('/etc/shadow'), /unit .*root/],
    ['a root that mkdir would read as an option', m => firstUnit(m).roots.push('-m777/x'), /unit .*root/],
    ['a root with a NUL', m => firstUnit(m).roots.push('./worker/a\0b'), /unit .*root .*NUL/],
    ['a root that is not a string', m => tamper(firstUnit(m).roots, firstUnit(m).roots.length, 42), /unit .*root/],
    ['a unit that is not an object', m => tamper(m.units, 'x', 'nope'), /unit "x"/],
    ['units that are a list', m => tamper(m, 'units', []), /units/],
    ['a fingerprint that is not a string', m => tamper(m, 'fingerprint', 1), /fingerprint/],
    ['another engine version', m => (m.engineVersion = 'v0.21.7'), /engine "v0\.21\.7", not "v0\.21\.8"/],
    ['another format', m => tamper(m, 'format', 2), /format/]
  ])('refuses %s, saying why', (_what, change, reason) => {
    expect(() => validateManifest(altered(change), expected)).toThrow(reason)
  })

  test.each([null, 'manifest', [], 42])('refuses %p, which is no manifest at all', value => {
    expect(() => validateManifest(value, expected)).toThrow(/format/)
  })
})

describe('the cold run in the manifest', () => {
  const COLD_RUN: ColdRun = { pipelineMs: 180_000, stages: { build: 150_000, image: 20_000, publish: 12_000 } }
  /** A saved manifest, through JSON as the cache gives it back, with `coldRun` as given. */
  const savedWithColdRun = (coldRun?: unknown): unknown =>
    JSON.parse(JSON.stringify(coldRun === undefined ? savedManifest(state) : { ...savedManifest(state), coldRun }))

  test('a save records it and a restore reads it back', () => {
    const manifest = savedWithColdRun(COLD_RUN)
    const warnings: string[] = []
    expect(validateManifest(manifest, { ...expected, warn: m => warnings.push(m) }).coldRun).toEqual(COLD_RUN)
    expect(warnings).toEqual([])
  })

  test('a manifest without one restores as before', () => {
    const manifest = savedWithColdRun()
    expect(validateManifest(manifest, expected)).not.toHaveProperty('coldRun')
  })

  test.each([
    ['not an object', 'slow', '"slow" is not an object'],
    ['a pipeline time as text', { ...COLD_RUN, pipelineMs: '180000' }, 'pipelineMs "180000" is not a whole number'],
    ['a negative time', { ...COLD_RUN, stages: { build: -1 } }, 'stage build: -1 is not a whole number'],
    ['a fraction', { ...COLD_RUN, stages: { build: 1.5 } }, 'stage build: 1.5 is not a whole number'],
    [
      'more than a week',
      { ...COLD_RUN, pipelineMs: MAX_RECORDED_MS + 1 },
      `pipelineMs ${MAX_RECORDED_MS + 1} is not a whole number of 0 to ${MAX_RECORDED_MS} ms`
    ],
    ['an unknown stage', { ...COLD_RUN, stages: { deploy: 5 } }, 'stage "deploy" is not one of build, lint, test'],
    ['no stages', { ...COLD_RUN, stages: {} }, 'stages is empty'],
    ['stages as a list', { ...COLD_RUN, stages: [1, 2] }, 'stages [1,2] is not an object keyed by stage'],
    ['an unknown field', { ...COLD_RUN, note: '<script>' }, 'unknown field "note"']
  ])('%s is ignored with a warning, and the state still restores', (_, coldRun, reason) => {
    const manifest = savedWithColdRun(coldRun)
    const warnings: string[] = []
    const restored = validateManifest(manifest, { ...expected, warn: message => warnings.push(message) })
    expect(restored).not.toHaveProperty('coldRun')
    expect(restored.parts).toEqual((manifest as Manifest).parts)
    expect(warnings).toEqual([expect.stringContaining(`The manifest's cold-run durations are ignored: ${reason}`)])
  })
})
