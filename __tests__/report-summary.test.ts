import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  coldRunToRecord,
  handCacheOutcomeToPost,
  readPostState,
  savePostState,
  type PostState
} from '../src/action/handoff.js'
import type { ColdRun, Manifest } from '../src/engine-state/manifest.js'
import { readConfig } from '../src/inputs/action-config.js'
import type { PipelineResult } from '../src/pipeline/dag.js'
import { escapeText, formatBytes, formatDuration } from '../src/report/format.js'
import { lineWriter, logStageReports, renderPipelineText, stageProgressHooks } from '../src/report/log.js'
import { pipelineOutputs } from '../src/report/outputs.js'
import {
  renderCacheRestore,
  renderCacheSaveSummary,
  renderSummary,
  toolVersions,
  writeCacheSaveSummary,
  writeSummary,
  writeSummaryOrWarn
} from '../src/report/summary.js'
import { recordedFailedRun, recordedPublishedRun, WORKSPACE } from './support/report-results.js'
import { parseFileCommands } from './support/runner.js'
import { stdoutOf } from './support/stdout.js'

const expectedDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'report')
// One summary file for every test that writes for real: core.summary keeps the first path it could
// open for the life of the process, as a step's summary file is one for the step.
const summaryDir = mkdtempSync(join(tmpdir(), 'summary-file-'))
const SUMMARY_FILE = join(summaryDir, 'step-summary.md')
afterAll(() => rmSync(summaryDir, { recursive: true, force: true }))
const expected = (name: string): string => readFileSync(join(expectedDir, name), 'utf8')

// What annotatePipeline reports for the failed run (asserted in report-annotations.test.ts).
const failedRunTally = { emitted: { error: 10, warning: 1 }, omitted: { error: 7, warning: 0 } }

describe('job summary', () => {
  test('a failed run: every stage with its duration, findings, failures, vulnerabilities and the cold cache', () => {
    const summary = renderSummary({
      pipeline: recordedFailedRun(),
      annotations: failedRunTally,
      workspace: WORKSPACE,
      engine: {
        restore: { cacheHit: 'false', bytes: 0, durationMs: 1_240 },
        runnerHost: 'container://dagger-engine-v0.21.8'
      }
    })
    expect(summary).toBe(expected('summary-failed-run.md'))
  })

  test('a published run with the engine state restored', () => {
    const summary = renderSummary({
      pipeline: recordedPublishedRun(),
      annotations: { emitted: { error: 0, warning: 0 }, omitted: { error: 0, warning: 0 } },
      workspace: WORKSPACE,
      engine: {
        restore: {
          cacheHit: 'true',
          matchedKey: 'go-dagger-action-engine-v1-0.21.8-Linux-X64-all-1234567890-1',
          bytes: 2_684_354_560,
          durationMs: 38_600
        }
      }
    })
    expect(summary).toBe(expected('summary-published-run.md'))
  })

  test('a partial restore says what the fallback key matched: any other scope of the engine version', () => {
    // The scope is the cache-key input and the stage selection together; the fallback matches either changed.
    const restore = {
      cacheHit: 'partial' as const,
      matchedKey: 'go-dagger-action-engine-v1-Linux-X64-v0.21.8-nightly_all-1234567890_build-1',
      bytes: 1_073_741_824,
      durationMs: 12_345
    }
    expect(renderCacheRestore(restore)).toBe(
      '### Engine cache\n\n' +
        'Restored 1.00 GiB from the newest save of this engine version under another scope ' +
        '(a different <code>cache-key</code>, stage selection, or both) ' +
        '<code>go-dagger-action-engine-v1-Linux-X64-v0.21.8-nightly&#95;all-1234567890&#95;build-1</code> in 12.3 s.\n'
    )
  })

  test('state found on the daemon, or thrown away by the engine at start-up, is never called restored', () => {
    const nothing = { cacheHit: 'false' as const, bytes: 0, durationMs: 0 }
    expect(renderCacheRestore(nothing, undefined, { stateOnDaemon: true })).toBe(
      '### Engine cache\n\n' +
        "Nothing restored: the engine state was already on this Docker daemon (a self-hosted runner's earlier job), and was used as it is.\n"
    )
    expect(renderCacheRestore(nothing, undefined, { discardedState: 'dagql_unclean_shutdown' })).toBe(
      '### Engine cache\n\nCold start: the engine discarded the restored state at start-up (<code>dagql&#95;unclean&#95;shutdown</code>).\n'
    )
    expect(
      renderCacheRestore(nothing, undefined, { stateOnDaemon: true, discardedState: 'dagql_unclean_shutdown' })
    ).toContain('the engine discarded the state it found on this Docker daemon at start-up')
  })

  test('user-controlled text cannot inject markup or break a table row', () => {
    const run = recordedFailedRun()
    const finding = run.stages.lint!.result!.findings[0]
    finding.file = 'services/app/x|<img src=x onerror=alert(1)>.go'
    finding.message = 'line one\nline two | *bold* [link](http://x)'
    const summary = renderSummary({ pipeline: run })
    const row = summary.split('\n').find(line => line.includes('onerror'))!
    expect(row).toBe(
      '| <code>services/app/x&#124;&#60;img src=x onerror=alert(1)&#62;.go:21:11</code> | errcheck | ' +
        'line one<br>line two &#124; &#42;bold&#42; &#91;link&#93;(http://x) |'
    )
    // The real test name `TestNames/<bob>` from the go test stream is escaped too.
    expect(summary).toContain('| TestNames/&#60;bob&#62; |')
    expect(summary).not.toMatch(/<bob>|<img/)
  })

  test('the post step reports what it saved, or why it saved nothing', () => {
    expect(
      renderCacheSaveSummary({
        saved: true,
        reason: 'saved',
        key: 'go-dagger-action-engine-v1-0.21.8-Linux-X64-all-1234567890-1',
        bytesUploaded: 412_090_368,
        partsUploaded: 2,
        partsReused: 9,
        durationMs: 21_480
      }) +
        renderCacheSaveSummary({
          saved: false,
          reason: 'the engine state did not change since it was restored',
          bytesUploaded: 0,
          partsUploaded: 0,
          partsReused: 0,
          durationMs: 3_100
        })
    ).toBe(expected('summary-cache-saved.md'))
  })

  test('on the failure path a summary that cannot be written is a warning, never the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'summary-'))
    const previous = process.env.GITHUB_STEP_SUMMARY
    try {
      // A file the runner names but nobody can write: its directory does not exist.
      process.env.GITHUB_STEP_SUMMARY = join(dir, 'gone', 'step-summary.md')
      let settled: unknown = 'pending'
      const log = await stdoutOf(async () => {
        settled = await writeSummaryOrWarn({ engine: { restore: undefined }, workspace: WORKSPACE }).then(
          () => 'resolved',
          (error: unknown) => error
        )
      })
      expect(settled).toBe('resolved')
      expect(log).toMatch(/^::warning::Could not write the job summary: .+\n$/)
    } finally {
      if (previous === undefined) delete process.env.GITHUB_STEP_SUMMARY
      else process.env.GITHUB_STEP_SUMMARY = previous
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('writeSummary appends to the file the runner names, and is a no-op without one', async () => {
    const file = SUMMARY_FILE
    writeFileSync(file, '')
    const previous = process.env.GITHUB_STEP_SUMMARY
    try {
      delete process.env.GITHUB_STEP_SUMMARY
      expect(await writeSummary({ pipeline: recordedPublishedRun() })).toBe(false)
      process.env.GITHUB_STEP_SUMMARY = file
      expect(await writeSummary({ pipeline: recordedPublishedRun() })).toBe(true)
      const save = {
        saved: false,
        reason: 'the engine state is empty',
        bytesUploaded: 0,
        partsUploaded: 0,
        partsReused: 0,
        durationMs: 900
      }
      expect(await writeCacheSaveSummary(save)).toBe(true)
      expect(readFileSync(file, 'utf8')).toBe(
        renderSummary({ pipeline: recordedPublishedRun() }) + '\n' + renderCacheSaveSummary(save) + '\n'
      )
    } finally {
      if (previous === undefined) delete process.env.GITHUB_STEP_SUMMARY
      else process.env.GITHUB_STEP_SUMMARY = previous
    }
  })
})

describe('plain-text report and outputs', () => {
  test('the local command prints each stage with what it produced and why it failed', () => {
    expect(renderPipelineText(recordedFailedRun(), WORKSPACE)).toBe(expected('pipeline-failed-run.txt'))
  })

  test('the scan details list the findings at the severities the severity input chose', () => {
    const run = recordedFailedRun()
    const scan = run.stages.scan!
    scan.result = { ...scan.result!, severities: ['MEDIUM', 'LOW'], failing: scan.result!.counts.MEDIUM }
    const text = renderPipelineText({ ...run, order: ['scan'] }, WORKSPACE)
    expect(text.split('\n').slice(1, 4)).toEqual([
      '    CRITICAL 1, HIGH 1, MEDIUM 1, LOW 0, UNKNOWN 0; 1 at the failing severities',
      '    SARIF bin/app.sarif',
      '    MEDIUM CVE-2025-22866 stdlib v1.23.4 → 1.22.12, 1.23.6, 1.24.0-rc.3'
    ])
    expect(text).not.toMatch(/CRITICAL CVE|HIGH CVE/)
  })

  test('outputs of the stages that produced something', () => {
    expect(pipelineOutputs(recordedFailedRun(), { output: `${WORKSPACE}/bin` })).toEqual({
      artifacts: `${WORKSPACE}/bin`,
      'image-tarball': `${WORKSPACE}/bin/app-image.tar`,
      coverage: '85.7',
      'tests-passed': '13',
      'tests-failed': '17',
      'tests-skipped': '1',
      'lint-findings': '3',
      vulnerabilities: '2',
      sarif: `${WORKSPACE}/bin/app.sarif`
    })
    expect(pipelineOutputs(recordedPublishedRun(), { output: `${WORKSPACE}/bin` })).toEqual({
      artifacts: `${WORKSPACE}/bin`,
      'image-ref': 'ghcr.io/acme/app@sha256:9b2f0c8e7d6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c'
    })
  })
})

describe('log groups', () => {
  test('one group per stage that ran, titled with its outcome, holding the plain-text details', async () => {
    const log = await stdoutOf(() => logStageReports(recordedFailedRun(), WORKSPACE))
    const titles = log.split('\n').filter(l => l.startsWith('::group::'))
    expect(titles).toEqual([
      '::group::✔ build passed in 41.3 s',
      '::group::✖ lint failed in 18.4 s',
      '::group::✖ test failed in 1 m 04 s',
      '::group::✔ image passed in 7.3 s',
      '::group::✖ scan failed in 25.1 s'
    ])
    expect(log.split('\n').filter(l => l === '::endgroup::')).toHaveLength(5)
    // Inside the groups: the same lines the local command prints, without its indentation.
    const text = expected('pipeline-failed-run.txt')
    const details = text
      .split('\n')
      .filter(l => l.startsWith('    '))
      .map(l => l.slice(4))
    expect(log.split('\n').filter(l => l !== '' && !l.startsWith('::'))).toEqual(details)
  })

  test('stage hooks print a line per start and end, and pass engine messages through', async () => {
    const log = await stdoutOf(() => {
      const hooks = stageProgressHooks()
      hooks.onStageStart!('test')
      hooks.log!('4 : container.from(address: "golang:1.23.4")')
      hooks.onStageEnd!(recordedFailedRun().stages.test!)
      hooks.onStageEnd!(recordedFailedRun().stages.publish!)
    })
    expect(log).toBe(
      '▶ test started\n4 : container.from(address: "golang:1.23.4")\n✖ test failed in 1 m 04 s\n⏭ publish skipped: lint, test, scan did not pass\n'
    )
  })

  test('lineWriter turns the engine progress stream into plain lines', async () => {
    const lines: string[] = []
    const writer = lineWriter(line => lines.push(line))
    writer.write('Creating new Engine session... ')
    writer.write('OK!\n\u001b[1m4 : \u001b[0mcontainer.from(address: "golang:1.23.4")\r\n5 : with')
    writer.write('Exec go build\n6 : DONE')
    await new Promise<void>(resolve => writer.end(resolve))
    expect(lines).toEqual([
      'Creating new Engine session... OK!',
      '4 : container.from(address: "golang:1.23.4")',
      '5 : withExec go build',
      '6 : DONE'
    ])
  })
})

describe('formatting', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [1_572_864, '1.50 MiB'],
    [2_684_354_560, '2.50 GiB']
  ])('formatBytes(%d) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))

  test.each([
    [850, '850 ms'],
    [12_345, '12.3 s'],
    [59_999, '1 m 00 s'],
    [125_000, '2 m 05 s']
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text))

  test('escapeText leaves plain words alone', () => {
    expect(escapeText('go test ./... passed in 2.1s')).toBe('go test ./... passed in 2.1s')
  })
})

/** Runs body with GITHUB_STEP_SUMMARY (and GITHUB_STATE) naming fresh files in a temp dir; returns their text. */
async function withRunnerFiles(
  body: () => unknown
): Promise<{ summary: string; state: Record<string, string>; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'summary-'))
  const files = { GITHUB_STEP_SUMMARY: SUMMARY_FILE, GITHUB_STATE: join(dir, 'state') }
  const previous = { GITHUB_STEP_SUMMARY: process.env.GITHUB_STEP_SUMMARY, GITHUB_STATE: process.env.GITHUB_STATE }
  try {
    for (const [name, file] of Object.entries(files)) {
      writeFileSync(file, '')
      process.env[name] = file
    }
    const log = await stdoutOf(body)
    return {
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
      log
    }
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

// The cold run that began the restored state's line of saves, for the published run's stages.
const COLD_RUN: ColdRun = { pipelineMs: 180_000, stages: { build: 150_000, image: 20_000, publish: 12_000 } }
const KEY = 'go-dagger-action-engine-v1-0.21.8-Linux-X64-all-1234567890-1'

const warmRestore = (coldRun: ColdRun | undefined = COLD_RUN) => ({
  cacheHit: 'true' as const,
  matchedKey: KEY,
  bytes: 2_684_354_560,
  durationMs: 38_600,
  fingerprint: 'f',
  ...(coldRun ? { manifest: { coldRun } as Manifest } : {})
})

describe('what the cache bought', () => {
  test('a cold run: the restore lookup sits with the stages, and nothing is compared', () => {
    const summary = renderSummary({
      pipeline: recordedPublishedRun(),
      pipelineMs: 190_000,
      engine: { restore: { cacheHit: 'false', bytes: 0, durationMs: 1_240 } }
    })
    expect(summary).toContain(
      [
        '| stage | status | duration |',
        '| --- | --- | --- |',
        '| build | ✅ passed | 41.3 s |',
        '| image | ✅ passed | 9.8 s |',
        '| publish | ✅ passed | 12.1 s |',
        '| pipeline, end to end | all passed | 3 m 10 s |',
        '| engine state restore | nothing to restore | 1.2 s |',
        ''
      ].join('\n')
    )
    expect(summary).not.toContain('cold run')
  })

  test('a warm run: each stage against the cold run, the restore as a cost, the time saved net of it', () => {
    const summary = renderSummary({
      pipeline: recordedPublishedRun(),
      pipelineMs: 65_000,
      engine: { restore: warmRestore() }
    })
    expect(summary).toContain(
      [
        '| stage | status | duration | cold run | saved |',
        '| --- | --- | --- | --- | --- |',
        '| build | ✅ passed | 41.3 s | 2 m 30 s | 1 m 49 s |',
        '| image | ✅ passed | 9.8 s | 20.0 s | 10.2 s |',
        // Slower than cold: said with a minus, not hidden.
        '| publish | ✅ passed | 12.1 s | 12.0 s | −50 ms |',
        '| pipeline, end to end | all passed | 1 m 05 s | 3 m 00 s | 1 m 55 s |',
        '| engine state restore | 2.50 GiB restored | 38.6 s | – | −38.6 s |',
        // 180 s − 65 s − 38.6 s.
        '| **time saved, net of the restore** |  |  |  | **1 m 16 s** |',
        '',
        "Cold run: what the restored state's manifest recorded of the cold run its line of saves began with. " +
          "Saved: the cold run's duration minus this run's; the restore counts against it, and the post step's section adds the save.",
        ''
      ].join('\n')
    )
  })

  test('other stages than the cold run, or a failed stage: only what compares is compared', () => {
    const run = recordedFailedRun()
    const summary = renderSummary({
      pipeline: { ...run, order: ['build', 'lint'], stages: { build: run.stages.build, lint: run.stages.lint } },
      pipelineMs: 50_000,
      engine: {
        restore: {
          ...warmRestore({ pipelineMs: 200_000, stages: { build: 60_000, lint: 30_000 } }),
          cacheHit: 'partial'
        }
      }
    })
    expect(summary).toContain('| build | ✅ passed | 41.3 s | 1 m 00 s | 18.8 s |')
    // lint failed this time: its duration is no measure of the cache.
    expect(summary).toContain('| lint | ❌ failed | 18.4 s | 30.0 s | – |')
    expect(summary).toContain('| pipeline, end to end | not all passed | 50.0 s | – | – |')
    expect(summary).not.toContain('time saved')
    expect(summary).toContain('It was recorded under another scope, whose run may have had other stages.')
  })

  test('state found on the daemon was not restored: no restore row', () => {
    const summary = renderSummary({
      pipeline: recordedPublishedRun(),
      engine: { restore: { cacheHit: 'false', bytes: 0, durationMs: 0 }, stateOnDaemon: true }
    })
    expect(summary).not.toContain('engine state restore')
  })

  test('the post step weighs the save against what main measured', () => {
    const save = {
      saved: true,
      reason: 'saved',
      key: KEY,
      bytesUploaded: 412_090_368,
      partsUploaded: 2,
      partsReused: 9,
      durationMs: 21_480
    }
    expect(renderCacheSaveSummary(save, { savedMs: 115_000, restoreMs: 38_600 })).toBe(
      '### Engine cache saved\n\n' +
        'Saved 393.0 MiB as <code>go-dagger-action-engine-v1-0.21.8-Linux-X64-all-1234567890-1</code> in 21.5 s: ' +
        '2 parts uploaded, 9 parts reused from the restored state.\n\n' +
        'Balance: the pipeline ran 1 m 55 s faster than its cold run; the restore took 38.6 s and the save 21.5 s, ' +
        'so the cache saved this job 54.9 s.\n'
    )
    expect(renderCacheSaveSummary(save, { savedMs: -2_000, restoreMs: 10_000 })).toContain(
      'Balance: the pipeline ran 2.0 s slower than its cold run; the restore took 10.0 s and the save 21.5 s, so the cache cost this job 33.5 s.'
    )
    // A save cache-save ruled out took no time.
    expect(
      renderCacheSaveSummary(
        { save: false, reason: 'not saved: cache-save is false' },
        { savedMs: 5_000, restoreMs: 1_000 }
      )
    ).toContain('the restore took 1.0 s and the save 0 ms, so the cache saved this job 4.0 s.')
  })
})

describe('what main hands post', () => {
  const passed = (): PipelineResult => recordedPublishedRun()
  const cold = { restore: { cacheHit: 'false' as const, bytes: 0, durationMs: 900, fingerprint: '' } }

  test('a cold run that passed records its own durations; a warm one hands on the first cold run', () => {
    expect(coldRunToRecord(cold, { result: passed(), pipelineMs: 190_000.4 })).toEqual({
      pipelineMs: 190_000,
      stages: { build: 41_250, image: 9_800, publish: 12_050 }
    })
    expect(coldRunToRecord({ restore: warmRestore() }, { result: passed(), pipelineMs: 65_000 })).toEqual(COLD_RUN)
    // A warm session that failed still hands on the baseline.
    expect(coldRunToRecord({ restore: warmRestore() })).toEqual(COLD_RUN)
  })

  test('no baseline from a failed cold run, from state found on the daemon, or without a restore', () => {
    expect(coldRunToRecord(cold, { result: recordedFailedRun(), pipelineMs: 1 })).toBeUndefined()
    expect(coldRunToRecord(cold)).toBeUndefined()
    expect(coldRunToRecord({ ...cold, stateOnDaemon: true }, { result: passed(), pipelineMs: 1 })).toBeUndefined()
    expect(coldRunToRecord({}, { result: passed(), pipelineMs: 1 })).toBeUndefined()
  })

  test('the handoff in GITHUB_STATE gains the cold run and the balance; post reads them back', async () => {
    const handoff: PostState = {
      container: 'dagger-engine-test',
      volume: 'dagger-engine-test',
      cache: { save: true, scope: 'all', tempDir: '/tmp', runId: '1', runAttempt: '1' }
    }
    const { state } = await withRunnerFiles(() => {
      savePostState(handoff)
      handCacheOutcomeToPost({ restore: warmRestore() }, { result: passed(), pipelineMs: 65_000 })
    })
    // The runner keeps the last value of a key, and hands it to post as STATE_<key>.
    process.env['STATE_go-dagger-action'] = state['go-dagger-action']
    try {
      expect(readPostState()).toEqual({
        ...handoff,
        cache: { ...handoff.cache, coldRun: COLD_RUN, balance: { savedMs: 115_000, restoreMs: 38_600 } }
      })
    } finally {
      delete process.env['STATE_go-dagger-action']
    }
  })
})

describe('tool versions', () => {
  let repo: string
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'summary-versions-'))
    mkdirSync(join(repo, 'svc'))
    writeFileSync(join(repo, 'svc', 'go.mod'), 'module example.com/svc\n\ngo 1.23\n\ntoolchain go1.23.4\n')
    writeFileSync(join(repo, 'svc', 'dagger.json'), JSON.stringify({ name: 'ci', engineVersion: 'v0.21.9' }))
  })
  afterAll(() => rmSync(repo, { recursive: true, force: true }))

  /** readConfig on the temp repository, its log lines kept out of the test output. */
  async function configOf(inputs: Record<string, string>): Promise<Awaited<ReturnType<typeof readConfig>>> {
    let cfg: Awaited<ReturnType<typeof readConfig>> | undefined
    await stdoutOf(async () => {
      cfg = await readConfig(name => ({ source: 'svc', ...inputs })[name] ?? '', { env: {}, cwd: repo })
    })
    return cfg!
  }

  test('each tool the stages use, with where its version came from', async () => {
    const cfg = await configOf({ stage: 'build,lint,test,image,scan' })
    expect(toolVersions(cfg, '0.21.9')).toEqual([
      { tool: 'Dagger', version: '0.21.9', from: '<code>svc/dagger.json</code> engineVersion <code>v0.21.9</code>' },
      { tool: 'Go', version: '1.23.4', from: '<code>svc/go.mod</code> <code>toolchain go1.23.4</code>' },
      { tool: 'golangci-lint', version: 'v2.12.2', from: "the action's default" },
      { tool: 'trivy', version: 'aquasec/trivy:0.74.0', from: "the action's default; the image is the action's pin" }
    ])
    const inputs = await configOf({
      stage: 'lint,scan',
      'dagger-version': 'latest',
      'go-version': '1.24.1',
      'golangci-lint-version': 'v2.5.0',
      scanner: 'grype'
    })
    expect(toolVersions(inputs, '0.21.11')).toEqual([
      { tool: 'Dagger', version: '0.21.11', from: '<code>dagger-version</code> input (latest)' },
      { tool: 'Go', version: '1.24.1', from: '<code>go-version</code> input' },
      { tool: 'golangci-lint', version: 'v2.5.0', from: '<code>golangci-lint-version</code> input' },
      {
        tool: 'grype',
        version: 'anchore/grype:v0.117.0',
        from: "<code>scanner</code> input; the image is the action's pin"
      }
    ])
  })

  test('stage none without a dagger.json: Dagger alone, at the bundled SDK’s version', async () => {
    writeFileSync(join(repo, 'svc', 'dagger.json'), JSON.stringify({ name: 'ci' }))
    const cfg = await configOf({ stage: 'none' })
    expect(toolVersions(cfg, '0.21.8')).toEqual([
      { tool: 'Dagger', version: '0.21.8', from: "the bundled Dagger SDK's default" }
    ])
  })

  test('main writes the versions and what the cache bought, post the save and the balance, to the real summary file', async () => {
    const versions = [
      { tool: 'Dagger', version: '0.21.8', from: "the bundled Dagger SDK's default" },
      { tool: 'Go', version: '1.23.4', from: '<code>go-version</code> input' }
    ]
    const save = {
      saved: true,
      reason: 'saved',
      key: KEY,
      bytesUploaded: 1024,
      partsUploaded: 1,
      partsReused: 0,
      durationMs: 4_000
    }
    const { summary } = await withRunnerFiles(async () => {
      await writeSummary({
        pipeline: recordedPublishedRun(),
        pipelineMs: 65_000,
        engine: { restore: warmRestore() },
        versions
      })
      await writeCacheSaveSummary(save, { savedMs: 115_000, restoreMs: 38_600 })
    })
    expect(summary).toContain('| **time saved, net of the restore** |  |  |  | **1 m 16 s** |')
    expect(summary).toContain(
      [
        '### Versions',
        '',
        '| tool | version | from |',
        '| --- | --- | --- |',
        "| Dagger | <code>0.21.8</code> | the bundled Dagger SDK's default |",
        '| Go | <code>1.23.4</code> | <code>go-version</code> input |',
        '',
        '### Engine cache'
      ].join('\n')
    )
    expect(summary).toMatch(
      /### Engine cache saved\n\nSaved 1\.00 KiB as .* in 4\.0 s: .*\n\nBalance: the pipeline ran 1 m 55 s faster than its cold run; the restore took 38\.6 s and the save 4\.0 s, so the cache saved this job 1 m 12 s\.\n\n$/
    )
  })
})
