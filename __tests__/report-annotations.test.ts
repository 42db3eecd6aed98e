import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ANNOTATION_LIMITS,
  annotatePipeline,
  emitAnnotations,
  lintAnnotations,
  testFailureAnnotations
} from '../src/report/annotations.js'
import { parseGoTestJson } from '../src/pipeline/results.js'
import { renderSummary } from '../src/report/summary.js'
import { MODULE_DIR, recordedFailedRun, recordedLintFindings, recordedTestReport } from './support/report-results.js'
import { stdoutOf } from './support/stdout.js'

const expectedDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'report')
const expected = (name: string): string => readFileSync(join(expectedDir, name), 'utf8')
const lines = (text: string): string[] => text.split('\n').filter(line => line !== '')

describe('annotations', () => {
  test('test failures point at the test file, repository-relative, with the test and the message', () => {
    const failures = recordedTestReport().failures
    const annotations = testFailureAnnotations(failures)
    expect(annotations[0]).toEqual({
      level: 'error',
      message: 'Shout(gopher) = "HELLO, GOPHER!", want "HELLO, GOPHER"',
      properties: {
        title: 'TestShout failed (example.com/acme/svc/internal/greet)',
        file: `${MODULE_DIR}/internal/greet/greet_test.go`,
        startLine: 16
      }
    })
    // Every failing leaf test is annotated at a file inside the module's directory.
    expect(annotations).toHaveLength(failures.length)
    for (const a of annotations)
      expect(a.properties.file).toMatch(new RegExp(`^${MODULE_DIR}/internal/(greet|table)/\\w+_test\\.go$`))
  })

  test('a package that does not compile is annotated at the compiler error, without go test framing', () => {
    const recorded = (name: string): string => readFileSync(join(expectedDir, '..', 'pipeline', name), 'utf8')
    // Go 1.23: the compiler's errors reach the report through stderr.
    const report = parseGoTestJson(
      recorded('go-test-build-failed-go1.23.4.json'),
      'example.com/buildfail',
      { containerRoot: '/src', hostRoot: MODULE_DIR },
      recorded('go-test-build-failed-go1.23.4.stderr')
    )
    const annotations = testFailureAnnotations(report.failures)
    expect(annotations.find(a => a.properties.title === 'package example.com/buildfail/broken failed')).toEqual({
      level: 'error',
      message:
        'broken/broken.go:4:28: cannot use "forty-two" (untyped string constant) as int value in return statement',
      properties: {
        title: 'package example.com/buildfail/broken failed',
        file: `${MODULE_DIR}/broken/broken.go`,
        startLine: 4
      }
    })
  })

  test('lint findings carry file, line, column and linter; a warning severity stays a warning', () => {
    const annotations = lintAnnotations(recordedLintFindings())
    expect(
      annotations.map(a => [
        a.level,
        a.properties.title,
        a.properties.file,
        a.properties.startLine,
        a.properties.startColumn
      ])
    ).toEqual([
      ['error', 'golangci-lint: errcheck', `${MODULE_DIR}/cmd/app/main.go`, 21, 11],
      ['warning', 'golangci-lint: staticcheck', `${MODULE_DIR}/internal/config/config.go`, 14, 7],
      ['error', 'golangci-lint: govet', `${MODULE_DIR}/internal/config/config.go`, 30, 9]
    ])
  })

  test('more errors than GitHub shows: exactly the cap is emitted, the rest is counted in the summary', async () => {
    const run = recordedFailedRun()
    const testFailures = run.stages.test!.result!.failures
    const lintFindings = run.stages.lint!.result!.findings
    // 15 failing tests and 2 lint errors compete for 10 error annotations, taken in turns so both kinds
    // show; the lint warning has its own cap.
    expect(testFailures).toHaveLength(15)

    let tally!: ReturnType<typeof annotatePipeline>
    const commands = lines(
      await stdoutOf(() => {
        tally = annotatePipeline({ testFailures, lintFindings })
      })
    )

    expect(commands.filter(c => c.startsWith('::error '))).toHaveLength(ANNOTATION_LIMITS.error)
    expect(commands.filter(c => c.startsWith('::warning '))).toHaveLength(1)
    expect(tally).toEqual({ emitted: { error: 10, warning: 1 }, omitted: { error: 7, warning: 0 } })
    expect(commands.join('\n') + '\n').toBe(expected('annotations-failed-run.txt'))

    const summary = renderSummary({ pipeline: run, annotations: tally })
    expect(summary).toContain(
      'GitHub shows at most 10 error and 10 warning annotations per step: 11 were annotated; the other 7 errors appear only in this summary and the log.'
    )
  })

  test('the warning cap is separate from the error cap', async () => {
    // The same staticcheck warning reported in 12 files of a larger repository.
    const warning = recordedLintFindings().find(f => f.severity === 'warning')!
    const findings = Array.from({ length: 12 }, (_, i) => ({
      ...warning,
      file: `${MODULE_DIR}/internal/pkg${i}/config.go`
    }))
    let tally!: ReturnType<typeof emitAnnotations>
    const commands = lines(
      await stdoutOf(() => {
        tally = emitAnnotations(lintAnnotations(findings))
      })
    )
    expect(commands).toHaveLength(10)
    expect(
      commands.every(c =>
        /^::warning title=golangci-lint%3A staticcheck,file=services\/app\/internal\/pkg\d\/config\.go,/.test(c)
      )
    ).toBe(true)
    expect(commands.at(-1)).toContain('pkg9/config.go')
    expect(tally).toEqual({ emitted: { error: 0, warning: 10 }, omitted: { error: 0, warning: 2 } })
  })
})
