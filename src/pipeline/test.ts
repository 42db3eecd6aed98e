// The test stage: `go test -json` (with -race and coverage when asked), read as an event stream so
// every failure comes back with its test, package, file and line.

import type { Client } from '@dagger.io/dagger'
import { EXPECT_ANY_EXIT_CODE, goModuleContainer, SOURCE_ROOT } from './build.js'
import type { PipelineConfig } from '../inputs/pipeline-config.js'
import { parseCoverFunc, parseGoTestJson, tailOf, type Outcome, type TestReport } from './results.js'

const STREAM = '/tmp/go-test.json'
const PROFILE = '/tmp/coverage.out'
const COVER_FUNC = '/tmp/coverage.txt'

export function testCommand(cfg: PipelineConfig): string[] {
  return [
    'go',
    'test',
    '-json',
    ...(cfg.race ? ['-race'] : []),
    ...(cfg.coverage ? [`-coverprofile=${PROFILE}`] : []),
    ...cfg.testFlags,
    './...'
  ]
}

export type TestResult = TestReport

export async function runTest(client: Client, cfg: PipelineConfig): Promise<Outcome<TestResult>> {
  const command = testCommand(cfg)
  const ran = goModuleContainer(client, cfg)
    // The race detector is cgo; the golang image carries the C toolchain it needs.
    .withEnvVariable('CGO_ENABLED', cfg.race ? '1' : '0')
    .withExec(command, { expect: EXPECT_ANY_EXIT_CODE, redirectStdout: STREAM })
  const measured = cfg.coverage
    ? ran.withExec(['go', 'tool', 'cover', `-func=${PROFILE}`], {
        expect: EXPECT_ANY_EXIT_CODE,
        redirectStdout: COVER_FUNC
      })
    : ran

  const [exitCode, stream, coverFunc] = await Promise.all([
    ran.exitCode(),
    measured.file(STREAM).contents(),
    cfg.coverage ? measured.file(COVER_FUNC).contents() : Promise.resolve('')
  ])
  // Before Go 1.24 compiler errors reach stderr only, as do flag errors; a run that passed has none.
  const stderr = exitCode === 0 ? '' : await ran.stderr()
  const report = parseGoTestJson(
    stream,
    cfg.modulePath,
    { containerRoot: SOURCE_ROOT, hostRoot: cfg.sourceFromRepo },
    stderr
  )
  const coverage = parseCoverFunc(coverFunc)
  const result: TestResult = { ...report, ...(coverage === undefined ? {} : { coverage }) }
  if (exitCode === 0) return { result }

  const failedOutput = report.failures.map(f => f.output).join('\n')
  const output = failedOutput.trim() ? failedOutput : [stream, stderr].join('\n')
  const failedCount = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'} failed`
  const failedPackages = report.failures.filter(f => !f.test).length
  const what =
    [
      report.failed > 0 ? failedCount(report.failed, 'test') : '',
      failedPackages > 0 ? failedCount(failedPackages, 'package') : ''
    ]
      .filter(Boolean)
      .join(', ') || `go test exited with code ${exitCode}`
  return { result, failure: { message: what, command: command.join(' '), exitCode, outputTail: tailOf(output) } }
}
