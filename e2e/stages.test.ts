// Every stage of the pipeline on the real Dagger engine: the committed bundle, main then post, as the
// runner runs it, on examples/hello and on modules under examples/ made to fail. The jobs share one
// engine scope, so the images the first job pulls stay in the engine's state for the others (as on a
// self-hosted runner); the state cache itself is the subject of cache.test.ts.
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { StepRun } from '../__tests__/support/runner.js'
import { expectPassed, repoRoot, run, startRealWorld, type RealWorld } from './support/world.js'

let world: RealWorld

beforeAll(async () => {
  world = await startRealWorld('stages')
})

afterAll(async () => {
  await world?.close()
})

interface Job {
  main: StepRun
  post: StepRun
  output: string
}

/** One job: main with the stage's inputs, then post (which stops the engine). */
async function runJob(inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}): Promise<Job> {
  const output = await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-'))
  const job = await world.newJob()
  const main = await job.runMain({ ...world.inputs, cache: 'false', 'cache-key': 'e2e-stages', output, ...inputs }, extraEnv)
  const post = await job.runPost(extraEnv)
  expectPassed(post)
  return { main, post, output }
}

const example = (name: string) => path.join(repoRoot, 'examples', name)

/** The annotations the step wrote, as `{ level, file, line, message }`. */
function annotations(step: StepRun): Array<{ level: string; file?: string; line?: number; title?: string; message: string }> {
  return [...step.stdout.matchAll(/^::(error|warning|notice)(?: ([^:]*))?::(.*)$/gm)].map(([, level, props = '', message]) => {
    const fields = Object.fromEntries(props.split(',').filter(Boolean).map(p => p.split('=') as [string, string]))
    return {
      level,
      ...(fields.file ? { file: fields.file } : {}),
      ...(fields.line ? { line: Number(fields.line) } : {}),
      ...(fields.title ? { title: fields.title.replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%') } : {}),
      message
    }
  })
}

describe('build', () => {
  test('cross-compiles real binaries for linux/amd64 and linux/arm64, and checksums.txt verifies', async () => {
    const { main, output } = await runJob({ stage: 'build', source: example('hello'), platforms: 'linux/amd64,linux/arm64' })
    expectPassed(main)
    expect(main.outputs.artifacts).toBe(output)
    expect((await readdir(output)).sort()).toEqual(['checksums.txt', 'hello_linux_amd64', 'hello_linux_arm64'])
    const { stdout: kinds } = await run('file', ['-b', 'hello_linux_amd64', 'hello_linux_arm64'], { cwd: output })
    const [amd64, arm64] = kinds.trim().split('\n')
    expect(amd64).toMatch(/^ELF 64-bit LSB executable, x86-64.*statically linked/)
    expect(arm64).toMatch(/^ELF 64-bit LSB executable, ARM aarch64.*statically linked/)
    const { stdout: verified } = await run('sha256sum', ['-c', 'checksums.txt'], { cwd: output })
    expect(verified.trim().split('\n').sort()).toEqual(['hello_linux_amd64: OK', 'hello_linux_arm64: OK'])
    // The amd64 binary is the program: it runs here.
    const { stdout: greeting } = await run(path.join(output, 'hello_linux_amd64'), ['-name', 'e2e'])
    expect(greeting).toMatch(/e2e/)
  })
})

describe('lint', () => {
  test('a clean module passes, with its own .golangci.yml', async () => {
    const { main } = await runJob({ stage: 'lint', source: example('hello') })
    expectPassed(main)
    expect(main.outputs['lint-findings']).toBe('0')
  })

  test("known findings become annotations at their file and line, from golangci-lint's JSON", async () => {
    const { main } = await runJob({ stage: 'lint', source: example('lint-findings') })
    expect(main.exitCode).not.toBe(0)
    const found = annotations(main).filter(a => a.file?.endsWith('lint-findings/main.go'))
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 11, title: expect.stringContaining('errcheck') }),
        expect.objectContaining({ line: 12, title: expect.stringContaining('ineffassign') })
      ])
    )
    expect(Number(main.outputs['lint-findings'])).toBe(found.length)
  })

  test('a broken .golangci.yml fails with what golangci-lint said about it', async () => {
    const { main } = await runJob({ stage: 'lint', source: example('lint-broken-config') })
    expect(main.exitCode).not.toBe(0)
    expect(main.stdout).toMatch(/golangci-lint could not lint the module/)
    expect(main.stdout).toMatch(/check-type-assertions/)
  })
})

/** What `go test -json` on this host reports for a module: pass/fail/skip counts of tests. */
async function hostTestCounts(dir: string): Promise<{ passed: number; failed: number; skipped: number }> {
  const { stdout } = await run('go', ['test', '-json', './...'], { cwd: dir, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' } }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout })
  )
  const counts = { passed: 0, failed: 0, skipped: 0 }
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const event = JSON.parse(line) as { Action: string; Test?: string }
    if (!event.Test) continue
    if (event.Action === 'pass') counts.passed++
    if (event.Action === 'fail') counts.failed++
    if (event.Action === 'skip') counts.skipped++
  }
  return counts
}

describe('test', () => {
  test('counts and coverage match what go test reports on this host', async () => {
    const { main } = await runJob({ stage: 'test', source: example('hello') })
    expectPassed(main)
    const host = await hostTestCounts(example('hello'))
    expect(host.passed).toBeGreaterThan(0)
    expect(main.outputs).toMatchObject({ 'tests-passed': String(host.passed), 'tests-failed': '0', 'tests-skipped': String(host.skipped) })
    const profile = path.join(await mkdtemp(path.join(tmpdir(), 'gda-cover-')), 'cover.out')
    await run('go', ['test', `-coverprofile=${profile}`, './...'], { cwd: example('hello'), env: { ...process.env, GOTOOLCHAIN: 'local' } })
    const { stdout: func } = await run('go', ['tool', 'cover', `-func=${profile}`], { cwd: example('hello') })
    const total = /^total:\s+\(statements\)\s+([\d.]+)%$/m.exec(func)![1]
    expect(main.outputs.coverage).toBe(Number(total).toFixed(1))
  })

  test('a failing test is annotated at its file and line, and the counts match go test', async () => {
    const { main } = await runJob({ stage: 'test', source: example('test-failing') })
    expect(main.exitCode).not.toBe(0)
    const host = await hostTestCounts(example('test-failing'))
    expect(host.failed).toBe(1)
    expect(main.outputs).toMatchObject({ 'tests-passed': String(host.passed), 'tests-failed': '1' })
    expect(annotations(main)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'error', line: 13, file: expect.stringMatching(/test-failing\/calc\/calc_test\.go$/) })
      ])
    )
  })
})

/** Reads an OCI image tarball's index, and each platform's manifest and config. */
async function readOciTarball(tarball: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-oci-'))
  await run('tar', ['-xf', tarball, '-C', dir])
  const blob = async (digest: string) => readFile(path.join(dir, 'blobs', ...digest.split(':')))
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'))
  // Dagger writes the multi-platform index as the layout's one entry, or the manifests directly.
  let manifests = index.manifests as Array<{ digest: string; mediaType: string; size: number; platform?: { os: string; architecture: string } }>
  if (manifests.length === 1 && manifests[0].mediaType.endsWith('index.v1+json')) {
    manifests = JSON.parse((await blob(manifests[0].digest)).toString()).manifests
  }
  const platforms = await Promise.all(
    manifests.map(async m => {
      const manifest = JSON.parse((await blob(m.digest)).toString())
      const config = JSON.parse((await blob(manifest.config.digest)).toString())
      return { descriptor: m, manifest, config, size: (await blob(m.digest)).length }
    })
  )
  return { dir, index, platforms }
}

describe('image', () => {
  test('a real OCI tarball with both platforms, the OCI labels, the non-root user and the entrypoint', async () => {
    const { main } = await runJob(
      { stage: 'image', source: example('hello'), image: 'registry.example/acme/hello', platforms: 'linux/amd64,linux/arm64' },
      { GITHUB_SHA: 'a'.repeat(40), GITHUB_SERVER_URL: 'https://github.com' }
    )
    expectPassed(main)
    const tarball = main.outputs['image-tarball']
    expect(tarball).toBe(path.join(main.outputs['image-tarball'] && path.dirname(tarball), 'hello-image.tar'))
    const { dir, platforms } = await readOciTarball(tarball)
    expect(platforms.map(p => `${p.config.os}/${p.config.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64'])
    for (const { config, descriptor } of platforms) {
      expect(config.config.User).toBe('65532:65532')
      expect(config.config.Entrypoint).toHaveLength(1)
      expect(config.config.Labels).toMatchObject({ 'org.opencontainers.image.revision': 'a'.repeat(40) })
      // The digests in the summary are the real ones.
      expect(main.summary).toContain(descriptor.digest.slice(0, 19))
    }
    // The registry accepts it: pushed as an OCI layout, it comes back with the same platforms.
    const ref = `${world.description.registry}/e2e/hello:image-test`
    await run(path.join(world.description.world, 'bin', 'crane-v0.21.9'), ['push', dir, ref])
    const { stdout } = await run(path.join(world.description.world, 'bin', 'crane-v0.21.9'), ['manifest', ref])
    const served = JSON.parse(stdout) as { manifests: Array<{ platform: { architecture: string } }> }
    expect(served.manifests.map(m => m.platform.architecture).sort()).toEqual(['amd64', 'arm64'])
  })
})

describe('scan', () => {
  test('trivy finds the planted advisory, writes SARIF, and fails the stage at that severity', async () => {
    const { main } = await runJob({ stage: 'scan', source: example('hello'), severity: 'HIGH,CRITICAL' })
    expect(main.exitCode).not.toBe(0)
    expect(main.stdout).toMatch(/GDA-2026-0001/)
    expect(main.outputs.vulnerabilities).toBe('1')
    const sarif = JSON.parse(await readFile(main.outputs.sarif, 'utf8'))
    expect(sarif.version).toBe('2.1.0')
    expect(sarif.runs[0].results).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'GDA-2026-0001' })]))
  })

  test('without that severity in severity, the same finding does not fail the stage', async () => {
    const { main } = await runJob({ stage: 'scan', source: example('hello'), severity: 'CRITICAL' })
    expectPassed(main)
    expect(main.outputs.vulnerabilities).toBe('0')
  })
})
