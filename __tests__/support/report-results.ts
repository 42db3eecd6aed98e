/**
 * Recorded stage results for the report tests, built from real tool output through the pipeline's
 * own parsers: `go test -json` and `go tool cover -func` of the small module in
 * fixtures/report/go-module (regenerate with `go test -json -cover ./... > go-test.json` there),
 * and the golangci-lint v2 and trivy reports under fixtures/pipeline.
 *
 * The Go module is taken to live in `services/app` of the repository, so every annotation path
 * must carry that prefix.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PipelineResult } from '../../src/pipeline/dag.js'
import {
  countBySeverity,
  mergeVulnerabilities,
  parseCoverFunc,
  parseGoTestJson,
  parseGolangciLint,
  parseTrivyJson,
  type LintFinding,
  type TestReport
} from '../../src/pipeline/results.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')
export const readFixture = (path: string): string => readFileSync(join(fixtures, path), 'utf8')

export const WORKSPACE = '/home/runner/work/acme/acme'
export const MODULE_DIR = 'services/app'
const paths = { containerRoot: '/src', hostRoot: MODULE_DIR }

export function recordedTestReport(): TestReport {
  const report = parseGoTestJson(readFixture('report/go-test.json'), 'example.com/acme/svc', paths)
  const coverage = parseCoverFunc(readFixture('report/cover-func.txt'))
  return { ...report, ...(coverage === undefined ? {} : { coverage }) }
}

export function recordedLintFindings(): LintFinding[] {
  const findings = parseGolangciLint(readFixture('pipeline/golangci-lint-v2.json'), paths)
  if (!findings) throw new Error('the golangci-lint fixture holds no report')
  return findings
}

/** A failed `all` run: build and image passed; lint, test and scan failed; publish was skipped. */
export function recordedFailedRun(): PipelineResult {
  const test = recordedTestReport()
  const findings = recordedLintFindings()
  const vulnerabilities = mergeVulnerabilities([
    parseTrivyJson(readFixture('pipeline/trivy-image.json'), 'linux/amd64'),
    parseTrivyJson(readFixture('pipeline/trivy-image.json'), 'linux/arm64')
  ])
  const counts = countBySeverity(vulnerabilities)
  const output = `${WORKSPACE}/bin`
  return {
    ok: false,
    order: ['build', 'lint', 'test', 'image', 'scan', 'publish'],
    stages: {
      build: {
        stage: 'build',
        status: 'passed',
        durationMs: 41_250,
        result: {
          binaries: [
            {
              platform: 'linux/amd64',
              path: `${output}/app_linux_amd64`,
              size: 1_572_864,
              sha256: '5f1c9a3bd0e7a6c2f4e8b1d9c3a7e5f2b6d8a0c4e6f8a2b4c6d8e0f2a4b6c8d0'
            },
            {
              platform: 'linux/arm64',
              path: `${output}/app_linux_arm64`,
              size: 1_507_328,
              sha256: '0e2d4c6b8a0f1e3d5c7b9a1f3e5d7c9b0a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d'
            }
          ],
          checksums: `${output}/checksums.txt`
        }
      },
      lint: {
        stage: 'lint',
        status: 'failed',
        durationMs: 18_400,
        result: { findings },
        failure: { message: `golangci-lint found ${findings.length} issues` }
      },
      test: {
        stage: 'test',
        status: 'failed',
        durationMs: 63_900,
        result: test,
        failure: {
          message: `${test.failed} tests failed`,
          command: 'go test -json -coverprofile=/tmp/coverage.out ./...',
          exitCode: 1,
          outputTail: test.failures[0].output.trimEnd()
        }
      },
      image: {
        stage: 'image',
        status: 'passed',
        durationMs: 7_300,
        result: {
          platforms: ['linux/amd64', 'linux/arm64'],
          variants: [
            {
              platform: 'linux/amd64',
              digest: 'sha256:3c6f0a8e2b9d4f1a7c5e3b8d0f2a4c6e8b1d3f5a7c9e2b4d6f8a0c2e4b6d8f1a',
              size: 3_604_522
            },
            {
              platform: 'linux/arm64',
              digest: 'sha256:a1e4c7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4',
              size: 3_371_008
            }
          ],
          tarball: `${output}/app-image.tar`
        }
      },
      scan: {
        stage: 'scan',
        status: 'failed',
        durationMs: 25_100,
        result: {
          scanner: 'trivy',
          counts,
          severities: ['CRITICAL', 'HIGH'],
          failing: counts.CRITICAL + counts.HIGH,
          vulnerabilities,
          sarif: `${output}/app.sarif`
        },
        failure: { message: `trivy found ${counts.CRITICAL + counts.HIGH} vulnerabilities at CRITICAL, HIGH` }
      },
      publish: { stage: 'publish', status: 'skipped', durationMs: 0, blockedBy: ['lint', 'test', 'scan'] }
    }
  }
}

/** A green `build,image,publish` run. */
export function recordedPublishedRun(): PipelineResult {
  const failed = recordedFailedRun()
  return {
    ok: true,
    order: ['build', 'image', 'publish'],
    stages: {
      build: failed.stages.build,
      image: {
        stage: 'image',
        status: 'passed',
        durationMs: 9_800,
        result: { platforms: ['linux/amd64', 'linux/arm64'], variants: [] }
      },
      publish: {
        stage: 'publish',
        status: 'passed',
        durationMs: 12_050,
        result: {
          imageRef: 'ghcr.io/acme/app@sha256:9b2f0c8e7d6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c',
          tags: ['v1.4.0', '1.4', '1', 'sha-0a1b2c3'],
          published: []
        }
      }
    }
  }
}
