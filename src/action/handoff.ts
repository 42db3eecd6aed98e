// Everything the post step needs from the main step passes through here, as one JSON value in the
// runner's step state (GITHUB_STATE), so both sides agree on its shape in one place.
import * as core from '@actions/core'
import type { EngineUp } from '../engine/up.js'
import type { ColdRun } from '../engine-state/manifest.js'
import type { PipelineResult } from '../pipeline/dag.js'
import { cacheBought, type CacheBalance } from '../report/summary.js'
import { errorMessage } from '../shared/errors.js'

const KEY = 'go-dagger-action'

export interface PostState {
  /** The engine container main started (absent when it used runner-host or ran nothing). */
  container?: string
  volume?: string
  engineVersion?: string
  helperImage?: string
  stopTimeoutSeconds?: number
  cache?: {
    /** What main decided from cache-save, the event and the stages (engine-state/save-policy.ts). */
    save: boolean
    /** The decision's sentence, which post logs once and puts in the summary when nothing is saved. */
    saveReason?: string
    scope: string
    /** The state fingerprint right after the restore: post saves nothing when it is unchanged. */
    fingerprint?: string
    /** File holding the restored manifest (it can be large, so it does not travel in the state). */
    manifestPath?: string
    tempDir: string
    runId: string
    runAttempt: string
    /** The cold run's durations for the manifest post saves: this run's when it was cold, else the restored ones. */
    coldRun?: ColdRun
    /** What the cache saved the pipeline, for post to weigh against the save. */
    balance?: CacheBalance
  }
}

// The runner keeps the last value saved under a key: amending the handoff means saving it whole.
let lastSaved: PostState | undefined

export function savePostState(state: PostState): void {
  lastSaved = state
  core.saveState(KEY, JSON.stringify(state))
}

/** The pipeline as main ran it and timed it. */
export interface PipelineRun {
  result: PipelineResult
  pipelineMs: number
}

/**
 * The cold run a new save records: this run, when it started cold and every stage passed; the
 * restored manifest's, when it started warm (the baseline stays that of the first cold run); none
 * for state found on the daemon, which no restore measured.
 */
export function coldRunToRecord(
  engine: Pick<EngineUp, 'restore' | 'stateOnDaemon'>,
  run?: PipelineRun
): ColdRun | undefined {
  const restore = engine.restore
  if (!restore || engine.stateOnDaemon) return undefined
  if (restore.cacheHit !== 'false') return restore.manifest?.coldRun
  if (!run?.result.ok || run.result.order.length === 0) return undefined
  const stages: ColdRun['stages'] = {}
  for (const stage of run.result.order) stages[stage] = Math.round(run.result.stages[stage]?.durationMs ?? 0)
  return { pipelineMs: Math.round(run.pipelineMs), stages }
}

/**
 * Adds to the handoff what only the pipeline's end tells: the cold run to record and the time the
 * cache saved. Without a session that finished, `run` is undefined: a warm run still hands on the
 * restored baseline.
 */
export function handCacheOutcomeToPost(engine: Pick<EngineUp, 'restore' | 'stateOnDaemon'>, run?: PipelineRun): void {
  if (!lastSaved?.cache) return
  const coldRun = coldRunToRecord(engine, run)
  const restoreMs = Math.round(engine.restore?.durationMs ?? 0)
  const whole = cacheBought(engine.restore?.manifest?.coldRun, run, restoreMs)?.pipeline
  const balance = whole ? { savedMs: Math.round(whole.coldMs - whole.thisMs), restoreMs } : undefined
  try {
    savePostState({
      ...lastSaved,
      cache: { ...lastSaved.cache, ...(coldRun ? { coldRun } : {}), ...(balance ? { balance } : {}) }
    })
  } catch (error) {
    // The handoff saved before the engine started still stands: post saves, without these figures.
    core.warning(`Could not hand the cold run's durations to the post step: ${errorMessage(error)}`)
  }
}

export function readPostState(): PostState | undefined {
  const raw = core.getState(KEY)
  if (!raw) return undefined
  return JSON.parse(raw) as PostState
}
