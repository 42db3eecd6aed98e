// The main step: inputs → CLI → engine up (state restored first) → pipeline → report. Every input
// is validated by readConfig before any download or Docker call.
import * as core from '@actions/core'
import { exportCli, installDaggerCli } from '../dagger-cli/install.js'
import { engineUp } from '../engine/up.js'
import { readConfig } from '../inputs/action-config.js'
import { enforceDaggerVersion } from '../inputs/dagger-json.js'
import type { PipelineResult } from '../pipeline/dag.js'
import { describePlan } from '../pipeline/plan.js'
import { runInEngine } from '../pipeline/run.js'
import { annotatePipeline } from '../report/annotations.js'
import { logStageReports } from '../report/log.js'
import { setPipelineOutputs } from '../report/outputs.js'
import { toolVersions, writeSummary, writeSummaryOrWarn } from '../report/summary.js'
import { handCacheOutcomeToPost } from './handoff.js'

const RUNNER_HOST_VARIABLE = '_EXPERIMENTAL_DAGGER_RUNNER_HOST'
const LEAVE_OLD_ENGINE_VARIABLE = 'DAGGER_LEAVE_OLD_ENGINE'

export async function run(): Promise<void> {
  // readConfig masks every secret input before it parses anything.
  const cfg = await readConfig()

  if (cfg.pipeline.dryRun) {
    core.info(describePlan(cfg.pipeline))
    return
  }

  const cli = await core.group('Install the Dagger CLI', () =>
    installDaggerCli({
      version: cfg.dagger.version,
      baseUrl: cfg.dagger.baseUrl,
      checkVersion: version => enforceDaggerVersion(version, cfg.versionSources.dagger)
    })
  )
  exportCli(cli)
  const versions = toolVersions(cfg, cli.version)
  // The token reaches the CLI the SDK spawns through this process's environment only: it is not
  // exported to later steps and never reaches a container.
  if (cfg.dagger.cloudToken) process.env.DAGGER_CLOUD_TOKEN = cfg.dagger.cloudToken

  const engine = await engineUp(cfg, cli.version)
  process.env[RUNNER_HOST_VARIABLE] = engine.runnerHost
  core.exportVariable(RUNNER_HOST_VARIABLE, engine.runnerHost)
  // A later step's Dagger CLI that does not use that variable (another version, a script that
  // unsets it) would provision its own engine and, first, remove every other container named
  // dagger-engine-*: ours too, killed, so that post finds nothing to save.
  if (!cfg.engine.runnerHost) core.exportVariable(LEAVE_OLD_ENGINE_VARIABLE, '1')
  core.setOutput('cache-hit', engine.restore?.cacheHit ?? 'false')
  core.setOutput('cache-size', String(engine.restore?.bytes ?? 0))

  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  if (cfg.pipeline.stages.length === 0) {
    // Stage none: the job's own later steps (dagger call, an SDK program) are the pipeline; post
    // stops this engine and saves its state as after any stage.
    core.info(
      `The engine is up for the job's later steps: ${RUNNER_HOST_VARIABLE}=${engine.runnerHost}, dagger ${cli.version} on PATH`
    )
    await writeSummary({ engine, workspace, versions })
    return
  }
  let result: PipelineResult
  const pipelineStarted = performance.now()
  try {
    // The stages run concurrently in one session, so their progress shares one group; each
    // stage's outcome gets a group of its own afterwards (logStageReports).
    result = await core.group(`Run the pipeline: ${cfg.pipeline.stages.join(', ')}`, () =>
      runInEngine(cfg.pipeline, line => core.info(line))
    )
  } catch (error) {
    // The engine session itself failed: the summary still tells what the cache did, and a summary
    // that cannot be written must not take the place of the session's error.
    handCacheOutcomeToPost(engine)
    await writeSummaryOrWarn({ engine, workspace, versions })
    throw error
  }
  const pipelineMs = performance.now() - pipelineStarted
  handCacheOutcomeToPost(engine, { result, pipelineMs })
  logStageReports(result, workspace)
  setPipelineOutputs(result, cfg.pipeline)
  const annotations = annotatePipeline({
    testFailures: result.stages.test?.result?.failures,
    lintFindings: result.stages.lint?.result?.findings
  })
  await writeSummary({ pipeline: result, pipelineMs, engine, annotations, workspace, versions })
  if (!result.ok) {
    const failed = result.order.filter(stage => result.stages[stage]?.status === 'failed')
    core.setFailed(`The pipeline failed: ${failed.join(', ')}`)
  }
}
