// Bringing the engine down, the post step's work: always a graceful `docker stop -t N`, then, only
// if the engine closed its state itself and main's decision allows it, the save of what changed.
// Nothing here fails the job over cache trouble, and nothing here loads the Dagger SDK.
import * as core from '@actions/core'
import { readFile } from 'node:fs/promises'
import type { PostState } from '../action/handoff.js'
import type { SaveDecision } from '../engine-state/save-policy.js'
import { saveEngineState, type Manifest, type SaveResult } from '../engine-state/store.js'
import { errorMessage } from '../shared/errors.js'
import { stopEngine } from './container.js'
import { DEFAULT_STOP_TIMEOUT_SECONDS } from './engine-json.js'

export interface EngineDown {
  /** What to report of the state: the save, or why there was none. Undefined when nothing was stopped or the cache is off. */
  save?: SaveResult | SaveDecision
}

export async function engineDown(state: PostState | undefined): Promise<EngineDown> {
  if (!state?.container || !state.volume || !state.engineVersion || !state.helperImage) {
    core.info('No engine was started by this action: nothing to stop')
    return {}
  }
  const timeoutSeconds = state.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS
  core.info(`Stopping the engine ${state.container} (docker stop -t ${timeoutSeconds})`)
  const stop = await stopEngine({ container: state.container, timeoutSeconds })
  if (!stop.clean) {
    core.warning(
      `The engine did not shut down cleanly (${stop.reason ?? `exit code ${stop.exitCode}`}): its state is not saved, ` +
        'because the engine wipes a state it did not close itself'
    )
    return {}
  }
  core.info(`The engine stopped cleanly in ${(stop.durationMs / 1000).toFixed(1)} s`)
  const cache = state.cache
  if (!cache) return {}
  const decision: SaveDecision = {
    save: cache.save,
    reason: cache.saveReason ?? (cache.save ? 'may be saved: cache-save is true' : 'not saved: cache-save is false')
  }
  core.info(`Engine state ${decision.reason}`)
  if (!decision.save) return { save: decision }

  let manifest: Manifest | undefined
  if (cache.manifestPath) {
    try {
      manifest = JSON.parse(await readFile(cache.manifestPath, 'utf8')) as Manifest
    } catch (error) {
      core.warning(`The restored manifest is unreadable (${errorMessage(error)}): saving every part anew`)
    }
  }
  const save = await saveEngineState({
    volume: state.volume,
    helperImage: state.helperImage,
    engineVersion: state.engineVersion,
    scope: cache.scope,
    tempDir: cache.tempDir,
    runId: cache.runId,
    runAttempt: cache.runAttempt,
    restored: cache.fingerprint ? { fingerprint: cache.fingerprint, manifest } : undefined,
    coldRun: cache.coldRun
  })
  core.info(
    save.saved
      ? `Saved the engine state as ${save.key}: ${save.bytesUploaded} bytes in ${save.partsUploaded} parts uploaded, ${save.partsReused} reused`
      : `Engine state not saved: ${save.reason}`
  )
  return { save }
}
