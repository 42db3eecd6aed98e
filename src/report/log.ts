// What the pipeline prints to the log: the engine's progress as plain lines (no TUI: the runner's
// log is not a terminal), a line as each stage starts and ends, and then one collapsible group per
// stage with what it produced or why it failed. The same plain text is what the local command prints.
//
// Stages run concurrently in one engine session, so their live progress interleaves; GitHub's groups
// cannot nest or interleave, hence the per-stage groups are written once a stage's outcome is known.

import { Writable } from 'node:stream'
import * as core from '@actions/core'
import type { PipelineHooks, PipelineResult, StageReport, StageResults } from '../pipeline/dag.js'
import type { Stage } from '../inputs/pipeline-config.js'
import { SEVERITIES } from '../pipeline/results.js'
import { failureMessage } from './annotations.js'
import { countBy, displayPath, formatBytes, formatDuration, formatPercent, plural } from './format.js'

// ANSI colour and cursor sequences: the runner's log is not a terminal.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /\x1b\[[0-9;?]*[A-Za-z]/g

/**
 * A writable for `connection(fn, { LogOutput })`: hands each complete line of the engine's
 * progress to onLine, without terminal control sequences.
 */
export function lineWriter(onLine: (line: string) => void): Writable {
  let pending = ''
  const flushLines = (text: string): void => {
    const lines = (pending + text).split(/\r?\n|\r/)
    pending = lines.pop() ?? ''
    for (const line of lines) onLine(line.replace(TERMINAL_CONTROL, ''))
  }
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      flushLines(chunk.toString())
      done()
    },
    final(done) {
      if (pending !== '') flushLines('\n')
      done()
    }
  })
}

const STATUS_MARK = { passed: '✔', failed: '✖', skipped: '⏭' } as const

export function stageHeadline(report: StageReport): string {
  if (report.status === 'skipped') {
    const blocked = report.blockedBy?.length ? `: ${report.blockedBy.join(', ')} did not pass` : ''
    return `${STATUS_MARK.skipped} ${report.stage} skipped${blocked}`
  }
  return `${STATUS_MARK[report.status]} ${report.stage} ${report.status} in ${formatDuration(report.durationMs)}`
}

/** Hooks for runPipeline: one plain line per stage start and end, engine messages as they come. */
export function stageProgressHooks(print: (line: string) => void = core.info): PipelineHooks {
  return {
    onStageStart: stage => print(`▶ ${stage} started`),
    onStageEnd: report => print(stageHeadline(report)),
    log: message => print(message)
  }
}

const LIST_LIMIT = 20

function shown<T>(items: readonly T[], render: (item: T) => string): string[] {
  const lines = items.slice(0, LIST_LIMIT).map(render)
  if (items.length > LIST_LIMIT) lines.push(`… and ${items.length - LIST_LIMIT} more, ${items.length} in all`)
  return lines
}

type TextRenderers = { [S in Stage]: (result: StageResults[S], show: (path: string) => string) => string[] }

const textRenderers: TextRenderers = {
  build: (result, show) => [
    ...result.binaries.map(b => `${b.platform.padEnd(16)} ${show(b.path)}  ${formatBytes(b.size)}  sha256:${b.sha256}`),
    `checksums        ${show(result.checksums)}`
  ],
  lint: result => {
    if (result.findings.length === 0) return ['no findings']
    const linters = countBy(result.findings, f => f.linter || 'unknown')
    return [
      `${plural(result.findings.length, 'finding')}: ${linters.map(([l, n]) => `${l} ${n}`).join(', ')}`,
      ...shown(result.findings, f => `${f.file}:${f.line}:${f.column}: ${f.message} (${f.linter})`)
    ]
  },
  test: result => [
    `${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped` +
      (result.coverage === undefined ? '' : `, coverage ${formatPercent(result.coverage)}`),
    ...shown(result.failures, f => {
      const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}: ` : ''
      return `FAIL ${f.test || '(package)'} (${f.package}) ${where}${failureMessage(f, 1).split('\n')[0]}`
    })
  ],
  image: (result, show) => [
    ...(result.variants.length > 0
      ? result.variants.map(v => `${v.platform.padEnd(16)} ${v.digest}  ${formatBytes(v.size)}`)
      : [`platforms ${result.platforms.join(', ')}, pushed as one index (its digest: see publish)`]),
    ...(result.tarball ? [`OCI tarball ${show(result.tarball)}`] : [])
  ],
  scan: (result, show) => [
    `${SEVERITIES.map(s => `${s} ${result.counts[s]}`).join(', ')}; ${result.failing} at the failing severities`,
    `SARIF ${show(result.sarif)}`,
    ...shown(
      result.vulnerabilities.filter(v => result.severities.includes(v.severity)),
      v => `${v.severity} ${v.id} ${v.package} ${v.installedVersion}${v.fixedVersion ? ` → ${v.fixedVersion}` : ''}`
    )
  ],
  publish: result => [`image ${result.imageRef}`, `tags ${result.tags.join(', ')}`]
}

/** The lines under a stage's headline: what it produced, then what failed, the command and its output tail. */
export function stageDetails(report: StageReport, workspace?: string): string[] {
  const lines: string[] = []
  if (report.result) {
    const render = textRenderers[report.stage] as (result: unknown, show: (path: string) => string) => string[]
    lines.push(...render(report.result, path => displayPath(path, workspace)))
  }
  const failure = report.failure
  if (failure) {
    lines.push(`failed: ${failure.message}`)
    if (failure.command)
      lines.push(
        `command: ${failure.command}${failure.exitCode === undefined ? '' : ` (exit code ${failure.exitCode})`}`
      )
    if (failure.outputTail) lines.push(...failure.outputTail.split('\n').map(l => `| ${l}`))
  }
  return lines
}

/** The whole result as plain text, for the local command. */
export function renderPipelineText(result: PipelineResult, workspace?: string): string {
  const lines: string[] = []
  for (const stage of result.order) {
    const report = result.stages[stage] as StageReport | undefined
    if (!report) continue
    lines.push(stageHeadline(report), ...stageDetails(report, workspace).map(l => `    ${l}`))
  }
  lines.push(result.ok ? 'pipeline passed' : 'pipeline failed')
  return lines.join('\n') + '\n'
}

/** One log group per stage that ran, titled with its outcome. */
export function logStageReports(result: PipelineResult, workspace?: string): void {
  for (const stage of result.order) {
    const report = result.stages[stage] as StageReport | undefined
    if (!report || report.status === 'skipped') continue
    core.startGroup(stageHeadline(report))
    for (const line of stageDetails(report, workspace)) core.info(line)
    core.endGroup()
  }
}
