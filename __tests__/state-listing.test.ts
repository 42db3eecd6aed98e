import { describe, expect, test } from '@jest/globals'
import { fingerprintOf, parseListing, stateStamp, unchangedSince } from '../src/engine-state/listing.js'

/** A listing as the helper's `find -printf FIND_FORMAT` prints it. */
function listing(
  entries: Array<{ path: string; ctime: string; inode?: string; mtime?: string; size?: number }>
): Buffer {
  const fields = entries.flatMap(entry => [
    entry.path === '.' ? 'd' : 'f',
    '644',
    '0',
    '0',
    String(entry.size ?? 5),
    entry.mtime ?? '1700000000.1000000000',
    entry.ctime,
    entry.inode ?? '42',
    '1',
    '',
    entry.path
  ])
  return Buffer.from(fields.map(field => `${field}\0`).join(''))
}

describe('the state stamp post compares', () => {
  const restoredAt = '1795864011.9867523850'
  const state = (ctime: string, extra: { inode?: string; size?: number } = {}) =>
    parseListing(
      listing([
        { path: '.', ctime: '1795864011.0000000000' },
        { path: './db', ctime, ...extra }
      ])
    )

  test('a state whose ctimes are all at or before the stamp is unchanged, whatever its inodes', () => {
    const stamp = stateStamp(fingerprintOf(state('1795864011.5')), restoredAt)
    expect(unchangedSince(state(restoredAt), stamp)).toBe(true)
    expect(unchangedSince(state('1795864011.9867523849', { inode: '7' }), stamp)).toBe(true)
  })

  test('one nanosecond of ctime after the stamp is a change, though a double cannot tell them apart', () => {
    const stamp = stateStamp(fingerprintOf(state('1795864011.5')), restoredAt)
    expect(Number('1795864011.9867523860')).toBe(Number(restoredAt))
    expect(unchangedSince(state('1795864011.9867523860'), stamp)).toBe(false)
    expect(unchangedSince(state('1795864012'), stamp)).toBe(false)
  })

  test('another fingerprint is a change, and so is a stamp that cannot be read', () => {
    const fingerprint = fingerprintOf(state('1795864011.5'))
    expect(unchangedSince(state('1795864011.5', { size: 6 }), stateStamp(fingerprint, restoredAt))).toBe(false)
    expect(unchangedSince(state('1795864011.5'), '')).toBe(false)
    expect(unchangedSince(state('1795864011.5'), fingerprint)).toBe(false)
    expect(unchangedSince(state('1795864011.5'), stateStamp(fingerprint, 'yesterday'))).toBe(false)
  })
})
