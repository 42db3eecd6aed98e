// Reads the few go.mod directives the pipeline needs: the module path (binary name, package
// checks), the Go version to pin the toolchain image to, and replacements by local directories.
import { access, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from './parse.js'

export interface GoMod {
  /** The go.mod file that was read. */
  path: string
  module: string
  /** The `go` directive, e.g. `1.22` or `1.22.3`. */
  go?: string
  /** The `toolchain` directive, e.g. `go1.23.4` (absent, or `default`, means none). */
  toolchain?: string
  /** The directories of `replace old => ./dir` directives (a target without a version is a path). */
  localReplaces: string[]
}

/** Splits one go.mod line into tokens, honouring quoted strings and dropping a `//` comment. */
function tokenize(line: string): string[] {
  const tokens: string[] = []
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t') {
      i++
    } else if (line.startsWith('//', i)) {
      break
    } else if (c === '"' || c === '`') {
      let end = i + 1
      while (end < line.length && line[end] !== c) end += c === '"' && line[end] === '\\' ? 2 : 1
      // A JSON string literal parses to a string.
      tokens.push(c === '"' ? (JSON.parse(line.slice(i, end + 1)) as string) : line.slice(i + 1, end))
      i = end + 1
    } else if (c === '(' || c === ')') {
      tokens.push(c)
      i++
    } else {
      let end = i
      while (end < line.length && !' \t()"`'.includes(line[end]) && !line.startsWith('//', end)) end++
      tokens.push(line.slice(i, end))
      i = end
    }
  }
  return tokens
}

/** Parses go.mod text into its directives; `file` only names it in errors. */
export function parseGoMod(text: string, file: string): GoMod {
  const directives = new Map<string, string[]>()
  const localReplaces: string[] = []
  // `replace old [v] => new [v]`: go.mod's own rule is that a target with no version is a directory.
  const replace = (args: string[]): void => {
    const arrow = args.indexOf('=>')
    if (arrow >= 0 && args.length === arrow + 2) localReplaces.push(args[arrow + 1])
  }
  let block: string | undefined
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const line of lines) {
    const tokens = tokenize(line)
    if (tokens.length === 0) continue
    if (block !== undefined) {
      if (tokens[0] === ')') block = undefined
      else if (block === 'replace') replace(tokens)
      continue
    }
    const [verb, ...rest] = tokens
    if (rest[0] === '(') {
      // Of the block members (require, replace, exclude, retract, godebug, ...) only replace is read.
      if (rest.at(-1) !== ')') block = verb
      continue
    }
    if (verb === 'replace') replace(rest)
    else if (!directives.has(verb)) directives.set(verb, rest)
  }
  const module = directives.get('module')?.[0]
  if (!module) throw new InputError('source', file, 'expected a go.mod with a module directive')
  const go = directives.get('go')?.[0]
  const toolchain = directives.get('toolchain')?.[0]
  return { path: file, module, ...(go ? { go } : {}), ...(toolchain ? { toolchain } : {}), localReplaces }
}

/** Reads `<dir>/go.mod`; a missing file is a bad `source` input. */
export async function readGoMod(dir: string): Promise<GoMod> {
  const file = join(dir, 'go.mod')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new InputError('source', dir, `expected the directory of a Go module, but ${file} cannot be read (${code})`)
  }
  return parseGoMod(text, file)
}

/**
 * readGoMod for the setup-only stage, whose source need not be a Go module: undefined when the
 * directory has no go.mod. The directory itself must exist, and a go.mod that is there must parse.
 */
export async function readGoModIfPresent(dir: string): Promise<GoMod | undefined> {
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory()) throw new InputError('source', dir, 'expected a directory of the repository')
  if (
    !(await access(join(dir, 'go.mod')).then(
      () => true,
      () => false
    ))
  )
    return undefined
  return readGoMod(dir)
}

/** A Go release as go.mod and the go-version input spell it: 1.23, 1.23.4, 1.24rc1. */
const GO_RELEASE = String.raw`\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?`
export const GO_VERSION = new RegExp(`^(${GO_RELEASE})$`)
/** A toolchain line's name: go1.23.4, or go1.23.4-custom for a suffixed build. */
const GO_TOOLCHAIN = new RegExp(`^go(${GO_RELEASE})(?:-.*)?$`)

/** The go.mod line goVersionFromGoMod takes the version from: `toolchain go1.23.4` or `go 1.23`. */
export function goVersionLine(mod: GoMod): string {
  return GO_TOOLCHAIN.test(mod.toolchain ?? '') ? `toolchain ${mod.toolchain}` : `go ${mod.go}`
}

/**
 * The Go version to build with, as a golang image tag: `toolchain goX.Y.Z` wins over `go X.Y[.Z]`,
 * as the go command itself picks the newer toolchain the module asks for.
 */
export function goVersionFromGoMod(mod: GoMod): string {
  const toolchain = mod.toolchain?.match(GO_TOOLCHAIN)
  if (toolchain) return toolchain[1]
  if (mod.go && GO_VERSION.test(mod.go)) return mod.go
  throw new InputError(
    'go-version',
    '',
    `${mod.path} declares no usable go version (go ${mod.go ?? 'missing'}${
      mod.toolchain ? `, toolchain ${mod.toolchain}` : ''
    }); set go-version, e.g. 1.23`
  )
}
