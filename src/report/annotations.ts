// Lint findings and test failures as workflow annotations, so a red run points at the line.
// GitHub shows at most 10 error and 10 warning annotations per step (and 50 per job), dropping the
// rest silently; we emit up to the cap ourselves and hand back how many were left out, so the job
// summary can say so instead of the run looking cleaner than it is.

import * as core from '@actions/core'
import type { AnnotationProperties } from '@actions/core'
import type { LintFinding, TestFailure } from '../pipeline/results.js'

export type AnnotationLevel = 'error' | 'warning'

export interface Annotation {
  level: AnnotationLevel
  message: string
  properties: AnnotationProperties
}

/** GitHub's per-step caps, documented in actions/toolkit docs/problem-matchers.md (Limitations). */
export const ANNOTATION_LIMITS: Readonly<Record<AnnotationLevel, number>> = { error: 10, warning: 10 }

export interface AnnotationTally {
  emitted: Record<AnnotationLevel, number>
  /** Annotations beyond the cap: counted, not emitted. */
  omitted: Record<AnnotationLevel, number>
}

// golangci-lint's `severity` rules name levels freely; these read as "does not fail the build".
const WARNING_SEVERITIES = new Set(['warning', 'warn', 'info', 'notice', 'note', 'low', 'minor'])

/** Column 0 and line 0 mean "unknown" in golangci-lint's report; GitHub wants them left out. */
function location(file: string | undefined, line?: number, column?: number): AnnotationProperties {
  const properties: AnnotationProperties = {}
  if (file) properties.file = file
  if (file && line && line > 0) {
    properties.startLine = line
    if (column && column > 0) properties.startColumn = column
  }
  return properties
}

export function lintAnnotations(findings: readonly LintFinding[]): Annotation[] {
  return findings.map(finding => ({
    level: WARNING_SEVERITIES.has(finding.severity.toLowerCase()) ? 'warning' : 'error',
    message: finding.message,
    properties: {
      title: `golangci-lint: ${finding.linter || 'finding'}`,
      ...location(finding.file, finding.line, finding.column)
    }
  }))
}

// test2json's framing lines say nothing the title does not already say.
const FRAMING_LINE =
  /^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\b|--- (?:FAIL|PASS|SKIP):|FAIL\s*$|FAIL\s+\S+\s+[\d.]+s$|ok\s+\S+|PASS\s*$)/

// A build's `# <import path>` header and go test's verdict; only a package's output holds them.
const BUILD_FRAMING_LINE = /^(?:# \S+(?: \[\S+\])?|FAIL\s+\S+ \[(?:build|setup) failed\])\s*$/

/** The lines a failing test printed, without test2json's framing and the location prefix. */
export function failureMessage(failure: TestFailure, maxLines = 20): string {
  const lines = failure.output
    .split('\n')
    .filter(
      line => line.trim() !== '' && !FRAMING_LINE.test(line) && (failure.test !== '' || !BUILD_FRAMING_LINE.test(line))
    )
    .map(line => line.replace(/^\s+/, '').replace(/^[\w.-]+\.go:\d+: /, ''))
  const kept =
    lines.length > maxLines
      ? [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines in the log`]
      : lines
  return kept.join('\n') || (failure.test ? `${failure.test} failed` : `package ${failure.package} failed`)
}

export function testFailureAnnotations(failures: readonly TestFailure[]): Annotation[] {
  return failures.map(failure => ({
    level: 'error',
    message: failureMessage(failure),
    properties: {
      title: failure.test ? `${failure.test} failed (${failure.package})` : `package ${failure.package} failed`,
      ...location(failure.file, failure.line)
    }
  }))
}

/**
 * Emits annotations in the order given, at most `limits[level]` of each level, and counts the rest.
 */
export function emitAnnotations(
  annotations: readonly Annotation[],
  limits: Readonly<Record<AnnotationLevel, number>> = ANNOTATION_LIMITS
): AnnotationTally {
  const tally: AnnotationTally = { emitted: { error: 0, warning: 0 }, omitted: { error: 0, warning: 0 } }
  for (const annotation of annotations) {
    if (tally.emitted[annotation.level] >= limits[annotation.level]) {
      tally.omitted[annotation.level]++
      continue
    }
    const emit = annotation.level === 'error' ? core.error : core.warning
    emit(annotation.message, annotation.properties)
    tally.emitted[annotation.level]++
  }
  return tally
}

/** One from each list in turn, so a flood of one kind cannot crowd the other out of the cap. */
function interleave<T>(...lists: (readonly T[])[]): T[] {
  const merged: T[] = []
  for (let i = 0; lists.some(list => i < list.length); i++) {
    for (const list of lists) if (i < list.length) merged.push(list[i])
  }
  return merged
}

/** Annotates a pipeline's test failures and lint findings; returns what was emitted and left out. */
export function annotatePipeline(results: {
  testFailures?: readonly TestFailure[]
  lintFindings?: readonly LintFinding[]
}): AnnotationTally {
  return emitAnnotations(
    interleave(testFailureAnnotations(results.testFailures ?? []), lintAnnotations(results.lintFindings ?? []))
  )
}
