// What each stage asks of the engine, checked on the queries the real SDK sends to the loopback
// engine session (which validates every one against the engine's schema).
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
// expect from @jest/globals: its asymmetric matchers are typed, the global ones return any.
import { expect } from '@jest/globals'
import type { ChainStep, ExecFailure } from './support/engine-session.js'
import {
  execArgs,
  fixture,
  fixtureConfig,
  fixtureModule,
  runInSession,
  stepsNamed,
  type ToolAnswers
} from './support/pipeline-session.js'
import { buildOciLayout, digestOf } from './support/oci-layout.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

const argsOf = (steps: ChainStep[]): Record<string, unknown>[] => steps.map(s => s.args)

function refChain(value: unknown): ChainStep[] {
  return (value as { $ref: { chain: ChainStep[] } }).$ref.chain
}

async function cleanAnswers(): Promise<ToolAnswers> {
  return {
    lint: { exitCode: 0, report: await fixture('golangci-lint-v2-clean.json') },
    test: { exitCode: 0, stream: '', coverFunc: 'total:\t(statements)\t100.0%\n' },
    scanReport: '{"SchemaVersion":2,"Results":[]}'
  }
}

describe('build', () => {
  test('downloads modules from go.mod alone, cross-compiles per platform and exports binaries with checksums', async () => {
    const cfg = await fixtureConfig({
      stage: 'build',
      platforms: 'linux/amd64,linux/arm/v7,windows/arm64',
      ldflags: '-s -w -X main.version=1.2.3'
    })
    try {
      const { session, result } = await runInSession(cfg, await cleanAnswers())
      expect(result.ok).toBe(true)
      const [exported] = session.exports
      expect(exported).toMatchObject({ typeName: 'Directory', path: cfg.output })
      const files = stepsNamed(exported.chain, 'withFile')
      expect(files.map(f => f.args.path)).toEqual([
        'failing_linux_amd64',
        'failing_linux_arm_v7',
        'failing_windows_arm64.exe'
      ])

      const armChain = refChain(files[1].args.source)
      expect(stepsNamed(armChain, 'from').map(s => s.args.address)).toEqual(['golang:1.19'])
      expect(
        argsOf(stepsNamed(armChain, 'withMountedCache')).map(a => [a.path, refChain(a.cache).at(-1)?.args.key])
      ).toEqual([
        ['/go/pkg/mod', 'go-mod-1.19'],
        ['/root/.cache/go-build', 'go-build-1.19']
      ])
      const env = Object.fromEntries(
        stepsNamed(armChain, 'withEnvVariable').map(s => [String(s.args.name), s.args.value] as const)
      )
      expect(env).toMatchObject({ CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOOS: 'linux', GOARCH: 'arm', GOARM: '7' })
      expect(execArgs(armChain)).toEqual([
        ['go', 'mod', 'download'],
        ['go', 'build', '-trimpath', '-ldflags', '-s -w -X main.version=1.2.3', '-o', '/out/failing_linux_arm_v7', '.']
      ])
      // go.mod/go.sum alone before `go mod download`, the whole source only after it.
      const fields = armChain.map(s => `${s.field}:${typeof s.args.path === 'string' ? s.args.path : ''}`)
      expect(fields.indexOf('withFile:/src/go.mod')).toBeLessThan(fields.indexOf('withExec:'))
      expect(fields.indexOf('withExec:')).toBeLessThan(fields.indexOf('withDirectory:/src'))
      expect(fields).not.toContain('withFile:/src/go.sum') // the fixture module has no go.sum
      const hostDirs = session.callsTo('directory', 'Host').map(c => c.args)
      expect(hostDirs).toContainEqual({ path: cfg.source, exclude: ['.git'] })

      const report = result.stages.build!
      expect(report.status).toBe('passed')
      const expected = ['failing_linux_amd64', 'failing_linux_arm_v7', 'failing_windows_arm64.exe'].map((name, i) => ({
        platform: cfg.platforms[i].name,
        path: join(cfg.output, name),
        size: Buffer.byteLength(`ELF binary ${name}`),
        sha256: sha256(`ELF binary ${name}`)
      }))
      expect(report.result!.binaries).toEqual(expected)
      expect(await readFile(report.result!.checksums, 'utf8')).toBe(
        report.result!.binaries.map(b => `${b.sha256}  ${b.path.split('/').pop()}\n`).join('')
      )
    } finally {
      await cfg.cleanup()
    }
  })

  test('a compile error fails the stage with the command, exit code and output tail', async () => {
    const cfg = await fixtureConfig({ stage: 'build', platforms: 'linux/amd64' })
    const failure: ExecFailure = {
      cmd: ['go', 'build', '-trimpath', '-ldflags', '-s -w', '-o', '/out/failing_linux_amd64', '.'],
      exitCode: 1,
      stdout: '',
      stderr:
        '# example.com/failing/broken\nbroken/broken.go:3:28: cannot use "not an int" (untyped string constant) as int value in return statement\n'
    }
    try {
      const { result } = await runInSession(cfg, await cleanAnswers(), session =>
        session.onField(call =>
          call.field === 'withExec' && (call.args.args as string[])[1] === 'build' ? { execError: failure } : undefined
        )
      )
      expect(result.ok).toBe(false)
      expect(result.stages.build).toMatchObject({
        status: 'failed',
        failure: {
          command: failure.cmd.join(' '),
          exitCode: 1,
          outputTail: expect.stringContaining('broken/broken.go:3:28: cannot use')
        }
      })
    } finally {
      await cfg.cleanup()
    }
  })

  test('a go.mod with a local replace downloads modules with the source in place', async () => {
    const cfg = await fixtureConfig({ stage: 'build', platforms: 'linux/amd64' })
    try {
      const { session } = await runInSession({ ...cfg, hasLocalReplace: true }, await cleanAnswers())
      const chain = refChain(stepsNamed(session.exports[0].chain, 'withFile')[0].args.source)
      const fields = chain.map(s => s.field)
      expect(fields.indexOf('withDirectory')).toBeLessThan(fields.indexOf('withExec'))
      expect(stepsNamed(chain, 'withFile')).toEqual([])
    } finally {
      await cfg.cleanup()
    }
  })

  test('private modules: GOPRIVATE as env, the token only as a mounted secret netrc', async () => {
    const cfg = await fixtureConfig({
      stage: 'build',
      platforms: 'linux/amd64',
      'go-private': 'github.com/acme/*',
      'go-private-token': 'ghp_t0ken'
    })
    try {
      const { session } = await runInSession(cfg, await cleanAnswers())
      const chain = refChain(stepsNamed(session.exports[0].chain, 'withFile')[0].args.source)
      const env = stepsNamed(chain, 'withEnvVariable').map(s => s.args)
      expect(env).toContainEqual({ name: 'GOPRIVATE', value: 'github.com/acme/*' })
      expect(JSON.stringify(env)).not.toContain('ghp_t0ken')
      const [mounted] = stepsNamed(chain, 'withMountedSecret')
      expect(mounted.args.path).toBe('/root/.netrc')
      const secret = refChain(mounted.args.source).at(-1)!
      expect(secret.field).toBe('setSecret')
      expect(secret.args.plaintext).toBe('machine github.com login x-access-token password ghp_t0ken\n')
      // Nowhere else: not in an exec, not in a file written into a layer.
      const elsewhere = chain.filter(s => s.field !== 'withMountedSecret')
      expect(JSON.stringify(elsewhere)).not.toContain('ghp_t0ken')
    } finally {
      await cfg.cleanup()
    }
  })
})

describe('lint', () => {
  test('runs pinned golangci-lint v2 on the source with the shared module cache; findings fail the stage', async () => {
    const cfg = await fixtureConfig({ stage: 'lint' })
    try {
      const { session, result } = await runInSession(cfg, {
        lint: { exitCode: 1, report: await fixture('golangci-lint-v2.json') }
      })
      const [exitCall] = session.callsTo('exitCode')
      const chain = exitCall.parentChain
      expect(stepsNamed(chain, 'from')[0].args.address).toBe('golangci/golangci-lint:v2.12.2')
      expect(stepsNamed(chain, 'withMountedCache').map(s => s.args.path)).toEqual([
        '/go/pkg/mod',
        '/root/.cache/go-build',
        '/root/.cache/golangci-lint'
      ])
      expect(refChain(stepsNamed(chain, 'withMountedCache')[0].args.cache).at(-1)?.args.key).toBe('go-mod-1.19')
      expect(stepsNamed(chain, 'withExec').map(s => s.args)).toEqual([
        {
          args: [
            'golangci-lint',
            'run',
            '--output.json.path=/tmp/golangci-lint.json',
            '--show-stats=false',
            '--path-mode=abs',
            '--issues-exit-code=1',
            './...'
          ],
          expect: 'ANY'
        }
      ])
      expect(stepsNamed(chain, 'withWorkdir')[0].args.path).toBe('/src')

      const lint = result.stages.lint!
      expect(lint.status).toBe('failed')
      expect(lint.result!.findings).toHaveLength(3)
      expect(lint.result!.findings[0]).toEqual({
        file: `${fixtureModule}/cmd/app/main.go`,
        line: 21,
        column: 11,
        linter: 'errcheck',
        message: 'Error return value of `os.Remove` is not checked',
        severity: 'error'
      })
      expect(lint.failure).toMatchObject({ message: 'golangci-lint found 3 issues', exitCode: 1 })
      expect(lint.failure!.outputTail).toContain(`${fixtureModule}/cmd/app/main.go:21:11: Error return value`)
    } finally {
      await cfg.cleanup()
    }
  })

  test('a linter that cannot run (config error) fails with its own output', async () => {
    const cfg = await fixtureConfig({ stage: 'lint' })
    try {
      const { result } = await runInSession(cfg, { lint: { exitCode: 3, report: '' } }, session =>
        session.onField(call =>
          call.field === 'stderr'
            ? { value: 'Error: can\'t load config: unsupported version of the configuration: ""\n' }
            : undefined
        )
      )
      expect(result.stages.lint).toMatchObject({
        status: 'failed',
        result: { findings: [] },
        failure: { exitCode: 3, outputTail: expect.stringContaining("can't load config") }
      })
    } finally {
      await cfg.cleanup()
    }
  })

  test('a clean report passes', async () => {
    const cfg = await fixtureConfig({ stage: 'lint' })
    try {
      const { result } = await runInSession(cfg, await cleanAnswers())
      expect(result.stages.lint).toMatchObject({ status: 'passed', result: { findings: [] } })
    } finally {
      await cfg.cleanup()
    }
  })
})

describe('test', () => {
  test('go test -json with -race and coverage; failures come back with test, file and line', async () => {
    const cfg = await fixtureConfig({ stage: 'test', race: 'true', 'test-flags': '-count=1' })
    try {
      const { session, result } = await runInSession(cfg, {
        test: {
          exitCode: 1,
          stream: await fixture('go-test-failing.json'),
          coverFunc: await fixture('go-cover-func.txt')
        }
      })
      const [exitCall] = session.callsTo('exitCode')
      const chain = exitCall.parentChain
      expect(stepsNamed(chain, 'from')[0].args.address).toBe('golang:1.19')
      expect(stepsNamed(chain, 'withExec').map(s => s.args)).toEqual([
        { args: ['go', 'mod', 'download'] },
        {
          args: ['go', 'test', '-json', '-race', '-coverprofile=/tmp/coverage.out', '-count=1', './...'],
          expect: 'ANY',
          redirectStdout: '/tmp/go-test.json'
        }
      ])
      const env = stepsNamed(chain, 'withEnvVariable').map(s => `${String(s.args.name)}=${String(s.args.value)}`)
      expect(env.at(-1)).toBe('CGO_ENABLED=1') // the race detector needs cgo
      const cover = session.calls.find(
        c => c.field === 'contents' && c.parentChain.at(-1)?.args.path === '/tmp/coverage.txt'
      )!
      expect(execArgs(cover.parentChain).at(-1)).toEqual(['go', 'tool', 'cover', '-func=/tmp/coverage.out'])

      const test = result.stages.test!
      expect(test.status).toBe('failed')
      expect(test.result).toMatchObject({ passed: 2, failed: 3, skipped: 1, coverage: 75 })
      const failures = test.result!.failures.map(f => [f.test, f.file, f.line])
      expect(failures).toHaveLength(2)
      expect(failures).toEqual(
        expect.arrayContaining([
          ['TestHelloName/dagger', `${fixtureModule}/greet/greet_test.go`, 16],
          ['TestPanics', `${fixtureModule}/main_test.go`, 7]
        ])
      )
      expect(test.failure).toMatchObject({
        message: '3 tests failed',
        exitCode: 1,
        command: expect.stringContaining('go test -json')
      })
      expect(test.failure!.outputTail).toContain('assignment to entry in nil map')
    } finally {
      await cfg.cleanup()
    }
  })

  test('on Go before 1.24 the compiler errors are read from stderr: packages that do not compile fail with file and line', async () => {
    const module = join(fixtureModule, '..', 'go-build-failing')
    const cfg = await fixtureConfig({ stage: 'test', coverage: 'false', source: module })
    const stderr = await fixture('go-test-build-failed-go1.23.4.stderr')
    try {
      const { result } = await runInSession(
        cfg,
        { test: { exitCode: 1, stream: await fixture('go-test-build-failed-go1.23.4.json'), coverFunc: '' } },
        session =>
          session.onField(call =>
            call.field === 'stderr' && call.text.includes('"test"') ? { value: stderr } : undefined
          )
      )
      const test = result.stages.test!
      expect(test.result!.failures.map(f => [f.test, f.package, f.file, f.line]).sort()).toEqual([
        ['', 'example.com/buildfail/broken', `${module}/broken/broken.go`, 4],
        ['', 'example.com/buildfail/exttest', `${module}/exttest/exttest_test.go`, 10],
        ['', 'example.com/buildfail/untested', `${module}/untested/untested.go`, 6],
        ['TestDouble', 'example.com/buildfail/fail', `${module}/fail/fail_test.go`, 7]
      ])
      expect(test.failure).toMatchObject({ message: '1 test failed, 3 packages failed', exitCode: 1 })
      expect(test.failure!.outputTail).toContain('undefined: strings.Shout')
    } finally {
      await cfg.cleanup()
    }
  })

  test('quoted test-flags reach go test as argv words, with no shell in between', async () => {
    const cfg = await fixtureConfig({
      stage: 'test',
      coverage: 'false',
      'test-flags': `-run 'TestHello|TestPanics' -timeout "5m"`
    })
    try {
      const { session } = await runInSession(cfg, await cleanAnswers())
      const [exitCall] = session.callsTo('exitCode')
      expect(execArgs(exitCall.parentChain).at(-1)).toEqual([
        'go',
        'test',
        '-json',
        '-run',
        'TestHello|TestPanics',
        '-timeout',
        '5m',
        './...'
      ])
    } finally {
      await cfg.cleanup()
    }
  })

  test('go mod download failing (ExecError) fails the stage with what failed', async () => {
    const cfg = await fixtureConfig({ stage: 'test' })
    const failure: ExecFailure = {
      cmd: ['go', 'mod', 'download'],
      exitCode: 1,
      stdout: '',
      stderr:
        'go: github.com/acme/private@v1.0.0: reading https://proxy.golang.org/github.com/acme/private/@v/v1.0.0.mod: 404 Not Found\n'
    }
    try {
      // No answer for go test: its exit code is asked of a container whose earlier exec failed.
      const { result } = await runInSession(cfg, {}, session =>
        session.onField(call =>
          call.field === 'withExec' && (call.args.args as string[])[1] === 'mod' ? { execError: failure } : undefined
        )
      )
      expect(result.stages.test).toMatchObject({
        status: 'failed',
        failure: { command: 'go mod download', exitCode: 1, outputTail: expect.stringContaining('404 Not Found') }
      })
    } finally {
      await cfg.cleanup()
    }
  })
})

describe('image, scan and publish', () => {
  test('image: base image per platform, binary, non-root user, entrypoint, OCI labels; tarball when not published', async () => {
    const cfg = await fixtureConfig({ stage: 'image' })
    const layout = await buildOciLayout(['linux/amd64', 'linux/arm64'])
    try {
      const { session, result } = await runInSession(cfg, await cleanAnswers(), session =>
        session.onExport(exported => (exported.typeName === 'Container' ? layout.tarball : undefined))
      )
      const [exported] = session.exports
      expect(exported).toMatchObject({ typeName: 'Container', path: join(cfg.output, 'failing-image.tar') })
      const variants = (exported.args.platformVariants as unknown[]).map(refChain)
      expect(variants.map(v => v[0].args.platform)).toEqual(['linux/amd64', 'linux/arm64'])
      for (const variant of variants) {
        expect(stepsNamed(variant, 'from')[0].args.address).toBe('gcr.io/distroless/static-debian12:nonroot')
        const [binary] = stepsNamed(variant, 'withFile')
        expect(binary.args).toMatchObject({ path: '/usr/local/bin/failing', permissions: 0o755 })
        expect(execArgs(refChain(binary.args.source)).at(-1)).toContain(
          `/out/failing_linux_${variant[0].args.platform === 'linux/amd64' ? 'amd64' : 'arm64'}`
        )
        expect(stepsNamed(variant, 'withUser')[0].args.name).toBe('65532:65532')
        expect(stepsNamed(variant, 'withEntrypoint')[0].args.args).toEqual(['/usr/local/bin/failing'])
        expect(Object.fromEntries(stepsNamed(variant, 'withLabel').map(s => [s.args.name, s.args.value]))).toEqual({
          'org.opencontainers.image.source': 'https://github.com/acme/failing',
          'org.opencontainers.image.revision': '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
          'org.opencontainers.image.created': '2023-11-14T22:13:20.000Z',
          'org.opencontainers.image.version': '1.2.3',
          'org.opencontainers.image.title': 'failing'
        })
      }
      expect(result.stages.image).toMatchObject({
        status: 'passed',
        result: { platforms: ['linux/amd64', 'linux/arm64'], tarball: join(cfg.output, 'failing-image.tar') }
      })
      expect(result.stages.image!.result!.variants.map(v => [v.platform, v.digest])).toEqual(
        layout.variants.map(v => [v.platform, digestOf(v.manifest)])
      )
    } finally {
      await cfg.cleanup()
    }
  })

  test('image from scratch starts from an empty container', async () => {
    const cfg = await fixtureConfig({ stage: 'image', 'base-image': 'scratch', platforms: 'linux/amd64' })
    try {
      const { session } = await runInSession(cfg, await cleanAnswers())
      const [variant] = (session.exports[0].args.platformVariants as unknown[]).map(refChain)
      expect(stepsNamed(variant, 'from')).toEqual([])
      expect(variant[1].field).toBe('withFile')
    } finally {
      await cfg.cleanup()
    }
  })

  test('scan: each platform tarball through the pinned scanner; CVEs at severity fail; SARIF on the host', async () => {
    const cfg = await fixtureConfig({ stage: 'scan' })
    try {
      const { session, result } = await runInSession(cfg, { scanReport: await fixture('trivy-image.json') })
      const reads = session.calls.filter(
        c => c.field === 'contents' && c.parentChain.at(-1)?.args.path === '/scan/report.json'
      )
      expect(reads).toHaveLength(2)
      for (const read of reads) {
        const chain = read.parentChain
        expect(stepsNamed(chain, 'from')[0].args.address).toBe('aquasec/trivy:0.74.0')
        expect(refChain(stepsNamed(chain, 'withMountedCache')[0].args.cache).at(-1)?.args.key).toBe('trivy-db')
        const [tarball] = stepsNamed(chain, 'withMountedFile')
        expect(tarball.args.path).toBe('/scan/image.tar')
        expect(refChain(tarball.args.source).at(-1)?.field).toBe('asTarball')
        // One database update first (refreshed daily), then each platform's scan, which updates nothing.
        expect(stepsNamed(chain, 'withExec').map(step => step.args)).toEqual([
          { args: ['image', '--download-db-only', '--cache-dir', '/cache/db'], useEntrypoint: true },
          {
            args: [
              'image',
              '--input',
              '/scan/image.tar',
              '--scanners',
              'vuln',
              '--skip-db-update',
              '--format',
              'json',
              '--output',
              '/scan/report.json',
              '--cache-dir',
              '/cache/db'
            ],
            useEntrypoint: true
          }
        ])
        const update = chain.findIndex(step => step.field === 'withExec')
        const day = chain.findIndex(
          step => step.field === 'withEnvVariable' && step.args.name === 'GO_DAGGER_ACTION_SCAN_DB_DAY'
        )
        expect(day).toBeGreaterThan(-1)
        expect(day).toBeLessThan(update)
        expect(chain[day].args.value).toBe(new Date().toISOString().slice(0, 10))
      }
      // Both platforms branch from the same update: the session saw it asked for once.
      const updates = new Set(
        reads.map(read =>
          JSON.stringify(read.parentChain.slice(0, read.parentChain.findIndex(step => step.field === 'withExec') + 1))
        )
      )
      expect(updates.size).toBe(1)
      expect(session.callsTo('withRegistryAuth')).toEqual([])
      const scan = result.stages.scan!
      expect(scan.status).toBe('failed')
      expect(scan.result).toMatchObject({
        scanner: 'trivy',
        failing: 2,
        counts: { CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0 }
      })
      expect(scan.result!.vulnerabilities[0]).toMatchObject({
        id: 'CVE-2024-45337',
        platforms: ['linux/amd64', 'linux/arm64']
      })
      expect(scan.failure!.message).toBe('trivy found 2 vulnerabilities at CRITICAL, HIGH')
      const sarif = JSON.parse(await readFile(scan.result!.sarif, 'utf8')) as {
        runs: Array<{ results: Array<{ ruleId: string }> }>
      }
      expect(sarif.runs[0].results.map(r => r.ruleId)).toEqual(['CVE-2024-45337', 'CVE-2025-22869', 'CVE-2025-22866'])
    } finally {
      await cfg.cleanup()
    }
  })

  test('scan with grype and severity CRITICAL only: a LOW finding passes', async () => {
    const cfg = await fixtureConfig({ stage: 'scan', scanner: 'grype', severity: 'CRITICAL', platforms: 'linux/amd64' })
    try {
      const grype = JSON.parse(await fixture('grype-image.json')) as { matches: unknown[] }
      grype.matches = grype.matches.slice(1)
      const { session, result } = await runInSession(cfg, { scanReport: JSON.stringify(grype) })
      const [read] = session.calls.filter(c => c.field === 'contents')
      expect(stepsNamed(read.parentChain, 'from')[0].args.address).toBe('anchore/grype:v0.117.0')
      expect(execArgs(read.parentChain)).toEqual([
        ['db', 'update'],
        ['oci-archive:/scan/image.tar', '--output', 'json=/scan/report.json']
      ])
      const env = stepsNamed(read.parentChain, 'withEnvVariable').map(
        step => `${String(step.args.name)}=${String(step.args.value)}`
      )
      // After the update, a scan that updates nothing itself.
      expect(env).toContain('GRYPE_DB_AUTO_UPDATE=false')
      expect(result.stages.scan).toMatchObject({ status: 'passed', result: { failing: 0, counts: { LOW: 1 } } })
    } finally {
      await cfg.cleanup()
    }
  })

  test('publish: registry auth from a secret, one push of all platform variants per tag, repo@digest', async () => {
    const cfg = await fixtureConfig({
      stage: 'publish',
      image: 'ghcr.io/acme/failing',
      'registry-username': 'octocat',
      'registry-password': 'ghp_s3cr3t'
    })
    try {
      const { session, result } = await runInSession(cfg, await cleanAnswers())
      const pushes = session.callsTo('publish')
      expect(pushes.map(p => p.args.address)).toEqual([
        'ghcr.io/acme/failing:1.2.3',
        'ghcr.io/acme/failing:1.2',
        'ghcr.io/acme/failing:1',
        'ghcr.io/acme/failing:sha-4b825dc'
      ])
      for (const push of pushes) {
        expect((push.args.platformVariants as unknown[]).map(v => refChain(v)[0].args.platform)).toEqual([
          'linux/amd64',
          'linux/arm64'
        ])
        const [auth] = stepsNamed(push.parentChain, 'withRegistryAuth')
        expect(auth.args).toMatchObject({ address: 'ghcr.io', username: 'octocat' })
        expect(refChain(auth.args.secret).at(-1)).toEqual({
          type: 'Query',
          field: 'setSecret',
          args: { name: 'registry-password', plaintext: 'ghp_s3cr3t' }
        })
      }
      // The password travels only inside setSecret, never in an env variable or a command.
      const leaks = session.calls.filter(
        c => c.field !== 'setSecret' && JSON.stringify(c.args).includes('ghp_s3cr3t') && c.field !== 'withRegistryAuth'
      )
      expect(leaks).toEqual([])
      const publish = result.stages.publish!
      expect(publish.status).toBe('passed')
      expect(publish.result!.imageRef).toMatch(/^ghcr\.io\/acme\/failing@sha256:[0-9a-f]{64}$/)
      expect(publish.result!.tags).toEqual(['1.2.3', '1.2', '1', 'sha-4b825dc'])
      expect(session.exports).toEqual([]) // published, so no tarball
    } finally {
      await cfg.cleanup()
    }
  })
})
