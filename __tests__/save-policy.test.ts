// When the post step may save the engine state: a state restored into a later trusted job runs code
// there, so with cache-save auto only trusted runs write it. Each case is the event name and a
// minimal payload of the shape the runner writes at GITHUB_EVENT_PATH.
import { decideSave, type TriggerEvent } from '../src/engine-state/save-policy.js'
import { renderCacheSaveSummary } from '../src/report/summary.js'

const REPO = { full_name: 'octo/repo', default_branch: 'main' }
const FORK = { full_name: 'forker/repo', default_branch: 'main' }

const pullRequest = (head: unknown) => ({
  action: 'synchronize',
  number: 7,
  pull_request: {
    number: 7,
    head: { ref: 'feature', sha: 'a'.repeat(40), repo: head },
    base: { ref: 'main', sha: 'b'.repeat(40), repo: REPO }
  },
  repository: REPO
})

const workflowRun = (triggeredBy: string, head: unknown) => ({
  action: 'completed',
  workflow_run: { name: 'CI', event: triggeredBy, head_branch: 'feature', head_repository: head, repository: REPO },
  repository: REPO
})

const events: Record<string, TriggerEvent> = {
  push: {
    name: 'push',
    payload: { ref: 'refs/heads/main', before: '0'.repeat(40), after: 'c'.repeat(40), repository: REPO }
  },
  schedule: { name: 'schedule', payload: { schedule: '0 3 * * *', repository: REPO } },
  workflow_dispatch: { name: 'workflow_dispatch', payload: { inputs: {}, ref: 'refs/heads/main', repository: REPO } },
  merge_group: {
    name: 'merge_group',
    payload: {
      action: 'checks_requested',
      merge_group: { head_ref: 'refs/heads/gh-readonly-queue/main/pr-7', base_ref: 'refs/heads/main' },
      repository: REPO
    }
  },
  'pull_request from a branch': { name: 'pull_request', payload: pullRequest(REPO) },
  'pull_request from a fork': { name: 'pull_request', payload: pullRequest(FORK) },
  'pull_request from a deleted fork': { name: 'pull_request', payload: pullRequest(null) },
  'pull_request_target from a fork': { name: 'pull_request_target', payload: pullRequest(FORK) },
  'pull_request_target from a branch': { name: 'pull_request_target', payload: pullRequest(REPO) },
  issue_comment: {
    name: 'issue_comment',
    payload: {
      action: 'created',
      issue: { number: 7, pull_request: { url: 'https://api.github.com/repos/octo/repo/pulls/7' } },
      comment: { body: '/retest' },
      repository: REPO
    }
  },
  'workflow_run after a fork pull_request': { name: 'workflow_run', payload: workflowRun('pull_request', FORK) },
  'workflow_run after a push': { name: 'workflow_run', payload: workflowRun('push', REPO) },
  'workflow_run after an issue_comment': { name: 'workflow_run', payload: workflowRun('issue_comment', REPO) },
  release: { name: 'release', payload: { action: 'published', release: { tag_name: 'v1.2.3' }, repository: REPO } }
}

describe('cache-save auto', () => {
  test.each([
    ['push', true, 'may be saved: push runs are trusted'],
    ['schedule', true, 'may be saved: schedule runs are trusted'],
    ['workflow_dispatch', true, 'may be saved: workflow_dispatch runs are trusted'],
    ['merge_group', true, 'may be saved: merge_group runs are trusted'],
    ['pull_request from a branch', true, 'may be saved: pull_request from a branch of octo/repo itself'],
    ['pull_request from a fork', false, 'not saved: pull_request from the fork forker/repo can only restore'],
    [
      'pull_request from a deleted fork',
      false,
      'not saved: pull_request from a fork that no longer exists can only restore'
    ],
    [
      'pull_request_target from a fork',
      false,
      'not saved: pull_request_target runs on behalf of a pull request, so it can only restore'
    ],
    [
      'pull_request_target from a branch',
      false,
      'not saved: pull_request_target runs on behalf of a pull request, so it can only restore'
    ],
    ['issue_comment', false, 'not saved: issue_comment runs for anyone who comments, so it can only restore'],
    [
      'workflow_run after a fork pull_request',
      false,
      'not saved: workflow_run triggered from the fork forker/repo can only restore'
    ],
    ['workflow_run after a push', true, 'may be saved: workflow_run after push runs of octo/repo itself'],
    [
      'workflow_run after an issue_comment',
      false,
      'not saved: workflow_run after issue_comment: issue_comment is not an event cache-save auto trusts, so it can only restore'
    ],
    ['release', false, 'not saved: release is not an event cache-save auto trusts, so it can only restore']
  ])('%s → save %s', (label, save, reason) => {
    expect(decideSave({ setting: 'auto', event: events[label], stages: ['build', 'test'] })).toEqual({ save, reason })
  })

  test('no event name at all (a local run) only restores', () => {
    expect(
      decideSave({
        setting: 'auto',
        event: { name: '', unreadable: 'GITHUB_EVENT_PATH is not set' },
        stages: ['build']
      })
    ).toEqual({
      save: false,
      reason: 'not saved: GITHUB_EVENT_NAME is not set, so nothing says this run is trusted and it can only restore'
    })
  })

  test.each([
    [
      'the payload could not be read',
      { name: 'pull_request', unreadable: '/runner/_temp/event.json could not be read (ENOENT)' }
    ],
    ['the payload is not an object', { name: 'pull_request', payload: ['not', 'an', 'event'] }],
    ['the payload names no repositories', { name: 'pull_request', payload: { action: 'opened', number: 7 } }]
  ] as Array<[string, TriggerEvent]>)(
    'a pull_request whose origin cannot be told counts as untrusted: %s',
    (_, event) => {
      const decision = decideSave({ setting: 'auto', event, stages: ['build'] })
      expect(decision.save).toBe(false)
      expect(decision.reason).toMatch(
        /^not saved: the pull_request payload cannot tell where the pull request comes from \(.+\), so the run counts as untrusted and can only restore$/
      )
      if (event.unreadable) expect(decision.reason).toContain(event.unreadable)
    }
  )

  test('a workflow_run whose origin cannot be told counts as untrusted', () => {
    const decision = decideSave({
      setting: 'auto',
      event: { name: 'workflow_run', payload: { action: 'completed', repository: REPO } },
      stages: ['build']
    })
    expect(decision).toEqual({
      save: false,
      reason:
        'not saved: the workflow_run payload cannot tell where the triggering run comes from (it names no workflow_run.head_repository), so the run counts as untrusted and can only restore'
    })
  })

  test('a trusted event whose payload is unreadable still saves: its trust does not depend on the payload', () => {
    expect(
      decideSave({
        setting: 'auto',
        event: { name: 'push', unreadable: 'GITHUB_EVENT_PATH is not set' },
        stages: ['build']
      })
    ).toEqual({
      save: true,
      reason: 'may be saved: push runs are trusted'
    })
  })

  test('a job that publishes never saves, even on a trusted event', () => {
    expect(decideSave({ setting: 'auto', event: events.push, stages: ['build', 'image', 'publish'] })).toEqual({
      save: false,
      reason:
        'not saved: this job publishes, and cache-save auto keeps the state of a publishing job out of the cache (cache-save: true saves it)'
    })
  })

  test('an untrusted event says so first, whatever the stages', () => {
    expect(decideSave({ setting: 'auto', event: events['pull_request from a fork'], stages: ['publish'] }).reason).toBe(
      'not saved: pull_request from the fork forker/repo can only restore'
    )
  })
})

describe('cache-save true and false', () => {
  test.each(Object.entries(events))('true saves on %s, publishing or not', (_, event) => {
    for (const stages of [['build'], ['build', 'publish']]) {
      expect(decideSave({ setting: true, event, stages })).toEqual({
        save: true,
        reason: 'may be saved: cache-save is true'
      })
    }
  })

  test.each(Object.entries(events))('false never saves, on %s either', (_, event) => {
    expect(decideSave({ setting: false, event, stages: ['build'] })).toEqual({
      save: false,
      reason: 'not saved: cache-save is false'
    })
  })
})

describe('the save summary of a job that may not save', () => {
  test('says why nothing was saved', () => {
    const decision = decideSave({ setting: 'auto', event: events['pull_request from a fork'], stages: ['build'] })
    // Underscores are escaped, so Markdown shows them rather than italics.
    expect(renderCacheSaveSummary(decision)).toBe(
      '### Engine cache saved\n\nNot saved: pull&#95;request from the fork forker/repo can only restore.\n'
    )
  })
})
