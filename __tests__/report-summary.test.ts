import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { escapeText, formatBytes, formatDuration } from '../src/report/format.js'
import { lineWriter, logStageReports, renderPipelineText, stageProgressHooks } from '../src/report/log.js'
import { pipelineOutputs } from '../src/report/outputs.js'
import {
  renderCacheRestore,
  renderCacheSaveSummary,
  renderSummary,
  writeCacheSaveSummary,
  writeSummary,
  writeSummaryOrWarn
} from '../src/report/summary.js'
import { recordedFailedRun, recordedPublishedRun, WORKSPACE } from './support/report-results.js'
import { stdoutOf } from './support/stdout.js'

const expectedDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'report')
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
    const dir = mkdtempSync(join(tmpdir(), 'summary-'))
    const file = join(dir, 'step-summary.md')
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
      rmSync(dir, { recursive: true, force: true })
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
