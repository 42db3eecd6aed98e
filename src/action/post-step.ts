// The post step, run even when main failed: the engine down (stopped gracefully, its state saved
// if it closed it cleanly and main's decision allows it), then the report. Nothing here fails the
// job over cache trouble, and nothing here loads the Dagger SDK.
import * as core from '@actions/core'
import { engineDown } from '../engine/down.js'
import { helpersRemoved } from '../engine-state/helper-container.js'
import { writeCacheSaveSummary } from '../report/summary.js'
import { errorMessage } from '../shared/errors.js'
import { readPostState } from './handoff.js'

export async function post(): Promise<void> {
  try {
    const state = readPostState()
    const { save } = await engineDown(state)
    if (save) {
      // The summary is a report of what happened: failing to write it changes nothing that did.
      await writeCacheSaveSummary(save, state?.cache?.balance).catch(error =>
        core.warning(`Could not write the job summary: ${errorMessage(error)}`)
      )
    }
  } finally {
    // The entry exits the process next: a helper still being removed would be left running.
    await helpersRemoved()
  }
}

/** The name @github/local-action runs. */
export { post as run }
