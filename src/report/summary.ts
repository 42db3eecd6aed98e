// The job summary: what ran, how long it took, what it produced and why it failed, one section per
// stage, which tool versions ran and where each came from, plus what the engine cache did and what
// it bought: the restore next to the stages, and the time saved against the cold run the restored
// manifest recorded. Rendering is pure (text in, text out) so tests compare it as text;
// writeSummary and writeCacheSaveSummary hand the text to core.summary.

import * as core from '@actions/core'
import { posix } from 'node:path'
import type { ColdRun } from '../engine-state/manifest.js'
import type { SaveDecision } from '../engine-state/save-policy.js'
import type { RestoreResult, SaveResult } from '../engine-state/store.js'
import type { Config } from '../inputs/action-config.js'
import { SCANNER_IMAGES, type Stage } from '../inputs/pipeline-config.js'
import type { PipelineResult, StageReport, StageResults, StageStatus } from '../pipeline/dag.js'
import { SEVERITIES, type StageFailure } from '../pipeline/results.js'
import { errorMessage } from '../shared/errors.js'
import { failureMessage, type AnnotationTally } from './annotations.js'
import {
  code,
  countBy,
  displayPath,
  escapeCell,
  escapeText,
  formatBytes,
  formatDuration,
  formatPercent,
  plural,
  table
} from './format.js'

export interface EngineSummary {
  restore?: Pick<RestoreResult, 'cacheHit' | 'matchedKey' | 'bytes' | 'durationMs' | 'manifest'>
  runnerHost?: string
  /** The state was already on this Docker daemon (a self-hosted runner's earlier job). */
  stateOnDaemon?: boolean
  /** The engine threw away the state it started on, for this reason. */
  discardedState?: string
}

/** One row of the versions table; `from` is summary markup already (code spans, escaped text). */
export interface ToolVersion {
  tool: string
  version: string
  from: string
}

export interface SummaryInput {
  pipeline?: PipelineResult
  /** The pipeline's session, start to end, as main timed it. */
  pipelineMs?: number
  engine?: EngineSummary
  versions?: ToolVersion[]
  annotations?: AnnotationTally
  /** Host paths inside it are shown relative to it (the repository checkout). */
  workspace?: string
}

/** How many findings, failures and vulnerabilities a section lists before it says "and N more". */
export const SUMMARY_LIST_LIMIT = 20
const WORST_VULNERABILITIES = 5

const STATUS_ICON: Record<StageStatus, string> = { passed: '✅', failed: '❌', skipped: '⏭️' }

function andMore(shown: number, total: number): string[] {
  return total > shown ? ['', `… and ${total - shown} more, ${total} in all.`] : []
}

/** What the cache bought this run, against the cold run that the restored manifest recorded. */
export interface CacheBought {
  cold: ColdRun
  /** Cold minus this run, for each stage that passed here and has a cold duration. */
  stagesSavedMs: Partial<Record<Stage, number>>
  /** The pipeline end to end, compared only when this run ran the cold run's stages and all passed. */
  pipeline?: { coldMs: number; thisMs: number }
  /** The restore's duration: a cost against the time saved. */
  restoreMs: number
}

/** Undefined without a cold run to compare with, or without a pipeline that ran. */
export function cacheBought(
  cold: ColdRun | undefined,
  run: { result: PipelineResult; pipelineMs?: number } | undefined,
  restoreMs: number
): CacheBought | undefined {
  if (!cold || !run) return undefined
  const stagesSavedMs: CacheBought['stagesSavedMs'] = {}
  for (const stage of run.result.order) {
    const report = run.result.stages[stage]
    const coldMs = cold.stages[stage]
    if (report?.status === 'passed' && coldMs !== undefined) stagesSavedMs[stage] = coldMs - report.durationMs
  }
  const coldStages = Object.keys(cold.stages).sort().join(',')
  const sameStages = coldStages === [...run.result.order].sort().join(',')
  return {
    cold,
    stagesSavedMs,
    ...(sameStages && run.result.ok && run.pipelineMs !== undefined
      ? { pipeline: { coldMs: cold.pipelineMs, thisMs: run.pipelineMs } }
      : {}),
    restoreMs
  }
}

/** A duration that may be negative (slower than the cold run): `−2.0 s`. */
function signedDuration(ms: number): string {
  return ms < 0 ? `−${formatDuration(-ms)}` : formatDuration(ms)
}

function restoreRow(engine: EngineSummary | undefined): string[] | undefined {
  const restore = engine?.restore
  // State found on the daemon was not restored, so it took nothing to compare.
  if (!restore || engine.stateOnDaemon) return undefined
  const what = engine.discardedState
    ? 'discarded at start-up'
    : restore.cacheHit === 'false'
      ? 'nothing to restore'
      : `${formatBytes(restore.bytes)} restored`
  return ['engine state restore', what, formatDuration(restore.durationMs)]
}

function overview(
  pipeline: PipelineResult,
  pipelineMs: number | undefined,
  engine: EngineSummary | undefined,
  bought: CacheBought | undefined
): string {
  const compared = (cold: string, saved: string): string[] => (bought ? [cold, saved] : [])
  const rows = pipeline.order.map(stage => {
    const report = pipeline.stages[stage]
    const coldMs = bought?.cold.stages[stage]
    const saved = bought?.stagesSavedMs[stage]
    const coldCells = compared(
      coldMs === undefined ? '–' : formatDuration(coldMs),
      saved === undefined ? '–' : signedDuration(saved)
    )
    if (!report) return [stage, '–', '–', ...coldCells]
    const note = report.blockedBy?.length ? ` (${report.blockedBy.join(', ')} did not pass)` : ''
    return [
      stage,
      `${STATUS_ICON[report.status]} ${report.status}${note}`,
      report.status === 'skipped' ? '–' : formatDuration(report.durationMs),
      ...coldCells
    ]
  })
  if (pipelineMs !== undefined) {
    const whole = bought?.pipeline
    rows.push([
      'pipeline, end to end',
      pipeline.ok ? 'all passed' : 'not all passed',
      formatDuration(pipelineMs),
      ...compared(whole ? formatDuration(whole.coldMs) : '–', whole ? signedDuration(whole.coldMs - whole.thisMs) : '–')
    ])
  }
  const restore = restoreRow(engine)
  if (restore) rows.push([...restore, ...compared('–', bought ? signedDuration(-bought.restoreMs) : '–')])
  if (bought?.pipeline) {
    const net = bought.pipeline.coldMs - bought.pipeline.thisMs - bought.restoreMs
    rows.push(['**time saved, net of the restore**', '', '', '', `**${signedDuration(net)}**`])
  }
  return table(['stage', 'status', 'duration', ...compared('cold run', 'saved')], rows)
}

function boughtNote(restore: EngineSummary['restore']): string[] {
  const scope =
    restore?.cacheHit === 'partial' ? ' It was recorded under another scope, whose run may have had other stages.' : ''
  return [
    `Cold run: what the restored state's manifest recorded of the cold run its line of saves began with.${scope} ` +
      "Saved: the cold run's duration minus this run's; the restore counts against it, and the post step's section adds the save.",
    ''
  ]
}

/** Each tool version this run used, and where it came from. */
export function toolVersions(
  cfg: Pick<Config, 'dagger' | 'pipeline' | 'versionSources'>,
  daggerVersion: string
): ToolVersion[] {
  const sources = cfg.versionSources
  const fromDagger = {
    input: `${code('dagger-version')} input${cfg.dagger.version === 'latest' ? ' (latest)' : ''}`,
    'dagger.json': sources.dagger.pin
      ? `${code(sources.dagger.pin.file)} engineVersion ${code(sources.dagger.pin.raw)}`
      : 'dagger.json',
    sdk: "the bundled Dagger SDK's default"
  }[sources.dagger.from]
  const versions: ToolVersion[] = [{ tool: 'Dagger', version: daggerVersion, from: fromDagger }]
  const { pipeline } = cfg
  if (pipeline.stages.length > 0 && pipeline.goVersion) {
    const goMod = posix.join(pipeline.sourceFromRepo, 'go.mod')
    versions.push({
      tool: 'Go',
      version: pipeline.goVersion,
      from:
        pipeline.goVersionFrom === 'input'
          ? `${code('go-version')} input`
          : `${code(goMod)}${sources.goModLine ? ` ${code(sources.goModLine)}` : ''}`
    })
  }
  const inputOrDefault = (input: string, source: 'input' | 'default'): string =>
    source === 'input' ? `${code(input)} input` : "the action's default"
  if (pipeline.stages.includes('lint')) {
    versions.push({
      tool: 'golangci-lint',
      version: pipeline.golangciLintVersion,
      from: inputOrDefault('golangci-lint-version', sources.golangciLint)
    })
  }
  if (pipeline.stages.includes('scan')) {
    versions.push({
      tool: pipeline.scanner,
      version: SCANNER_IMAGES[pipeline.scanner],
      from: `${inputOrDefault('scanner', sources.scanner)}; the image is the action's pin`
    })
  }
  return versions
}

function versionsSection(versions: readonly ToolVersion[]): string[] {
  return [
    '### Versions',
    '',
    table(
      ['tool', 'version', 'from'],
      versions.map(v => [escapeCell(v.tool), code(v.version), v.from])
    ),
    ''
  ]
}

function failureSection(failure: StageFailure): string[] {
  const lines = [`**Failed:** ${escapeText(failure.message)}`]
  if (failure.command) {
    const exit = failure.exitCode === undefined ? '' : ` (exit code ${failure.exitCode})`
    lines.push('', `Command: ${code(failure.command)}${exit}`)
  }
  if (failure.outputTail) {
    lines.push(
      '',
      '<details><summary>Last lines of output</summary>',
      '',
      `<pre>${escapeText(failure.outputTail)}</pre>`,
      '',
      '</details>'
    )
  }
  return lines
}

/** `sha256:` and the first 12 hex digits, as `docker images` shows an id; the log has the full digest. */
function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':')
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest
}

type Renderers = { [S in Stage]: (result: StageResults[S], workspace: string | undefined) => string[] }

const renderers: Renderers = {
  build: (result, workspace) => [
    table(
      ['platform', 'binary', 'size', 'sha256'],
      result.binaries.map(b => [
        escapeCell(b.platform),
        code(displayPath(b.path, workspace)),
        formatBytes(b.size),
        code(b.sha256)
      ])
    ),
    '',
    `Checksums: ${code(displayPath(result.checksums, workspace))}`
  ],

  lint: result => {
    const findings = result.findings
    if (findings.length === 0) return ['No findings.']
    const linters = countBy(findings, f => f.linter || 'unknown')
    const shown = findings.slice(0, SUMMARY_LIST_LIMIT)
    return [
      `${plural(findings.length, 'finding')} from ${plural(linters.length, 'linter')}.`,
      '',
      table(
        ['linter', 'findings'],
        linters.map(([linter, count]) => [escapeCell(linter), String(count)])
      ),
      '',
      table(
        ['location', 'linter', 'message'],
        shown.map(f => [code(`${f.file}:${f.line}:${f.column}`), escapeCell(f.linter), escapeCell(f.message)])
      ),
      ...andMore(shown.length, findings.length)
    ]
  },

  test: result => {
    const lines = [
      table(
        ['passed', 'failed', 'skipped', 'coverage'],
        [
          [
            String(result.passed),
            String(result.failed),
            String(result.skipped),
            result.coverage === undefined ? '–' : formatPercent(result.coverage)
          ]
        ]
      )
    ]
    const failures = result.failures
    if (failures.length > 0) {
      const shown = failures.slice(0, SUMMARY_LIST_LIMIT)
      lines.push(
        '',
        table(
          ['test', 'package', 'location', 'message'],
          shown.map(f => [
            escapeCell(f.test || '(package)'),
            escapeCell(f.package),
            f.file ? code(f.line ? `${f.file}:${f.line}` : f.file) : '–',
            escapeCell(failureMessage(f, 1).split('\n')[0])
          ])
        ),
        ...andMore(shown.length, failures.length)
      )
    }
    return lines
  },

  image: (result, workspace) => [
    result.variants.length > 0
      ? table(
          ['platform', 'digest', 'size'],
          result.variants.map(v => [escapeCell(v.platform), code(shortDigest(v.digest)), formatBytes(v.size)])
        )
      : `Platforms: ${result.platforms.map(p => code(p)).join(', ')}, pushed as one multi-platform index: its digest is the image under publish.`,
    ...(result.tarball ? ['', `OCI tarball: ${code(displayPath(result.tarball, workspace))}`] : [])
  ],

  scan: (result, workspace) => {
    const lines = [
      table([...SEVERITIES], [SEVERITIES.map(s => String(result.counts[s]))]),
      '',
      `${plural(result.failing, 'finding')} at the failing severities (scanner: ${escapeText(result.scanner)}). SARIF: ${code(displayPath(result.sarif, workspace))}`
    ]
    const worst = result.vulnerabilities.slice(0, WORST_VULNERABILITIES)
    if (worst.length > 0) {
      lines.push(
        '',
        table(
          ['severity', 'id', 'package', 'installed', 'fixed in', 'platforms'],
          worst.map(v => [
            v.severity,
            v.url ? `<a href="${escapeText(v.url)}">${escapeText(v.id)}</a>` : escapeCell(v.id),
            escapeCell(v.package),
            escapeCell(v.installedVersion),
            escapeCell(v.fixedVersion ?? '–'),
            escapeCell(v.platforms.join(', '))
          ])
        ),
        ...andMore(worst.length, result.vulnerabilities.length)
      )
    }
    return lines
  },

  publish: result => [`Image: ${code(result.imageRef)}`, '', `Tags: ${result.tags.map(t => code(t)).join(', ')}`]
}

function stageSection(report: StageReport, workspace: string | undefined): string[] {
  if (report.status === 'skipped') return []
  const lines = [`### ${report.stage} · ${STATUS_ICON[report.status]} ${formatDuration(report.durationMs)}`, '']
  if (report.result) {
    const render = renderers[report.stage] as (result: unknown, workspace: string | undefined) => string[]
    lines.push(...render(report.result, workspace), '')
  }
  if (report.failure) lines.push(...failureSection(report.failure), '')
  return lines
}

function annotationNote(tally: AnnotationTally): string[] {
  const omitted = tally.omitted.error + tally.omitted.warning
  if (omitted === 0) return []
  const parts = [
    tally.omitted.error ? plural(tally.omitted.error, 'error') : '',
    tally.omitted.warning ? plural(tally.omitted.warning, 'warning') : ''
  ].filter(Boolean)
  return [
    `> [!NOTE]`,
    `> GitHub shows at most 10 error and 10 warning annotations per step: ${tally.emitted.error + tally.emitted.warning} were annotated; the other ${parts.join(' and ')} appear only in this summary and the log.`,
    ''
  ]
}

const RESTORED_FROM: Record<RestoreResult['cacheHit'], string> = {
  true: "this job's last save",
  // The fallback restore key is the engine version's prefix, so it matches a save of any other scope.
  partial: `the newest save of this engine version under another scope (a different ${code('cache-key')}, stage selection, or both)`,
  false: ''
}

export function renderCacheRestore(
  restore: EngineSummary['restore'],
  runnerHost?: string,
  { stateOnDaemon, discardedState }: Pick<EngineSummary, 'stateOnDaemon' | 'discardedState'> = {}
): string {
  const lines = ['### Engine cache', '']
  if (discardedState) {
    const what = stateOnDaemon ? 'the state it found on this Docker daemon' : 'the restored state'
    lines.push(`Cold start: the engine discarded ${what} at start-up (${code(discardedState)}).`)
  } else if (stateOnDaemon) {
    lines.push(
      "Nothing restored: the engine state was already on this Docker daemon (a self-hosted runner's earlier job), and was used as it is."
    )
  } else if (!restore) lines.push('Not restored: the action did not manage the engine state in this job.')
  else if (restore.cacheHit === 'false') {
    lines.push(`Cold start: no saved engine state to restore (looked up in ${formatDuration(restore.durationMs)}).`)
  } else {
    const key = restore.matchedKey ? ` ${code(restore.matchedKey)}` : ''
    lines.push(
      `Restored ${formatBytes(restore.bytes)} from ${RESTORED_FROM[restore.cacheHit]}${key} in ${formatDuration(restore.durationMs)}.`
    )
  }
  if (runnerHost) lines.push('', `Engine: ${code(runnerHost)}`)
  return lines.join('\n') + '\n'
}

/** What main measured of the cache's worth, handed to post to weigh against the save. */
export interface CacheBalance {
  /** The cold run's pipeline minus this run's. */
  savedMs: number
  restoreMs: number
}

function balanceLine(balance: CacheBalance, saveMs: number): string {
  const ran =
    balance.savedMs >= 0
      ? `ran ${formatDuration(balance.savedMs)} faster than its cold run`
      : `ran ${formatDuration(-balance.savedMs)} slower than its cold run`
  const net = balance.savedMs - balance.restoreMs - saveMs
  const outcome =
    net >= 0 ? `the cache saved this job ${formatDuration(net)}` : `the cache cost this job ${formatDuration(-net)}`
  return `Balance: the pipeline ${ran}; the restore took ${formatDuration(balance.restoreMs)} and the save ${formatDuration(saveMs)}, so ${outcome}.`
}

/**
 * The post step's section: what it saved of the engine state, or why it saved nothing. A
 * SaveDecision stands for a save that cache-save ruled out before anything was tried. With main's
 * balance, the time the cache saved this job, net of the restore and the save.
 */
export function renderCacheSaveSummary(save: SaveResult | SaveDecision, balance?: CacheBalance): string {
  const lines = ['### Engine cache saved', '']
  if (!('saved' in save)) {
    lines.push(`${escapeText(save.reason.charAt(0).toUpperCase() + save.reason.slice(1))}.`)
  } else if (save.saved) {
    const key = save.key ? ` as ${code(save.key)}` : ''
    lines.push(
      `Saved ${formatBytes(save.bytesUploaded)}${key} in ${formatDuration(save.durationMs)}: ` +
        `${plural(save.partsUploaded, 'part')} uploaded, ${plural(save.partsReused, 'part')} reused from the restored state.`
    )
  } else {
    lines.push(`Nothing saved (${formatDuration(save.durationMs)}): ${escapeText(save.reason)}.`)
  }
  if (balance) lines.push('', balanceLine(balance, 'durationMs' in save ? save.durationMs : 0))
  return lines.join('\n') + '\n'
}

export function renderSummary(input: SummaryInput): string {
  const lines: string[] = []
  const { pipeline, engine } = input
  if (pipeline) {
    const restore = engine?.restore
    const bought = cacheBought(
      restore?.manifest?.coldRun,
      { result: pipeline, pipelineMs: input.pipelineMs },
      restore?.durationMs ?? 0
    )
    lines.push(
      `## Go pipeline ${pipeline.ok ? '✅ passed' : '❌ failed'}`,
      '',
      overview(pipeline, input.pipelineMs, engine, bought),
      ''
    )
    if (bought) lines.push(...boughtNote(restore))
    if (input.annotations) lines.push(...annotationNote(input.annotations))
    for (const stage of pipeline.order) {
      const report = pipeline.stages[stage]
      if (report) lines.push(...stageSection(report, input.workspace))
    }
  }
  if (input.versions?.length) lines.push(...versionsSection(input.versions))
  if (input.engine) lines.push(renderCacheRestore(input.engine.restore, input.engine.runnerHost, input.engine))
  return (
    lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  )
}

/** Appends text to the job summary; false when the runner gives no summary file (act, local runs). */
async function appendToSummary(text: string): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) return false
  await core.summary.addRaw(text, true).write()
  return true
}

export function writeSummary(input: SummaryInput): Promise<boolean> {
  return appendToSummary(renderSummary(input))
}

/**
 * writeSummary for a step that is already failing: a summary that cannot be written is only a
 * warning, so the error that fails the step stays the step's own.
 */
export async function writeSummaryOrWarn(input: SummaryInput): Promise<void> {
  try {
    await writeSummary(input)
  } catch (error) {
    // A failed write leaves the text in core.summary's buffer, for a later write to repeat.
    core.summary.emptyBuffer()
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}

export function writeCacheSaveSummary(save: SaveResult | SaveDecision, balance?: CacheBalance): Promise<boolean> {
  return appendToSummary(renderCacheSaveSummary(save, balance))
}
