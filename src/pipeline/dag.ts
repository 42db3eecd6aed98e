// Runs the chosen stages as one DAG in one engine session: build, lint and test at once; image after
// build; scan after image; publish only after lint, test and scan have passed. A failed stage is
// reported with what failed, its dependents are skipped, and the others still run.

import type { Client, Container, File } from '@dagger.io/dagger'
import { buildBinaries, runBuild, type BuildResult } from './build.js'
import type { PipelineConfig, Stage } from '../inputs/pipeline-config.js'
import { imageVariants, runImage, type ImageResult } from './image.js'
import { runLint, type LintResult } from './lint.js'
import { runPublish, type PublishResult } from './publish.js'
import { failureFromError, type Outcome, type StageFailure } from './results.js'
import { runScan, type ScanResult } from './scan.js'
import { runTest, type TestResult } from './test.js'

export interface StageResults {
  build: BuildResult
  lint: LintResult
  test: TestResult
  image: ImageResult
  scan: ScanResult
  publish: PublishResult
}

export type StageStatus = 'passed' | 'failed' | 'skipped'

export interface StageReport<S extends Stage = Stage> {
  stage: S
  status: StageStatus
  durationMs: number
  /** What the stage produced; failed lint, test and scan stages still carry their findings. */
  result?: StageResults[S]
  failure?: StageFailure
  /** For a skipped stage: the stages it waited on that did not pass. */
  blockedBy?: Stage[]
}

export interface PipelineResult {
  ok: boolean
  /** The stages run, in pipeline order. */
  order: Stage[]
  stages: { [S in Stage]?: StageReport<S> }
}

export interface PipelineHooks {
  onStageStart?: (stage: Stage) => void
  onStageEnd?: (report: StageReport) => void
  log?: (message: string) => void
}

/** What each stage waits for, when both are chosen. */
export const STAGE_DEPENDENCIES: Record<Stage, Stage[]> = {
  build: [],
  lint: [],
  test: [],
  image: ['build'],
  scan: ['image'],
  publish: ['image', 'lint', 'test', 'scan']
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined
  return () => (made ??= { value: make() }).value
}

export async function runPipeline(
  client: Client,
  cfg: PipelineConfig,
  hooks: PipelineHooks = {}
): Promise<PipelineResult> {
  // Dagger objects are lazy, so stages share them freely; the engine runs each step once.
  const binaries = once((): Map<string, File> => buildBinaries(client, cfg))
  const variants = once((): Container[] => imageVariants(client, cfg, binaries()))
  const passed = <R>(result: R): Outcome<R> => ({ result })

  const runners: { [S in Stage]: () => Promise<Outcome<StageResults[S]>> } = {
    build: async () => passed(await runBuild(client, cfg, binaries())),
    lint: () => runLint(client, cfg),
    test: () => runTest(client, cfg),
    image: async () => passed(await runImage(client, cfg, variants())),
    scan: () => runScan(client, cfg, variants()),
    publish: async () => passed(await runPublish(client, cfg, variants()))
  }

  const running = new Map<Stage, Promise<StageReport>>()
  const run = async <S extends Stage>(stage: S): Promise<StageReport<S>> => {
    const waitsFor = STAGE_DEPENDENCIES[stage].filter(d => running.has(d))
    const before = await Promise.all(waitsFor.map(d => running.get(d)!))
    const blockedBy = before.filter(r => r.status !== 'passed').map(r => r.stage)
    if (blockedBy.length > 0) {
      hooks.log?.(`${stage}: skipped, because ${blockedBy.join(', ')} did not pass`)
      const skipped: StageReport<S> = { stage, status: 'skipped', durationMs: 0, blockedBy }
      hooks.onStageEnd?.(skipped)
      return skipped
    }
    hooks.onStageStart?.(stage)
    const started = performance.now()
    let report: StageReport<S>
    try {
      const { result, failure } = await runners[stage]()
      report = {
        stage,
        status: failure ? 'failed' : 'passed',
        durationMs: performance.now() - started,
        result,
        failure
      }
    } catch (error) {
      report = { stage, status: 'failed', durationMs: performance.now() - started, failure: failureFromError(error) }
    }
    if (!report.failure) delete report.failure
    hooks.onStageEnd?.(report)
    return report
  }

  // cfg.stages is in pipeline order, so every dependency is registered before its dependents.
  for (const stage of cfg.stages) running.set(stage, run(stage))
  const reports = await Promise.all(cfg.stages.map(s => running.get(s)!))
  const stages: PipelineResult['stages'] = {}
  for (const report of reports) (stages as Record<Stage, StageReport>)[report.stage] = report
  return { ok: reports.every(r => r.status === 'passed'), order: [...cfg.stages], stages }
}
