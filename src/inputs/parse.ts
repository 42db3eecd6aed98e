// Shared input parsing. Every parser is pure: it takes the raw string that the runner (or the
// local command) gave for one input and returns a typed value, or throws an InputError that names
// the input, the value and what is allowed. action-config.ts is the only module that reads the raw inputs.

export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly value: string,
    readonly allowed: string
  ) {
    super(`Input '${input}' has an invalid value '${value}': ${allowed}`)
    this.name = 'InputError'
  }
}

/** A function that returns the raw, trimmed value of an input, '' when unset. */
export type InputReader = (name: string) => string

export function parseBoolean(name: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim()
  if (value === '') return fallback
  // The YAML 1.2 core schema booleans, as @actions/core getBooleanInput accepts them.
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, value, 'expected true or false')
}

export function parseInteger(
  name: string,
  raw: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}
): number {
  const value = raw.trim()
  if (value === '') return fallback
  if (!/^[+-]?\d+$/.test(value)) {
    throw new InputError(name, value, `expected a whole number from ${min} to ${max}`)
  }
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(name, value, `expected a whole number from ${min} to ${max}`)
  }
  return n
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40
}

/** A byte size such as `4GB`, `512MiB`, `1.5g` or a plain number of bytes. */
export function parseSize(name: string, raw: string, fallback: number): number {
  const value = raw.trim()
  if (value === '') return fallback
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value)
  const unit = match ? match[2].toLowerCase() : ''
  if (!match || !(unit in SIZE_UNITS)) {
    throw new InputError(
      name,
      value,
      'expected a size such as 2GB, 512MiB or a number of bytes (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)'
    )
  }
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[unit])
  if (bytes <= 0) throw new InputError(name, value, 'expected a size greater than zero')
  return bytes
}

/** Splits a list input on commas and newlines, dropping empty items. */
export function parseList(raw: string): string[] {
  return raw
    .split(/[,\n]/)
    .map(s => s.trim())
    .filter(s => s !== '')
}

// Docker's reference grammar, the one place it is spelled: [host[:port]/]path[:tag][@sha256:hex],
// path components lowercase. Used for every image input and the repository that publish pushes to.
const HOST = String.raw`(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9a-fA-F:]+\])(?::\d+)?|[A-Za-z0-9-]+:\d+`
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
export const REGISTRY_HOST = new RegExp(`^(?:${HOST})$`)
export const PATH_COMPONENT = new RegExp(`^${COMPONENT}$`)
const IMAGE_REFERENCE = new RegExp(
  String.raw`^(?:(?:${HOST})/)?${COMPONENT}(?:/${COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`
)

/** An image reference (tag and digest optional), or an InputError naming the input. */
export function parseImageReference(
  input: string,
  raw: string,
  allowed = 'expected an image reference such as registry.dagger.io/engine:v0.21.8 or host:5000/team/image@sha256:<digest>'
): string {
  const value = raw.trim()
  if (!IMAGE_REFERENCE.test(value)) throw new InputError(input, value, allowed)
  return value
}
