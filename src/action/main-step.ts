// The main step: inputs → CLI → engine (state restored first) → pipeline → report. Every input is
// validated by readConfig before any download or Docker call. The Dagger SDK is imported only
// when a pipeline really runs: it loads the TypeScript compiler, which a dry run does not need.
// The state store (and @actions/cache with its Azure client) is imported only when a local engine
// is brought up: a dry run or a runner-host job never loads it.
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readConfig, type Config } from '../inputs/action-config.js'
import { exportCli, installDaggerCli } from '../dagger-cli/install.js'
import { ensureImage, volumeExists } from '../shared/docker.js'
import { engineConfigJson } from '../engine/engine-json.js'
import { engineNames, removeVolume, startEngine, volumeHasState } from '../engine/container.js'
import type { RestoreResult } from '../engine-state/store.js'
import { decideSave } from '../engine-state/save-policy.js'
import { stateScopeForStages } from '../inputs/pipeline-config.js'
import type { PipelineResult } from '../pipeline/dag.js'
import { describePlan } from '../pipeline/plan.js'
import { annotatePipeline } from '../report/annotations.js'
import { lineWriter, logStageReports, stageProgressHooks } from '../report/log.js'
import { setPipelineOutputs } from '../report/outputs.js'
import { writeSummary, writeSummaryOrWarn } from '../report/summary.js'
import { savePostState, type PostState } from './handoff.js'

const RUNNER_HOST_VARIABLE = '_EXPERIMENTAL_DAGGER_RUNNER_HOST'

interface EngineUp {
  runnerHost: string
  restore?: RestoreResult
}

/**
 * The version part of the state keys: the CLI version, plus the image ID when a custom engine image
 * is used (a tag such as `:main` can move), so state written by one engine build is never restored
 * into another.
 */
function engineStateVersion(cliVersion: string, customImageId: string | undefined): string {
  if (!customImageId) return cliVersion
  return `${cliVersion}-${createHash('sha256').update(customImageId).digest('hex').slice(0, 12)}`
}

/** The fingerprint of state already on the daemon; '' (post then saves) when it cannot be taken. */
async function localFingerprint(volume: string, cfg: Config): Promise<string> {
  try {
    const { stateFingerprint } = await import('../engine-state/store.js')
    return await stateFingerprint(volume, cfg.engine.helperImage)
  } catch (error) {
    core.warning(`Could not read the engine state volume ${volume} (${(error as Error).message}): the post step will save it whole`)
    return ''
  }
}

async function bringUpEngine(cfg: Config, cliVersion: string): Promise<EngineUp> {
  if (cfg.engine.runnerHost) {
    core.info(`Using the engine at ${cfg.engine.runnerHost}: no local engine, no state cache`)
    return { runnerHost: cfg.engine.runnerHost }
  }
  const image = cfg.engine.image ?? `registry.dagger.io/engine:v${cliVersion}`
  // The engine image downloads while the state is restored. A custom image must be there first:
  // its ID is part of the state keys.
  const enginePulled = ensureImage(image)
  enginePulled.catch(() => undefined)
  const engineVersion = engineStateVersion(cliVersion, cfg.engine.image ? await enginePulled : undefined)
  const scope = [cfg.cache.keyScope, stateScopeForStages(cfg.pipeline)].filter(Boolean).join('-')
  // Per runner too: several self-hosted runners can share one Docker daemon, and each job must stop
  // only its own engine.
  const names = engineNames({ engineVersion, scope: [scope, process.env.RUNNER_NAME].filter(Boolean).join('-') })
  const tempDir = process.env.RUNNER_TEMP || path.join(process.cwd(), '.go-dagger-action-tmp')
  // The job id too: two jobs of one run with the same scope (e.g. a job and the one that needs it)
  // each save under a key of their own.
  const runId = [process.env.GITHUB_RUN_ID || `local-${Date.now()}`, process.env.GITHUB_JOB].filter(Boolean).join('-')
  const runAttempt = process.env.GITHUB_RUN_ATTEMPT || '1'
  const stateOptions = { volume: names.volume, helperImage: cfg.engine.helperImage, engineVersion, scope, tempDir, runId, runAttempt }

  let restore: RestoreResult | undefined
  let stateBeforeStart = false
  if (await volumeExists(names.volume)) {
    // Read through a container of the engine image, so the image must be there.
    await enginePulled
    stateBeforeStart = await volumeHasState({ volume: names.volume, image })
  }
  if (stateBeforeStart) {
    // Self-hosted runners: this Docker daemon still holds the state of an earlier job.
    core.info(`The engine state volume ${names.volume} is already on this Docker daemon: using it, nothing to restore`)
    restore = cfg.cache.enabled ? { cacheHit: 'true', bytes: 0, durationMs: 0, fingerprint: await localFingerprint(names.volume, cfg) } : undefined
  } else if (cfg.cache.enabled) {
    const { restoreEngineState } = await import('../engine-state/store.js')
    restore = await core.group('Restore the engine state', () => restoreEngineState(stateOptions))
    stateBeforeStart = restore.cacheHit !== 'false'
  }
  // A failed pull is reported as such, not taken for an engine that cannot start on the restored state.
  await enginePulled

  let manifestPath: string | undefined
  if (restore?.manifest) {
    manifestPath = path.join(tempDir, `go-dagger-action-restored-${names.volume}.json`)
    await writeFile(manifestPath, JSON.stringify(restore.manifest))
  }
  const saving = decideSave({ setting: cfg.cache.save, event: cfg.event, stages: cfg.pipeline.stages })
  const postState = (fingerprint: string | undefined): PostState => ({
    container: names.container,
    volume: names.volume,
    engineVersion,
    helperImage: cfg.engine.helperImage,
    stopTimeoutSeconds: cfg.engine.stopTimeoutSeconds,
    cache: cfg.cache.enabled
      ? { save: saving.save, saveReason: saving.reason, scope, fingerprint: fingerprint || undefined, manifestPath, tempDir, runId, runAttempt }
      : undefined
  })
  // Saved before the engine starts: whatever fails after that, post stops the engine.
  savePostState(postState(restore?.fingerprint))

  const engineConfig = engineConfigJson({ maxUsedSpaceBytes: cfg.cache.maxSizeBytes, overrides: cfg.engine.config })
  const startOptions = { image, names, engineConfig, stopTimeoutSeconds: cfg.engine.stopTimeoutSeconds }
  let started
  try {
    started = await startEngine(startOptions)
  } catch (error) {
    if (!stateBeforeStart) throw error
    core.warning(`The engine did not start on the restored state (${(error as Error).message}); discarding it and starting cold`)
    await removeVolume(names.volume)
    started = await startEngine(startOptions)
    restore = restore && { cacheHit: 'false', bytes: 0, durationMs: restore.durationMs, fingerprint: '' }
    savePostState(postState(undefined))
  }
  return { runnerHost: started.runnerHost, restore }
}

async function runPipelineInEngine(cfg: Config): Promise<PipelineResult> {
  const { connection, dag } = await import('@dagger.io/dagger')
  const { runPipeline } = await import('../pipeline/dag.js')
  const progress = lineWriter(line => core.info(line))
  let result: PipelineResult | undefined
  // The stages run concurrently in one session, so their progress shares one group; each stage's
  // outcome gets a group of its own afterwards (logStageReports).
  await core.group(`Run the pipeline: ${cfg.pipeline.stages.join(', ')}`, async () => {
    try {
      await connection(
        async () => {
          result = await runPipeline(dag, cfg.pipeline, stageProgressHooks())
        },
        { LogOutput: progress }
      )
    } finally {
      progress.end()
    }
  })
  if (!result) throw new Error('The engine session ended before the pipeline finished')
  return result
}

export async function run(): Promise<void> {
  // readConfig masks every secret input before it parses anything.
  const cfg = await readConfig()

  if (cfg.pipeline.dryRun) {
    core.info(describePlan(cfg.pipeline))
    return
  }

  const cli = await core.group('Install the Dagger CLI', () =>
    installDaggerCli({ version: cfg.dagger.version, baseUrl: cfg.dagger.baseUrl })
  )
  exportCli(cli)
  // The token reaches the CLI the SDK spawns through this process's environment only: it is not
  // exported to later steps and never reaches a container.
  if (cfg.dagger.cloudToken) process.env.DAGGER_CLOUD_TOKEN = cfg.dagger.cloudToken

  const engine = await bringUpEngine(cfg, cli.version)
  process.env[RUNNER_HOST_VARIABLE] = engine.runnerHost
  core.exportVariable(RUNNER_HOST_VARIABLE, engine.runnerHost)
  core.setOutput('cache-hit', engine.restore?.cacheHit ?? 'false')
  core.setOutput('cache-size', String(engine.restore?.bytes ?? 0))

  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const engineSummary = { restore: engine.restore, runnerHost: engine.runnerHost }
  let result: PipelineResult
  try {
    result = await runPipelineInEngine(cfg)
  } catch (error) {
    // The engine session itself failed: the summary still tells what the cache did, and a summary
    // that cannot be written must not take the place of the session's error.
    await writeSummaryOrWarn({ engine: engineSummary, workspace })
    throw error
  }
  logStageReports(result, workspace)
  setPipelineOutputs(result, cfg.pipeline)
  const annotations = annotatePipeline({
    testFailures: result.stages.test?.result?.failures,
    lintFindings: result.stages.lint?.result?.findings
  })
  await writeSummary({ pipeline: result, engine: engineSummary, annotations, workspace })
  if (!result.ok) {
    const failed = result.order.filter(stage => result.stages[stage]?.status === 'failed')
    core.setFailed(`The pipeline failed: ${failed.join(', ')}`)
  }
}

