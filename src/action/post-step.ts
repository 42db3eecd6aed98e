// The post step, run even when main failed: stop the engine gracefully, then save its state if
// the stop was clean, main's save decision allows it and the state changed. Nothing here fails
// the job over cache trouble, and nothing here loads the Dagger SDK.
import * as core from '@actions/core'
import { readFile } from 'node:fs/promises'
import { stopEngine } from '../engine/container.js'
import { helpersRemoved } from '../engine-state/helper-container.js'
import { saveEngineState, type Manifest, type SaveResult } from '../engine-state/store.js'
import type { SaveDecision } from '../engine-state/save-policy.js'
import { writeCacheSaveSummary } from '../report/summary.js'
import { readPostState } from './handoff.js'

export async function post(): Promise<void> {
  try {
    await stopAndSave()
  } finally {
    // The entry exits the process next: a helper still being removed would be left running.
    await helpersRemoved()
  }
}

async function stopAndSave(): Promise<void> {
  const state = readPostState()
  if (!state?.container || !state.volume || !state.engineVersion || !state.helperImage) {
    core.info('No engine was started by this action: nothing to stop')
    return
  }
  const timeoutSeconds = state.stopTimeoutSeconds ?? 300
  core.info(`Stopping the engine ${state.container} (docker stop -t ${timeoutSeconds})`)
  const stop = await stopEngine({ container: state.container, timeoutSeconds })
  if (!stop.clean) {
    core.warning(
      `The engine did not shut down cleanly (${stop.reason ?? `exit code ${stop.exitCode}`}): its state is not saved, ` +
        'because the engine wipes a state it did not close itself'
    )
    return
  }
  core.info(`The engine stopped cleanly in ${(stop.durationMs / 1000).toFixed(1)} s`)
  const cache = state.cache
  if (!cache) return
  const decision: SaveDecision = {
    save: cache.save,
    reason: cache.saveReason ?? (cache.save ? 'may be saved: cache-save is true' : 'not saved: cache-save is false')
  }
  core.info(`Engine state ${decision.reason}`)
  if (!decision.save) {
    await summarize(decision)
    return
  }
  let manifest: Manifest | undefined
  if (cache.manifestPath) {
    try {
      manifest = JSON.parse(await readFile(cache.manifestPath, 'utf8')) as Manifest
    } catch (error) {
      core.warning(`The restored manifest is unreadable (${error instanceof Error ? error.message : String(error)}): saving every part anew`)
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
    restored: cache.fingerprint ? { fingerprint: cache.fingerprint, manifest } : undefined
  })
  core.info(
    save.saved
      ? `Saved the engine state as ${save.key}: ${save.bytesUploaded} bytes in ${save.partsUploaded} parts uploaded, ${save.partsReused} reused`
      : `Engine state not saved: ${save.reason}`
  )
  await summarize(save)
}

/** The summary is a report of what happened: failing to write it changes nothing that did. */
async function summarize(save: SaveResult | SaveDecision): Promise<void> {
  try {
    await writeCacheSaveSummary(save)
  } catch (error) {
    core.warning(`Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** The name @github/local-action runs. */
export { post as run }
