// Everything the post step needs from the main step passes through here, as one JSON value in the
// runner's step state (GITHUB_STATE), so both sides agree on its shape in one place.
import * as core from '@actions/core'

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
  }
}

export function savePostState(state: PostState): void {
  core.saveState(KEY, JSON.stringify(state))
}

export function readPostState(): PostState | undefined {
  const raw = core.getState(KEY)
  if (!raw) return undefined
  return JSON.parse(raw) as PostState
}
