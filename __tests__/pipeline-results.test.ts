import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  countBySeverity,
  failureFromError,
  mergeVulnerabilities,
  parseCoverFunc,
  parseGoTestJson,
  parseGolangciLint,
  parseGrypeJson,
  parseTrivyJson,
  toHostPath,
  vulnerabilitiesToSarif,
  type TestFailure
} from '../src/pipeline/results.js'
import { ExecError } from '@dagger.io/dagger'
import { toBeValidSarifLog } from '@microsoft/jest-sarif'

// The SARIF 2.1.0 schema that code scanning reads, as the SARIF project's matcher ships it.
expect.extend({ toBeValidSarifLog })

const fixtures = join(import.meta.dirname, 'fixtures', 'pipeline')
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8')
const inRepo = { containerRoot: '/src', hostRoot: 'services/api' }

describe('toHostPath', () => {
  test.each([
    ['/src/cmd/app/main.go', 'services/api/cmd/app/main.go'],
    ['cmd/app/main.go', 'services/api/cmd/app/main.go'],
    ['/usr/local/go/src/fmt/print.go', '/usr/local/go/src/fmt/print.go']
  ])('%s → %s', (file, expected) => {
    expect(toHostPath(file, inRepo)).toBe(expected)
  })
  test('a module at the repository root keeps paths as they are', () => {
    expect(toHostPath('/src/main.go', { containerRoot: '/src', hostRoot: '' })).toBe('main.go')
  })
})

describe('golangci-lint v2 JSON', () => {
  test('issues become findings with repository paths, linter and severity', () => {
    const findings = parseGolangciLint(fixture('golangci-lint-v2.json'), inRepo)
    expect(findings).toEqual([
      {
        file: 'services/api/cmd/app/main.go',
        line: 21,
        column: 11,
        linter: 'errcheck',
        message: 'Error return value of `os.Remove` is not checked',
        severity: 'error'
      },
      {
        file: 'services/api/internal/config/config.go',
        line: 14,
        column: 7,
        linter: 'staticcheck',
        message: 'SA4006: this value of `err` is never used',
        severity: 'warning'
      },
      {
        file: 'services/api/internal/config/config.go',
        line: 30,
        column: 9,
        linter: 'govet',
        message: 'printf: fmt.Sprintf format %d has arg name of wrong type string',
        severity: 'error'
      }
    ])
  })
  test('a clean report is an empty list; no report at all is undefined', () => {
    expect(parseGolangciLint(fixture('golangci-lint-v2-clean.json'), inRepo)).toEqual([])
    expect(parseGolangciLint('{"Issues":null,"Report":{}}', inRepo)).toEqual([])
    expect(parseGolangciLint('', inRepo)).toBeUndefined()
    expect(parseGolangciLint('level=error msg="can\'t load config"', inRepo)).toBeUndefined()
  })
  test('the report file holds the JSON document alone: text around it makes it no report', () => {
    // --output.json.path writes a file of its own, which nothing else prints into.
    const noisy = `WARN the linter 'x' is deprecated\n${fixture('golangci-lint-v2-clean.json')}\n0 issues.\n`
    expect(parseGolangciLint(noisy, inRepo)).toBeUndefined()
    expect(parseGolangciLint(`${fixture('golangci-lint-v2-clean.json')}\n`, inRepo)).toEqual([])
  })
})

describe('go test -json', () => {
  const report = parseGoTestJson(fixture('go-test-failing.json'), 'example.com/failing', {
    containerRoot: '/src',
    hostRoot: 'svc'
  })

  test('counts every test and subtest outcome from a real stream', () => {
    // TestHelloWorld, TestHelloName/gopher pass; TestHelloName, TestHelloName/dagger, TestPanics fail; TestSlow skips.
    expect({ passed: report.passed, failed: report.failed, skipped: report.skipped }).toEqual({
      passed: 2,
      failed: 3,
      skipped: 1
    })
  })

  test('reports the innermost failing test with its file and line', () => {
    const sub = report.failures.find(f => f.test === 'TestHelloName/dagger')
    expect(sub).toMatchObject({ package: 'example.com/failing/greet', file: 'svc/greet/greet_test.go', line: 16 })
    expect(sub?.output).toContain('Hello("dagger") = "Hello, dagger!", want "Hi, dagger!"')
    expect(report.failures.some(f => f.test === 'TestHelloName')).toBe(false)
  })

  test('a panicking test is located from its stack trace', () => {
    const panicked = report.failures.find(f => f.test === 'TestPanics')
    expect(panicked).toMatchObject({ package: 'example.com/failing', file: 'svc/main_test.go', line: 7 })
    expect(panicked?.output).toContain('assignment to entry in nil map')
  })

  // One module recorded with three toolchains: Go 1.24+ sends build events; 1.22-1.23 a bare
  // package fail event; 1.21 and before a plain FAIL line, or nothing for a package without tests.
  // The compiler's errors are on stderr before 1.24.
  test.each(['go1.26.8', 'go1.23.4', 'go1.21.13'])(
    'packages that do not compile are failures with the compiler error (%s)',
    go => {
      const built = parseGoTestJson(
        fixture(`go-test-build-failed-${go}.json`),
        'example.com/buildfail',
        inRepo,
        fixture(`go-test-build-failed-${go}.stderr`)
      )
      expect({ passed: built.passed, failed: built.failed, skipped: built.skipped }).toEqual({
        passed: 1,
        failed: 1,
        skipped: 0
      })
      const where = (f: TestFailure): unknown[] => [f.test, f.package, f.file, f.line]
      expect(built.failures.map(where).sort()).toEqual([
        ['', 'example.com/buildfail/broken', 'services/api/broken/broken.go', 4],
        ['', 'example.com/buildfail/exttest', 'services/api/exttest/exttest_test.go', 10],
        ['', 'example.com/buildfail/untested', 'services/api/untested/untested.go', 6],
        ['TestDouble', 'example.com/buildfail/fail', 'services/api/fail/fail_test.go', 7]
      ])
      const outputOf = (pkg: string): string =>
        built.failures.find(f => f.package === `example.com/buildfail/${pkg}`)!.output
      expect(outputOf('broken')).toContain('cannot use "forty-two" (untyped string constant) as int value')
      expect(outputOf('exttest')).toContain('cannot use exttest.Count() (value of type int) as string value')
      expect(outputOf('untested')).toContain('undefined: strings.Shout')
    }
  )

  test('a cgo warning on stderr does not fail a package that built', () => {
    const stream = [
      { Action: 'run', Package: 'example.com/vet/w', Test: 'TestF' },
      { Action: 'pass', Package: 'example.com/vet/w', Test: 'TestF' },
      { Action: 'pass', Package: 'example.com/vet/w' }
    ]
      .map(e => JSON.stringify(e))
      .join('\n')
    // What go1.23.4 printed for a cgo package whose C code gcc warned about.
    const stderr = [
      '# example.com/vet/w [example.com/vet/w.test]',
      'w/w.go: In function ‘f’:',
      'w/w.go:5:26: warning: ‘x’ is used uninitialized [-Wuninitialized]',
      'w/w.go:5:23: note: ‘x’ was declared here',
      ''
    ].join('\n')
    expect(parseGoTestJson(stream, 'example.com/vet', inRepo, stderr)).toEqual({
      passed: 1,
      failed: 0,
      skipped: 0,
      failures: []
    })
  })

  test('a test printing 40,000 lines keeps every line in order, parsed in linear time', () => {
    const pkg = 'example.com/chatty'
    const event = (fields: object): string => JSON.stringify({ Package: pkg, ...fields })
    const printed = Array.from({ length: 40_000 }, (_, i) => `    chatty_test.go:9: line ${i + 1} of 40000\n`)
    const stream = [
      event({ Action: 'run', Test: 'TestChatty' }),
      ...printed.map(Output => event({ Action: 'output', Test: 'TestChatty', Output })),
      event({ Action: 'fail', Test: 'TestChatty' }),
      event({ Action: 'fail' })
    ].join('\n')

    const started = performance.now()
    const parsed = parseGoTestJson(stream, pkg, inRepo)
    const elapsed = performance.now() - started

    expect(parsed.failures).toHaveLength(1)
    expect(parsed.failures[0]).toMatchObject({ test: 'TestChatty', file: 'services/api/chatty_test.go', line: 9 })
    expect(parsed.failures[0].output).toBe(printed.join(''))
    // Linear parsing takes well under a second here; copying the output on every line took 19 s.
    expect(elapsed).toBeLessThan(2000)
  })

  test('lines that are not events are ignored', () => {
    expect(parseGoTestJson('# example.com/x\nnot json\n{broken', 'example.com/x', inRepo)).toEqual({
      passed: 0,
      failed: 0,
      skipped: 0,
      failures: []
    })
  })

  test('the coverage total comes from go tool cover -func', () => {
    expect(parseCoverFunc(fixture('go-cover-func.txt'))).toBe(75)
    expect(parseCoverFunc('')).toBeUndefined()
  })
})

describe('scanner reports', () => {
  test('trivy: findings with package, versions and location, worst first after merging', () => {
    const amd64 = parseTrivyJson(fixture('trivy-image.json'), 'linux/amd64')
    const arm64 = parseTrivyJson(fixture('trivy-image.json'), 'linux/arm64')
    const merged = mergeVulnerabilities([amd64, arm64])
    expect(merged.map(v => [v.severity, v.id])).toEqual([
      ['CRITICAL', 'CVE-2024-45337'],
      ['HIGH', 'CVE-2025-22869'],
      ['MEDIUM', 'CVE-2025-22866']
    ])
    expect(merged[0]).toEqual({
      id: 'CVE-2024-45337',
      severity: 'CRITICAL',
      package: 'golang.org/x/crypto',
      installedVersion: 'v0.30.0',
      fixedVersion: '0.31.0',
      title: 'golang.org/x/crypto/ssh: Misuse of ServerConfig.PublicKeyCallback may cause authorization bypass',
      url: 'https://avd.aquasec.com/nvd/cve-2024-45337',
      location: 'usr/local/bin/hello',
      platforms: ['linux/amd64', 'linux/arm64']
    })
    expect(countBySeverity(merged)).toEqual({ CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0 })
  })

  test('grype: severities normalised (Negligible counts as LOW), OS packages located by type', () => {
    const found = parseGrypeJson(fixture('grype-image.json'), 'linux/amd64')
    expect(found.map(v => [v.severity, v.id, v.package, v.location, v.fixedVersion])).toEqual([
      ['CRITICAL', 'GHSA-v778-237x-gjrc', 'golang.org/x/crypto', 'usr/local/bin/hello', '0.31.0'],
      ['LOW', 'CVE-2023-4039', 'libgcc-s1', 'deb package libgcc-s1', undefined]
    ])
  })

  test('SARIF: one run, one rule per vulnerability, levels and security-severity for code scanning', () => {
    const merged = mergeVulnerabilities([parseTrivyJson(fixture('trivy-image.json'), 'linux/amd64')])
    const sarif = vulnerabilitiesToSarif(merged, 'trivy', 'ghcr.io/acme/hello') as {
      version: string
      runs: {
        tool: { driver: { name: string; rules: { id: string; properties: Record<string, unknown> }[] } }
        results: {
          ruleId: string
          level: string
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[]
        }[]
      }[]
    }
    expect(sarif.version).toBe('2.1.0')
    expect(sarif.runs).toHaveLength(1)
    expect(sarif.runs[0].tool.driver.rules.map(r => [r.id, r.properties['security-severity']])).toEqual([
      ['CVE-2024-45337', '9.5'],
      ['CVE-2025-22869', '8.0'],
      ['CVE-2025-22866', '5.5']
    ])
    expect(sarif.runs[0].results.map(r => r.level)).toEqual(['error', 'error', 'warning'])
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('usr/local/bin/hello')
    expect(sarif).toBeValidSarifLog()
  })

  test('SARIF with no findings, and from grype, is valid against the SARIF 2.1.0 schema', () => {
    expect(vulnerabilitiesToSarif([], 'trivy', 'hello')).toBeValidSarifLog()
    const grype = mergeVulnerabilities([parseGrypeJson(fixture('grype-image.json'), 'linux/arm64')])
    expect(vulnerabilitiesToSarif(grype, 'grype', 'ghcr.io/acme/hello')).toBeValidSarifLog()
    // The check is real: a log without its runs is refused.
    expect(() => expect({ version: '2.1.0' }).toBeValidSarifLog()).toThrow()
  })
})

describe('stage failures', () => {
  test('an ExecError keeps the command, the exit code and the tail of the output', () => {
    const stdout = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n')
    const error = new ExecError('process did not complete successfully', {
      cmd: ['go', 'build', './cmd/app'],
      exitCode: 1,
      stdout,
      stderr: 'cmd/app/main.go:3:1: syntax error'
    })
    const failure = failureFromError(error)
    expect(failure).toMatchObject({
      command: 'go build ./cmd/app',
      exitCode: 1,
      message: '`go build ./cmd/app` exited with code 1'
    })
    const tail = failure.outputTail!.split('\n')
    expect(tail).toHaveLength(40)
    expect(tail.at(-1)).toBe('cmd/app/main.go:3:1: syntax error')
    expect(tail[0]).toBe('line 62')
  })
  test('any other error keeps its message', () => {
    expect(failureFromError(new Error('connection refused'))).toEqual({ message: 'connection refused' })
  })
})
