// Whether this job may write the engine state to the Actions cache. A state restored into a later
// job runs there as the engine's own cache (snapshots, build results), so a state written by a run
// of untrusted code would poison every trusted job that restores it. With cache-save auto only runs
// of the repository's own code write; the others restore only. Pure: the event and its payload are
// read by the inputs (action-config.ts), before anything runs.

/** The `cache-save` input: auto, or true/false to override the policy. */
export type CacheSaveSetting = 'auto' | boolean

export interface TriggerEvent {
  /** GITHUB_EVENT_NAME; '' when unset. */
  name: string
  /** The parsed JSON at GITHUB_EVENT_PATH, when it could be read. */
  payload?: unknown
  /** Why the payload is missing, e.g. "GITHUB_EVENT_PATH is not set". */
  unreadable?: string
}

export interface SaveDecision {
  save: boolean
  /** A sentence for the log and the summary: "not saved: …" or "may be saved: …". */
  reason: string
}

/** Events whose runs execute code that is in the repository already, whoever triggered them. */
const TRUSTED_EVENTS = ['push', 'schedule', 'workflow_dispatch', 'merge_group'] as const

interface Trust {
  trusted: boolean
  why: string
}

export function decideSave({
  setting,
  event,
  stages
}: {
  setting: CacheSaveSetting
  event: TriggerEvent
  stages: readonly string[]
}): SaveDecision {
  if (setting === false) return { save: false, reason: 'not saved: cache-save is false' }
  if (setting === true) return { save: true, reason: 'may be saved: cache-save is true' }
  const trust = trustOf(event)
  if (!trust.trusted) return { save: false, reason: `not saved: ${trust.why}` }
  // A publishing job handles the registry credentials, and its state would go to jobs that never
  // see them: it stays out of the cache unless cache-save: true asks for it.
  if (stages.includes('publish')) {
    return {
      save: false,
      reason:
        'not saved: this job publishes, and cache-save auto keeps the state of a publishing job out of the cache (cache-save: true saves it)'
    }
  }
  return { save: true, reason: `may be saved: ${trust.why}` }
}

function trustOf(event: TriggerEvent): Trust {
  const { name } = event
  if (name === '') {
    return {
      trusted: false,
      why: 'GITHUB_EVENT_NAME is not set, so nothing says this run is trusted and it can only restore'
    }
  }
  if ((TRUSTED_EVENTS as readonly string[]).includes(name)) return { trusted: true, why: `${name} runs are trusted` }
  const payload = asObject(event.payload)
  // Where a payload is needed and is missing or lacks the field, the run counts as untrusted.
  const unknownOrigin = (what: string, missing: string): Trust => {
    const detail = event.unreadable ?? (payload ? missing : 'the payload is not a JSON object')
    return {
      trusted: false,
      why: `the ${name} payload cannot tell where ${what} comes from (${detail}), so the run counts as untrusted and can only restore`
    }
  }
  switch (name) {
    case 'pull_request': {
      const pr = asObject(payload?.pull_request)
      const head = asObject(pr?.head)
      const base = fullName(asObject(pr?.base)?.repo)
      // The head repository is null once a fork is deleted; the payload says so explicitly.
      if (head && head.repo === null)
        return { trusted: false, why: 'pull_request from a fork that no longer exists can only restore' }
      const headName = fullName(head?.repo)
      if (!headName || !base) {
        return unknownOrigin('the pull request', 'it names no pull_request.head.repo and pull_request.base.repo')
      }
      if (headName !== base) return { trusted: false, why: `pull_request from the fork ${headName} can only restore` }
      return { trusted: true, why: `pull_request from a branch of ${base} itself` }
    }
    case 'pull_request_target':
      // It runs with the base repository's token for a pull request that may come from anywhere.
      return { trusted: false, why: 'pull_request_target runs on behalf of a pull request, so it can only restore' }
    case 'issue_comment':
      return { trusted: false, why: 'issue_comment runs for anyone who comments, so it can only restore' }
    case 'workflow_run': {
      const run = asObject(payload?.workflow_run)
      const headName = fullName(run?.head_repository)
      const repository = fullName(payload?.repository)
      if (!headName || !repository) {
        return unknownOrigin('the triggering run', 'it names no workflow_run.head_repository')
      }
      if (headName !== repository)
        return { trusted: false, why: `workflow_run triggered from the fork ${headName} can only restore` }
      // Its head is this repository's, but the triggering run may itself have been an untrusted
      // event (issue_comment, pull_request_target): it is trusted exactly when that event is.
      const triggeredBy = typeof run?.event === 'string' ? run.event : ''
      if ((TRUSTED_EVENTS as readonly string[]).includes(triggeredBy) || triggeredBy === 'pull_request') {
        return { trusted: true, why: `workflow_run after ${triggeredBy} runs of ${repository} itself` }
      }
      const untrusted = triggeredBy
        ? `${triggeredBy} is not an event cache-save auto trusts`
        : 'the payload names no workflow_run.event'
      return {
        trusted: false,
        why: `workflow_run after ${triggeredBy || 'an unknown event'}: ${untrusted}, so it can only restore`
      }
    }
    default:
      return { trusted: false, why: `${name} is not an event cache-save auto trusts, so it can only restore` }
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function fullName(repo: unknown): string | undefined {
  const name = asObject(repo)?.full_name
  return typeof name === 'string' && name !== '' ? name : undefined
}
