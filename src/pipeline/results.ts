// Typed results read from the tools' machine-readable output: golangci-lint v2 JSON, the
// `go test -json` event stream with `go tool cover -func`, and trivy/grype JSON reports.
// Paths are mapped from the container's working directory to the repository, so callers can
// annotate the right file.

import { posix } from 'node:path'
import { errorMessage } from '../shared/errors.js'

/** Where the module is mounted in the container and where it lives relative to the repository root. */
export interface PathMapping {
  containerRoot: string
  /** The module directory relative to the repository root ('' when they are the same). */
  hostRoot: string
}

/** A path the tool printed (absolute in the container or relative to it) → a repository-relative path. */
export function toHostPath(file: string, { containerRoot, hostRoot }: PathMapping): string {
  const root = containerRoot.replace(/\/+$/, '')
  let relative = file
  if (file === root) relative = ''
  else if (file.startsWith(root + '/')) relative = file.slice(root.length + 1)
  else if (posix.isAbsolute(file)) return file
  return posix.join(hostRoot || '.', relative)
}

// ───────────────────────────── golangci-lint ─────────────────────────────

export interface LintFinding {
  file: string
  line: number
  column: number
  linter: string
  message: string
  /** The severity golangci-lint assigned (`severity` rules in .golangci.yml), `error` when none. */
  severity: string
}

interface GolangciIssue {
  FromLinter?: string
  Text?: string
  Severity?: string
  Pos?: { Filename?: string; Line?: number; Column?: number }
}

/**
 * Reads the file `golangci-lint run --output.json.path=<file>` writes. Returns undefined when it
 * holds no report (the linter crashed or the configuration was rejected), so the caller can tell
 * "no findings" from "no result".
 */
export function parseGolangciLint(json: string, paths: PathMapping): LintFinding[] | undefined {
  let report: { Issues?: GolangciIssue[] | null } | undefined
  try {
    report = JSON.parse(json) as typeof report
  } catch {
    return undefined
  }
  if (!report || typeof report !== 'object' || !('Issues' in report)) return undefined
  return (report.Issues ?? []).map(issue => ({
    file: toHostPath(issue.Pos?.Filename ?? '', paths),
    line: issue.Pos?.Line ?? 0,
    column: issue.Pos?.Column ?? 0,
    linter: issue.FromLinter ?? '',
    message: issue.Text ?? '',
    severity: issue.Severity || 'error'
  }))
}

// ───────────────────────────── go test -json ─────────────────────────────

export interface TestFailure {
  /** The test name (`TestX/sub`), '' when the package itself failed (build error, panic in init, TestMain). */
  test: string
  package: string
  file?: string
  line?: number
  output: string
}

export interface TestReport {
  passed: number
  failed: number
  skipped: number
  failures: TestFailure[]
  /** Total statement coverage in percent, when coverage was asked for and measured. */
  coverage?: number
}

interface TestEvent {
  Action?: string
  Package?: string
  ImportPath?: string
  Test?: string
  Output?: string
}

// `t.Errorf` prints the file's base name, the compiler a path relative to the working directory,
// and a panic's stack trace the absolute path.
const TEST_LOCATION = /^\s+([\w.-]+\.go):(\d+): /m
const COMPILE_LOCATION = /^((?:[\w.-]+\/)*[\w.-]+\.go):(\d+):\d+: /m
const TRACE_LOCATION = /^\s+(\/\S+_test\.go):(\d+)/m

function locate(output: string, pkg: string, modulePath: string, paths: PathMapping): { file?: string; line?: number } {
  const short = TEST_LOCATION.exec(output)
  if (short) {
    const packageDir =
      pkg === modulePath ? '' : pkg.startsWith(modulePath + '/') ? pkg.slice(modulePath.length + 1) : undefined
    if (packageDir === undefined) return { line: Number(short[2]) }
    return { file: posix.join(paths.hostRoot || '.', packageDir, short[1]), line: Number(short[2]) }
  }
  const compiled = COMPILE_LOCATION.exec(output)
  if (compiled) return { file: toHostPath(compiled[1], paths), line: Number(compiled[2]) }
  const traced = TRACE_LOCATION.exec(output)
  if (traced) return { file: toHostPath(traced[1], paths), line: Number(traced[2]) }
  return {}
}

/**
 * The package a build belongs to: `p [p.test]` is p built for its tests, `p_test [p.test]` its
 * external tests, both reported by go test as package p.
 */
function packageOfBuild(importPath: string): string {
  const match = /^(\S+)(?: \[(\S+?)(\.test)?\])?$/.exec(importPath)
  if (!match) return importPath
  return match[3] ? match[2] : match[1]
}

// Before Go 1.24 a package that does not compile sends no build events: go test prints
// `FAIL <pkg> [build failed]` (in an output event from 1.22, as a plain line before) and the
// compiler's errors go to stderr, each package's under a `# <import path>` header.
const PLAIN_PACKAGE_FAIL = /^FAIL\s+(\S+) \[(?:build|setup) failed\]$/
const BUILD_HEADER = /^# ([^\s[]\S*(?: \[\S+\])?)$/
// A located message from a Go file; gcc's cgo warnings and notes are located too, but fail nothing.
const BUILD_ERROR = /^(?:[\w.-]+\/)*[\w.-]+\.go:\d+:\d+: (?!warning:|note:)/m

/**
 * Reads a `go test -json` stream (test2json events, one per line) and the command's stderr, which
 * holds the compiler's errors on Go before 1.24. Other lines are ignored.
 */
export function parseGoTestJson(stream: string, modulePath: string, paths: PathMapping, stderr = ''): TestReport {
  const outputs = new Map<string, string[]>()
  const outcomes = new Map<string, { pkg: string; test: string; action: string }>()
  const failedPackages = new Set<string>()
  const key = (pkg: string, test: string): string => `${pkg}\u0000${test}`
  const append = (pkg: string, test: string, text: string): void => {
    // Appended in place: copying the list on every line made a chatty test quadratic.
    const id = key(pkg, test)
    let chunks = outputs.get(id)
    if (!chunks) outputs.set(id, (chunks = []))
    chunks.push(text)
  }

  // stderr first, so a package's compiler errors come before its FAIL line, as in Go 1.24+.
  for (const block of stderr.split(/^(?=# [^\s[])/m)) {
    const header = BUILD_HEADER.exec(block.split('\n', 1)[0])
    if (!header) continue
    const pkg = packageOfBuild(header[1])
    append(pkg, '', block.endsWith('\n') ? block : block + '\n')
    if (BUILD_ERROR.test(block)) failedPackages.add(pkg)
  }

  for (const line of stream.split('\n')) {
    if (!line.startsWith('{')) {
      const failed = PLAIN_PACKAGE_FAIL.exec(line.trimEnd())
      if (failed) {
        failedPackages.add(failed[1])
        append(failed[1], '', line + '\n')
      }
      continue
    }
    let event: TestEvent
    try {
      // A line that starts with { and parses is an object, one of test2json's events.
      event = JSON.parse(line) as TestEvent
    } catch {
      continue
    }
    // Go 1.24+ reports build errors as build-output/build-fail events keyed by ImportPath.
    const pkg = event.Package ?? (event.ImportPath ? packageOfBuild(event.ImportPath) : '')
    const test = event.Test ?? ''
    const id = key(pkg, test)
    if ((event.Action === 'output' || event.Action === 'build-output') && event.Output !== undefined) {
      append(pkg, test, event.Output)
    } else if (event.Action === 'pass' || event.Action === 'fail' || event.Action === 'skip') {
      if (test) outcomes.set(id, { pkg, test, action: event.Action })
      else if (event.Action === 'fail') failedPackages.add(pkg)
    } else if (event.Action === 'build-fail') {
      failedPackages.add(pkg)
    }
  }

  const all = [...outcomes.values()]
  const failedTests = all.filter(o => o.action === 'fail')
  // A failing subtest fails its parent too; report the innermost failure only.
  const innermost = failedTests.filter(
    parent => !failedTests.some(child => child.pkg === parent.pkg && child.test.startsWith(parent.test + '/'))
  )
  const failures: TestFailure[] = innermost.map(({ pkg, test }) => {
    const output = (outputs.get(key(pkg, test)) ?? []).join('')
    return { test, package: pkg, ...locate(output, pkg, modulePath, paths), output }
  })
  for (const pkg of failedPackages) {
    if (failedTests.some(o => o.pkg === pkg)) continue
    const output = (outputs.get(key(pkg, '')) ?? []).join('')
    failures.push({ test: '', package: pkg, ...locate(output, pkg, modulePath, paths), output })
  }
  return {
    passed: all.filter(o => o.action === 'pass').length,
    failed: failedTests.length,
    skipped: all.filter(o => o.action === 'skip').length,
    failures
  }
}

/** The total from `go tool cover -func` (`total:  (statements)  84.6%`). */
export function parseCoverFunc(text: string): number | undefined {
  const match = /^total:\s+\(statements\)\s+([\d.]+)%\s*$/m.exec(text)
  return match ? Number(match[1]) : undefined
}

// ───────────────────────────── vulnerability scanners ─────────────────────────────

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface Vulnerability {
  id: string
  severity: Severity
  package: string
  installedVersion: string
  fixedVersion?: string
  title?: string
  url?: string
  /** Where in the image the package was found (a binary path, or the OS package database). */
  location: string
  /** The image platforms it was found in. */
  platforms: string[]
}

export function normalizeSeverity(raw: string | undefined): Severity {
  const upper = (raw ?? '').toUpperCase()
  if (upper === 'NEGLIGIBLE') return 'LOW'
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNKNOWN'
}

interface TrivyReport {
  ArtifactName?: string
  Results?: {
    Target?: string
    Class?: string
    Type?: string
    Vulnerabilities?: {
      VulnerabilityID?: string
      PkgName?: string
      InstalledVersion?: string
      FixedVersion?: string
      Severity?: string
      Title?: string
      PrimaryURL?: string
    }[]
  }[]
}

/** Reads `trivy image --format json`. */
export function parseTrivyJson(text: string, platform: string): Vulnerability[] {
  const report = JSON.parse(text) as TrivyReport
  return (report.Results ?? []).flatMap(result =>
    (result.Vulnerabilities ?? []).map(v => ({
      id: v.VulnerabilityID ?? '',
      severity: normalizeSeverity(v.Severity),
      package: v.PkgName ?? '',
      installedVersion: v.InstalledVersion ?? '',
      fixedVersion: v.FixedVersion || undefined,
      title: v.Title || undefined,
      url: v.PrimaryURL || undefined,
      // OS packages are reported against the image ("name (debian 12.8)"), binaries by their path.
      location:
        result.Class === 'os-pkgs' ? `${result.Type ?? 'os'} package ${v.PkgName ?? ''}` : (result.Target ?? ''),
      platforms: [platform]
    }))
  )
}

interface GrypeReport {
  matches?: {
    vulnerability?: {
      id?: string
      severity?: string
      dataSource?: string
      description?: string
      fix?: { versions?: string[]; state?: string }
    }
    artifact?: { name?: string; version?: string; type?: string; locations?: { path?: string }[] }
  }[]
}

/** Reads `grype -o json`. */
export function parseGrypeJson(text: string, platform: string): Vulnerability[] {
  const report = JSON.parse(text) as GrypeReport
  return (report.matches ?? []).map(match => {
    const v = match.vulnerability ?? {}
    const artifact = match.artifact ?? {}
    const path = artifact.locations?.[0]?.path ?? ''
    return {
      id: v.id ?? '',
      severity: normalizeSeverity(v.severity),
      package: artifact.name ?? '',
      installedVersion: artifact.version ?? '',
      fixedVersion: v.fix?.versions?.length ? v.fix.versions.join(', ') : undefined,
      title: v.description || undefined,
      url: v.dataSource || undefined,
      location:
        artifact.type === 'go-module' || artifact.type === 'binary'
          ? path.replace(/^\//, '')
          : `${artifact.type ?? 'os'} package ${artifact.name ?? ''}`,
      platforms: [platform]
    }
  })
}

/** Merges per-platform findings (one entry per id, package and version), worst first. */
export function mergeVulnerabilities(lists: Vulnerability[][]): Vulnerability[] {
  const merged = new Map<string, Vulnerability>()
  for (const v of lists.flat()) {
    const id = `${v.id}\u0000${v.package}\u0000${v.installedVersion}\u0000${v.location}`
    const known = merged.get(id)
    if (known) known.platforms = [...new Set([...known.platforms, ...v.platforms])]
    else merged.set(id, { ...v, platforms: [...v.platforms] })
  }
  return [...merged.values()].sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.id.localeCompare(b.id) ||
      a.package.localeCompare(b.package)
  )
}

export function countBySeverity(vulnerabilities: Vulnerability[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map(s => [s, 0])) as Record<Severity, number>
  for (const v of vulnerabilities) counts[v.severity]++
  return counts
}

// GitHub code scanning ranks alerts by `security-severity` (critical > 9.0, high ≥ 7.0, …).
const SECURITY_SEVERITY: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0'
}
const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note'
}

/** One SARIF 2.1.0 run for all platforms, so code scanning receives a single upload per scan. */
export function vulnerabilitiesToSarif(vulnerabilities: Vulnerability[], scanner: string, image: string): object {
  const rules = new Map<string, object>()
  for (const v of vulnerabilities) {
    if (rules.has(v.id)) continue
    rules.set(v.id, {
      id: v.id,
      shortDescription: { text: v.title ?? v.id },
      helpUri: v.url,
      defaultConfiguration: { level: SARIF_LEVEL[v.severity] },
      properties: { 'security-severity': SECURITY_SEVERITY[v.severity], tags: ['security', 'vulnerability'] }
    })
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: scanner, rules: [...rules.values()] } },
        results: vulnerabilities.map(v => ({
          ruleId: v.id,
          level: SARIF_LEVEL[v.severity],
          message: {
            text:
              `${v.id} (${v.severity}) in ${v.package} ${v.installedVersion}` +
              (v.fixedVersion ? `, fixed in ${v.fixedVersion}` : ', no fix available') +
              ` — image ${image} (${v.platforms.join(', ')})`
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: v.location.replace(/\s+/g, '-') || 'image' },
                region: { startLine: 1 }
              }
            }
          ]
        }))
      }
    ]
  }
}

// ───────────────────────────── stage failures ─────────────────────────────

/** What a stage returns: its result, and why it failed when it did. */
export interface Outcome<R> {
  result: R
  failure?: StageFailure
}

/** What a user needs to see of a failed stage: the command, its exit code and the end of its output. */
export interface StageFailure {
  message: string
  command?: string
  exitCode?: number
  outputTail?: string
}

const TAIL_LINES = 40

export function tailOf(text: string, lines = TAIL_LINES): string {
  const all = text.replace(/\s+$/, '').split('\n')
  return all.slice(-lines).join('\n')
}

interface ExecErrorShape {
  name: string
  cmd: string[]
  exitCode: number
  stdout: string
  stderr: string
}

function isExecError(error: unknown): error is ExecErrorShape {
  const e = error as Partial<ExecErrorShape> | null
  return typeof e === 'object' && e !== null && e.name === 'ExecError' && Array.isArray(e.cmd)
}

/** A failed command as reported by the engine (the SDK's ExecError), or any other error. */
export function failureFromError(error: unknown): StageFailure {
  if (isExecError(error)) {
    const command = error.cmd.join(' ')
    return {
      message: `\`${command}\` exited with code ${error.exitCode}`,
      command,
      exitCode: error.exitCode,
      outputTail: tailOf([error.stdout, error.stderr].filter(s => s && s.trim() !== '').join('\n'))
    }
  }
  return { message: errorMessage(error) }
}
