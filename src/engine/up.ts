// Bringing the engine up, the hardest step of main: the engine's state is restored while its image
// downloads, the handoff for post is written before the container starts (whatever fails after
// that, post stops the engine), the engine starts, and a state it cannot start on, or one it throws
// away at start-up, is said to be so: never "restored" for a cache that did not survive.
// The state store (and @actions/cache with its Azure client) is imported only here, when a local
// engine is brought up: a dry run or a runner-host job never loads it.
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { savePostState, type PostState } from '../action/handoff.js'
import type { RestoreResult } from '../engine-state/store.js'
import { decideSave } from '../engine-state/save-policy.js'
import type { Config } from '../inputs/action-config.js'
import { stateScopeForStages } from '../inputs/pipeline-config.js'
import { ensureImage, pullImage, volumeExists } from '../shared/docker.js'
import { errorMessage } from '../shared/errors.js'
import { engineNames, removeVolume, startEngine, volumeHasState } from './container.js'
import { engineConfigJson } from './engine-json.js'

export interface EngineUp {
  runnerHost: string
  /** What the state cache did; undefined when the action does not manage the state (runner-host, cache: false). */
  restore?: RestoreResult
  /** The state was already on this Docker daemon (a self-hosted runner's earlier job): nothing was restored. */
  stateOnDaemon?: boolean
  /** The engine threw away the state it found at start-up, for this reason: the run is cold. */
  discardedState?: string
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

/**
 * Whether an engine image the daemon already has is checked against its registry for a newer build
 * under the same tag. The default image is a release tag and a digest names one build for good, so
 * neither costs a registry round trip; any other tag (`:main`, `:latest`, a team's `:stable`) can move.
 */
export function checksForNewerImage(configured: string | undefined, defaultImage: string): boolean {
  if (configured === undefined || configured === defaultImage) return false
  return !/@sha256:[0-9a-f]{64}$/.test(configured)
}

/**
 * Pulls a tag that can move, and returns the ID of the image to run. Without a registry (an
 * air-gapped runner, an outage) the image the daemon has serves: a warning, never a failed job.
 */
async function latestImage(image: string): Promise<string> {
  const pulled = await pullImage(image)
  const short = (id: string) => id.slice(0, 19)
  if (pulled.checkFailed) {
    core.warning(
      `Could not check ${image} for a newer build (${pulled.checkFailed}): using the one this Docker daemon has, ` +
        `${short(pulled.id)}. Pin engine-image by digest to skip this check.`
    )
  } else if (pulled.replaced) {
    core.info(
      `Pulled a newer ${image}: ${short(pulled.id)} replaces ${short(pulled.replaced)}, with a state of its own`
    )
  }
  return pulled.id
}

/** The fingerprint of state already on the daemon; '' (post then saves) when it cannot be taken. */
async function localFingerprint(volume: string, helperImage: string): Promise<string> {
  try {
    const { stateFingerprint } = await import('../engine-state/store.js')
    return await stateFingerprint(volume, helperImage)
  } catch (error) {
    core.warning(
      `Could not read the engine state volume ${volume} (${errorMessage(error)}): the post step will save it whole`
    )
    return ''
  }
}

const COLD: Pick<RestoreResult, 'cacheHit' | 'bytes' | 'fingerprint'> = { cacheHit: 'false', bytes: 0, fingerprint: '' }

export async function engineUp(cfg: Config, cliVersion: string): Promise<EngineUp> {
  if (cfg.engine.runnerHost) {
    core.info(`Using the engine at ${cfg.engine.runnerHost}: no local engine, no state cache`)
    return { runnerHost: cfg.engine.runnerHost }
  }
  const defaultImage = `registry.dagger.io/engine:v${cliVersion}`
  const image = cfg.engine.image ?? defaultImage
  // The engine image downloads while the state is restored. A custom image must be there first:
  // its ID is part of the state keys.
  const enginePulled = checksForNewerImage(cfg.engine.image, defaultImage) ? latestImage(image) : ensureImage(image)
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
  const stateOptions = {
    volume: names.volume,
    helperImage: cfg.engine.helperImage,
    engineVersion,
    scope,
    tempDir,
    runId,
    runAttempt
  }

  let restore: RestoreResult | undefined
  let stateBeforeStart = false
  if (await volumeExists(names.volume)) {
    // Read through a container of the engine image, so the image must be there.
    await enginePulled
    stateBeforeStart = await volumeHasState({ volume: names.volume, image })
  }
  const stateOnDaemon = stateBeforeStart
  if (stateOnDaemon) {
    // Self-hosted runners: this Docker daemon still holds the state of an earlier job.
    core.info(`The engine state volume ${names.volume} is already on this Docker daemon: using it, nothing to restore`)
    restore = cfg.cache.enabled
      ? { ...COLD, durationMs: 0, fingerprint: await localFingerprint(names.volume, cfg.engine.helperImage) }
      : undefined
  } else if (cfg.cache.enabled) {
    const { restoreEngineState } = await import('../engine-state/store.js')
    restore = await core.group('Restore the engine state', () => restoreEngineState(stateOptions))
    stateBeforeStart = restore.cacheHit !== 'false'
  }
  // A failed pull is reported as such, not taken for an engine that cannot start on the restored state.
  const imageId = await enginePulled

  let manifestPath: string | undefined
  if (restore?.manifest) {
    manifestPath = path.join(tempDir, `go-dagger-action-restored-${names.volume}.json`)
    await writeFile(manifestPath, JSON.stringify(restore.manifest))
  }
  const saving = decideSave({ setting: cfg.cache.save, event: cfg.event, stages: cfg.pipeline.stages })
  const handoff = (fingerprint: string | undefined, manifest: string | undefined): PostState => ({
    container: names.container,
    volume: names.volume,
    engineVersion,
    helperImage: cfg.engine.helperImage,
    stopTimeoutSeconds: cfg.engine.stopTimeoutSeconds,
    cache: cfg.cache.enabled
      ? {
          save: saving.save,
          saveReason: saving.reason,
          scope,
          fingerprint: fingerprint || undefined,
          manifestPath: manifest,
          tempDir,
          runId,
          runAttempt
        }
      : undefined
  })
  // Saved before the engine starts: whatever fails after that, post stops the engine.
  savePostState(handoff(restore?.fingerprint, manifestPath))

  const engineConfig = engineConfigJson({ maxUsedSpaceBytes: cfg.cache.maxSizeBytes, overrides: cfg.engine.config })
  const startOptions = { image, imageId, names, engineConfig, stopTimeoutSeconds: cfg.engine.stopTimeoutSeconds }
  const coldAfter = (previous: RestoreResult | undefined): RestoreResult | undefined =>
    previous && { ...COLD, durationMs: previous.durationMs }
  let started
  try {
    started = await startEngine(startOptions)
    if (started.replaced) core.info(started.replaced)
  } catch (error) {
    if (!stateBeforeStart) throw error
    core.warning(
      `The engine did not start on the restored state (${errorMessage(error)}); discarding it and starting cold`
    )
    await removeVolume(names.volume)
    started = await startEngine(startOptions)
    restore = coldAfter(restore)
    // The discarded state's manifest would only mislead the next save's reuse of parts.
    savePostState(handoff(undefined, undefined))
  }
  if (started.discardedState && stateBeforeStart) {
    const what = stateOnDaemon ? 'the state it found on this Docker daemon' : 'the restored state'
    core.warning(`The engine discarded ${what} at start-up (${started.discardedState}): this run starts cold`)
    restore = coldAfter(restore)
    savePostState(handoff(undefined, undefined))
  }
  return {
    runnerHost: started.runnerHost,
    restore,
    ...(stateOnDaemon ? { stateOnDaemon } : {}),
    ...(started.discardedState && stateBeforeStart ? { discardedState: started.discardedState } : {})
  }
}
