// The pipeline's inputs, validated as a whole before any engine or network is touched: each bad
// value fails with an InputError that names the input, the value and what is allowed.

import { access, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join, normalize, posix, relative, resolve, sep } from 'node:path'
import {
  InputError,
  parseBoolean,
  parseImageReference,
  parseList,
  PATH_COMPONENT,
  REGISTRY_HOST,
  type InputReader
} from './parse.js'
import { GO_VERSION, goVersionFromGoMod, goVersionLine, readGoMod, readGoModIfPresent } from './gomod.js'
import { SEVERITIES, type Severity } from '../pipeline/results.js'
import { defaultTags, imageVersion, TAG_PATTERN } from './tags.js'

/** The scanner an empty `scanner` input gives, and action.yml's default. */
export const DEFAULT_SCANNER = 'trivy'

export const STAGES = ['build', 'lint', 'test', 'image', 'scan', 'publish'] as const
export type Stage = (typeof STAGES)[number]

export const SCANNERS = ['trivy', 'grype'] as const
export type Scanner = (typeof SCANNERS)[number]

/** Tool images, pinned so a run today and a run next month lint and scan with the same tools. */
export const DEFAULT_GOLANGCI_LINT_VERSION = 'v2.12.2'
export const SCANNER_IMAGES: Record<Scanner, string> = {
  trivy: 'aquasec/trivy:0.74.0',
  grype: 'anchore/grype:v0.117.0'
}
export const DEFAULT_BASE_IMAGE = 'gcr.io/distroless/static-debian12:nonroot'
/** The uid:gid of distroless's `nonroot` user, used for every base image (scratch has no users). */
export const IMAGE_USER = '65532:65532'

export interface Platform {
  os: string
  arch: string
  variant?: string
  /** `os/arch[/variant]` as the user wrote it. */
  name: string
}

export interface RegistryCredentials {
  /** The registry host that `withRegistryAuth` is given, e.g. `ghcr.io` or `docker.io`. */
  address: string
  username: string
  password: string
}

export interface PipelineConfig {
  /** The stages to run, in pipeline order. */
  stages: Stage[]
  /** The `stage` input asked for `all`. */
  allStages: boolean
  /** Absolute path of the Go module. */
  source: string
  /** The module directory relative to the working directory (the repository), '' when it is the root. */
  sourceFromRepo: string
  modulePath: string
  goVersion: string
  /**
   * Where goVersion came from: the input, or the go.mod `toolchain`/`go` directive; `none` (and an
   * empty goVersion) for stage none on a source without go.mod.
   */
  goVersionFrom: 'input' | 'go.mod' | 'none'
  /** The go.mod line goVersion came from, when goVersionFrom is go.mod (the summary shows it). */
  goModLine?: string
  hasGoSum: boolean
  /** go.mod replaces a module by a local directory, which `go mod download` needs the source for. */
  hasLocalReplace: boolean
  platforms: Platform[]
  /** The main package, relative to the module: `.` or `./cmd/app`. */
  package: string
  binaryName: string
  ldflags: string
  /** Absolute host directory receiving binaries, checksums.txt, the image tarball and the SARIF report. */
  output: string
  image?: string
  tags: string[]
  registry?: RegistryCredentials
  baseImage: string
  scanner: Scanner
  /** Findings at these severities fail the scan stage. */
  severities: Severity[]
  dryRun: boolean
  /** GOPRIVATE patterns. */
  goPrivate: string[]
  /** A token for the private module hosts; a secret, handed to the engine as one. */
  goPrivateToken?: string
  race: boolean
  coverage: boolean
  golangciLintVersion: string
  /** Extra `go test` flags, e.g. `-count=1 -timeout=5m -tags=integration`. */
  testFlags: string[]
  /** OCI labels for the image, from the GITHUB_* environment. */
  labels: Record<string, string>
}

// `go tool dist list` (Go 1.23), the os/arch pairs the toolchain can build for.
const GO_PLATFORMS = new Set(
  (
    'aix/ppc64 android/386 android/amd64 android/arm android/arm64 darwin/amd64 darwin/arm64 dragonfly/amd64 ' +
    'freebsd/386 freebsd/amd64 freebsd/arm freebsd/arm64 freebsd/riscv64 illumos/amd64 ios/amd64 ios/arm64 ' +
    'js/wasm linux/386 linux/amd64 linux/arm linux/arm64 linux/loong64 linux/mips linux/mips64 linux/mips64le ' +
    'linux/mipsle linux/ppc64 linux/ppc64le linux/riscv64 linux/s390x netbsd/386 netbsd/amd64 netbsd/arm ' +
    'netbsd/arm64 openbsd/386 openbsd/amd64 openbsd/arm openbsd/arm64 openbsd/ppc64 openbsd/riscv64 plan9/386 ' +
    'plan9/amd64 plan9/arm solaris/amd64 wasip1/wasm windows/386 windows/amd64 windows/arm windows/arm64'
  ).split(' ')
)
// The variants that map to a Go setting: GOARM for arm, GOAMD64 for amd64.
const PLATFORM_VARIANTS: Record<string, string[]> = {
  arm: ['v5', 'v6', 'v7'],
  amd64: ['v1', 'v2', 'v3', 'v4'],
  arm64: ['v8']
}

export function parsePlatforms(raw: string): Platform[] {
  const names = parseList(raw || 'linux/amd64,linux/arm64')
  const platforms = names.map(name => {
    const [os, arch, variant, ...extra] = name.split('/')
    const allowed =
      'expected os/arch[/variant] from `go tool dist list`, e.g. linux/amd64, linux/arm64, linux/arm/v7, windows/amd64'
    if (!os || !arch || extra.length > 0 || !GO_PLATFORMS.has(`${os}/${arch}`)) {
      throw new InputError('platforms', name, allowed)
    }
    if (variant !== undefined && !PLATFORM_VARIANTS[arch]?.includes(variant)) {
      const variants = PLATFORM_VARIANTS[arch]
      throw new InputError(
        'platforms',
        name,
        variants ? `the variant of ${arch} is one of ${variants.join(', ')}` : `${arch} takes no variant`
      )
    }
    return { os, arch, ...(variant ? { variant } : {}), name }
  })
  if (platforms.length === 0) throw new InputError('platforms', raw, 'expected at least one os/arch')
  const duplicate = names.find((n, i) => names.indexOf(n) !== i)
  if (duplicate) throw new InputError('platforms', raw, `${duplicate} is listed twice`)
  return platforms
}

/** The `stage` value that runs no built-in stage: the engine is set up for the job's later steps. */
export const SETUP_ONLY_STAGE = 'none'

export function parseStages(raw: string, imageSet: boolean): { stages: Stage[]; allStages: boolean } {
  const names = parseList(raw || 'all')
  for (const name of names) {
    if (name !== 'all' && name !== SETUP_ONLY_STAGE && !(STAGES as readonly string[]).includes(name)) {
      throw new InputError(
        'stage',
        name,
        `expected one or more of ${STAGES.join(', ')}, all, or ${SETUP_ONLY_STAGE} alone`
      )
    }
  }
  if (names.includes(SETUP_ONLY_STAGE)) {
    if (names.length > 1) {
      throw new InputError('stage', raw, `${SETUP_ONLY_STAGE} runs no stage, so it cannot be listed with others`)
    }
    return { stages: [], allStages: false }
  }
  const allStages = names.includes('all')
  // `all` pushes only when there is somewhere to push to.
  const chosen = allStages ? STAGES.filter(s => s !== 'publish' || imageSet) : (names as Stage[])
  return { stages: STAGES.filter(s => chosen.includes(s)), allStages }
}

/** Validates a repository reference without tag or digest; returns the registry host it pushes to. */
export function parseImageRepository(raw: string): string {
  const allowed =
    'expected a repository without tag or digest, e.g. ghcr.io/acme/hello or acme/hello (tags go in the tags input)'
  if (raw.includes('@')) throw new InputError('image', raw, allowed)
  const parts = raw.split('/')
  const host = parts.length > 1 && REGISTRY_HOST.test(parts[0]) ? parts[0] : undefined
  const path = host ? parts.slice(1) : parts
  if (path.length === 0 || !path.every(p => PATH_COMPONENT.test(p))) throw new InputError('image', raw, allowed)
  return host ?? 'docker.io'
}

const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** The last element of the module path, skipping a major-version suffix (`example.com/app/v2` → app). */
export function defaultBinaryName(modulePath: string): string {
  const elements = modulePath.split('/')
  const last = elements.at(-1) ?? modulePath
  return /^v\d+$/.test(last) && elements.length > 1 ? elements.at(-2)! : last
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** Resolves `package` to a directory of this module: `./cmd/app`, `cmd/app` or `<module>/cmd/app`. */
async function parsePackage(raw: string, source: string, modulePath: string): Promise<string> {
  const value = raw || '.'
  const allowed = `expected the main package as a path inside the module ${modulePath}, e.g. . or ./cmd/app`
  const inModule =
    value === modulePath ? '.' : value.startsWith(modulePath + '/') ? value.slice(modulePath.length + 1) : value
  if (isAbsolute(inModule) || inModule.includes('...') || inModule.includes('\\')) {
    throw new InputError('package', raw, allowed)
  }
  const normalized = posix.normalize(inModule).replace(/\/+$/, '')
  if (normalized === '..' || normalized.startsWith('../')) throw new InputError('package', raw, allowed)
  const dir = join(source, normalized)
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory()) throw new InputError('package', raw, `${allowed}; ${dir} is not a directory`)
  if (normalized !== '.' && (await exists(join(dir, 'go.mod')))) {
    throw new InputError('package', raw, `${allowed}; ${normalized} has its own go.mod, so it is another module`)
  }
  return normalized === '.' ? '.' : `./${normalized}`
}

async function defaultBranchOf(eventPath: string | undefined): Promise<string | undefined> {
  if (!eventPath) return undefined
  try {
    const event = JSON.parse(await readFile(eventPath, 'utf8')) as { repository?: { default_branch?: string } }
    return event.repository?.default_branch
  } catch {
    return undefined
  }
}

function createdAt(env: NodeJS.ProcessEnv): string {
  // SOURCE_DATE_EPOCH keeps the label (and so the image digest) reproducible when a build sets it.
  const epoch = Number(env.SOURCE_DATE_EPOCH)
  return (Number.isFinite(epoch) && env.SOURCE_DATE_EPOCH ? new Date(epoch * 1000) : new Date()).toISOString()
}

function ociLabels(env: NodeJS.ProcessEnv, tags: string[], title: string): Record<string, string> {
  const labels: Record<string, string> = {}
  if (env.GITHUB_REPOSITORY) {
    labels['org.opencontainers.image.source'] =
      `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}`
  }
  if (env.GITHUB_SHA) labels['org.opencontainers.image.revision'] = env.GITHUB_SHA
  labels['org.opencontainers.image.created'] = createdAt(env)
  const version = imageVersion(tags)
  if (version) labels['org.opencontainers.image.version'] = version
  labels['org.opencontainers.image.title'] = title
  return labels
}

const TEST_FLAGS_ALLOWED =
  "expected go test flags as shell words, e.g. -run 'TestA|TestB' -count=1 -timeout 5m: quote and escape as in sh, " +
  'but no shell operators, expansions or comments, since no shell runs them (-json is always set)'

/**
 * Splits `test-flags` into words as sh would (quotes, backslashes). The words become argv, so
 * anything only a shell would act on (operators, expansions, comments) is refused, not kept literal.
 */
function splitShellWords(raw: string): string[] {
  const refuse = (why: string): never => {
    throw new InputError('test-flags', raw, `${why}; ${TEST_FLAGS_ALLOWED}`)
  }
  const refuseExpansion = (at: number): void => {
    const next = raw[at + 1] ?? ''
    if (/[({\w@*#?$!-]/.test(next)) refuse(`$${next} expansion`)
  }
  const words: string[] = []
  let word: string | undefined // undefined between words, so '' can still be a word
  let i = 0
  while (i < raw.length) {
    const c = raw[i]
    if (' \t\r\n'.includes(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
      i++
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1)
      if (end < 0) refuse("unterminated ' quote")
      word = (word ?? '') + raw.slice(i + 1, end)
      i = end + 1
    } else if (c === '"') {
      let text = ''
      for (i++; raw[i] !== '"'; i++) {
        if (i >= raw.length) refuse('unterminated " quote')
        // Inside double quotes a backslash escapes only these, as in sh.
        if (raw[i] === '\\' && '$`"\\\n'.includes(raw[i + 1] ?? '.')) {
          i++
          if (raw[i] !== '\n') text += raw[i]
          continue
        }
        if (raw[i] === '`') refuse('backtick command substitution')
        if (raw[i] === '$') refuseExpansion(i)
        text += raw[i]
      }
      word = (word ?? '') + text
      i++
    } else if (c === '\\') {
      if (i + 1 >= raw.length) refuse('a backslash at the end')
      // A backslash-newline joins lines; any other escaped character is itself.
      if (raw[i + 1] !== '\n') word = (word ?? '') + raw[i + 1]
      i += 2
    } else {
      if (';&|<>()'.includes(c)) refuse(`shell operator ${c}`)
      if (c === '`') refuse('backtick command substitution')
      if (c === '#' && word === undefined) refuse('a comment')
      if (c === '$') refuseExpansion(i)
      word = (word ?? '') + c
      i++
    }
  }
  if (word !== undefined) words.push(word)
  return words
}

/** `test-flags` as go test arguments: flags, each followed by its value when it has no `=`. */
function parseTestFlags(raw: string): string[] {
  const words = splitShellWords(raw)
  words.forEach((word, i) => {
    const previous = words[i - 1]
    // Without a list of go's flags, a bare word is taken as a value only where one can stand.
    const isValue = !word.startsWith('-') && previous?.startsWith('-') && !previous.includes('=')
    if ((!word.startsWith('-') && !isValue) || /^-{1,2}json(=|$)/.test(word)) {
      throw new InputError('test-flags', word, TEST_FLAGS_ALLOWED)
    }
  })
  return words
}

/**
 * Reads and validates every pipeline input. Async because it reads `<source>/go.mod` and the
 * event payload; it touches neither the engine nor the network.
 */
export async function parsePipelineInputs(
  read: InputReader,
  env: NodeJS.ProcessEnv,
  cwd: string
): Promise<PipelineConfig> {
  const imageRaw = read('image')
  const registryAddress = imageRaw ? parseImageRepository(imageRaw) : undefined
  const { stages, allStages } = parseStages(read('stage'), imageRaw !== '')
  const publishing = stages.includes('publish')

  const sourceRaw = read('source') || '.'
  const source = resolve(cwd, sourceRaw)
  // Stage none runs no Go stage: its source may be any directory, a Dagger module for instance.
  const setupOnly = stages.length === 0
  const goMod = setupOnly ? await readGoModIfPresent(source) : await readGoMod(source)
  const goVersionRaw = read('go-version')
  if (goVersionRaw && !GO_VERSION.test(goVersionRaw)) {
    throw new InputError('go-version', goVersionRaw, 'expected a Go release such as 1.23, 1.23.4 or 1.24rc1')
  }
  const goVersion = goVersionRaw || (goMod ? goVersionFromGoMod(goMod) : '')
  const modulePath = goMod?.module ?? ''

  const platforms = parsePlatforms(read('platforms'))
  const imageStage = stages.find(s => s === 'image' || s === 'scan' || s === 'publish')
  if (imageStage && !platforms.some(p => p.os === 'linux')) {
    throw new InputError(
      'platforms',
      read('platforms'),
      `stage ${imageStage} builds a Linux image, so list at least one linux/… platform`
    )
  }

  const binaryName = read('binary-name') || (goMod ? defaultBinaryName(goMod.module) : '')
  if (binaryName && !BINARY_NAME.test(binaryName)) {
    throw new InputError('binary-name', binaryName, 'expected a file name of letters, digits, ., _ and -')
  }

  const tagsRaw = read('tags')
  const tags = tagsRaw
    ? parseList(tagsRaw)
    : defaultTags({
        ref: env.GITHUB_REF,
        sha: env.GITHUB_SHA,
        defaultBranch: await defaultBranchOf(env.GITHUB_EVENT_PATH)
      })
  for (const tag of tags) {
    if (!TAG_PATTERN.test(tag)) {
      throw new InputError('tags', tag, 'each tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -')
    }
  }

  const username = read('registry-username')
  const password = read('registry-password')
  if (publishing) {
    const why = allStages ? 'stage all publishes because image is set' : 'stage publish'
    if (!imageRaw) throw new InputError('image', '', `${why} needs the repository to push to, e.g. ghcr.io/acme/hello`)
    if (!username) throw new InputError('registry-username', '', `${why} needs registry-username and registry-password`)
    if (!password) throw new InputError('registry-password', '', `${why} needs registry-username and registry-password`)
  }

  const baseImageRaw = read('base-image') || DEFAULT_BASE_IMAGE
  const baseImage =
    baseImageRaw === 'scratch'
      ? baseImageRaw
      : parseImageReference(
          'base-image',
          baseImageRaw,
          'expected scratch or an image reference such as gcr.io/distroless/static-debian12:nonroot'
        )

  const scanner = read('scanner') || DEFAULT_SCANNER
  if (!(SCANNERS as readonly string[]).includes(scanner)) {
    throw new InputError('scanner', scanner, `expected one of ${SCANNERS.join(', ')}`)
  }
  const severities = parseList(read('severity') || 'CRITICAL,HIGH').map(s => {
    const upper = s.toUpperCase()
    if (!(SEVERITIES as readonly string[]).includes(upper)) {
      throw new InputError('severity', s, `expected one or more of ${SEVERITIES.join(', ')}`)
    }
    return upper as Severity
  })

  const goPrivate = parseList(read('go-private'))
  for (const pattern of goPrivate) {
    if (/\s/.test(pattern))
      throw new InputError('go-private', pattern, 'expected GOPRIVATE glob patterns such as github.com/acme/*')
  }
  const goPrivateToken = read('go-private-token')
  if (goPrivateToken && goPrivate.length === 0) {
    throw new InputError(
      'go-private',
      '',
      'go-private-token is set, so list the private module patterns (GOPRIVATE), e.g. github.com/acme/*'
    )
  }

  const golangciLintVersion = read('golangci-lint-version') || DEFAULT_GOLANGCI_LINT_VERSION
  // --path-mode, which the lint stage relies on, came with v2.1.
  if (!/^v2\.([1-9]\d*)\.\d+$/.test(golangciLintVersion)) {
    throw new InputError(
      'golangci-lint-version',
      golangciLintVersion,
      'expected a golangci-lint release from v2.1.0 on, such as v2.12.2'
    )
  }

  const testFlags = parseTestFlags(read('test-flags'))

  const fromRepo = relative(cwd, source)
  return {
    stages,
    allStages,
    source,
    sourceFromRepo: fromRepo.split(sep).join('/'),
    modulePath,
    goVersion,
    goVersionFrom: goVersionRaw ? 'input' : goMod ? 'go.mod' : 'none',
    ...(!goVersionRaw && goMod ? { goModLine: goVersionLine(goMod) } : {}),
    hasGoSum: await exists(join(source, 'go.sum')),
    hasLocalReplace: (goMod?.localReplaces.length ?? 0) > 0,
    platforms,
    package: await parsePackage(read('package'), source, modulePath),
    binaryName,
    ldflags: read('ldflags') || '-s -w',
    output: normalize(resolve(cwd, read('output') || 'bin')),
    ...(imageRaw ? { image: imageRaw } : {}),
    tags,
    ...(registryAddress && username && password ? { registry: { address: registryAddress, username, password } } : {}),
    baseImage,
    scanner: scanner as Scanner,
    severities,
    dryRun: parseBoolean('dry-run', read('dry-run'), false),
    goPrivate,
    ...(goPrivateToken ? { goPrivateToken } : {}),
    race: parseBoolean('race', read('race'), false),
    coverage: parseBoolean('coverage', read('coverage'), true),
    golangciLintVersion,
    testFlags,
    labels: ociLabels(env, tags, binaryName)
  }
}

/** The platforms the image is assembled for: the Linux ones of `platforms`. */
export function imagePlatforms(cfg: PipelineConfig): Platform[] {
  return cfg.platforms.filter(p => p.os === 'linux')
}

/** A short name of the stages a job runs, for the engine-state cache key (`all`, `build+lint`). */
export function stateScopeForStages(cfg: Pick<PipelineConfig, 'stages' | 'allStages'>): string {
  return cfg.allStages ? 'all' : cfg.stages.join('+') || SETUP_ONLY_STAGE
}

/** Where the scan stage writes its SARIF report and the image stage its OCI tarball. */
export function sarifPath(cfg: PipelineConfig): string {
  return join(cfg.output, `${cfg.binaryName}.sarif`)
}
export function imageTarballPath(cfg: PipelineConfig): string {
  return join(cfg.output, `${cfg.binaryName}-image.tar`)
}
