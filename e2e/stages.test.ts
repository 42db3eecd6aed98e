// Every stage of the pipeline on the real Dagger engine: the committed bundle, main then post, as the
// runner runs it, on examples/hello and on modules under examples/ made to fail. The jobs share one
// engine scope, so the images the first job pulls stay in the engine's state for the others (as on a
// self-hosted runner); the state cache itself is the subject of cache.test.ts.
import { spawn } from 'node:child_process'
// expect from @jest/globals: its asymmetric matchers are typed, the global ones return any.
import { expect } from '@jest/globals'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { StepRun } from '../__tests__/support/runner.js'
import { dockerWrapperEnv } from '../__tests__/support/docker.js'
import { engineOf } from '../__tests__/support/action-world.js'
import { expectPassed, repoRoot, run, startRealWorld, type RealWorld } from './support/world.js'
import { toBeValidSarifLog } from '@microsoft/jest-sarif'

expect.extend({ toBeValidSarifLog })
// The matcher's own typings extend the global jest namespace, not the expect imported above.
declare module 'expect' {
  interface Matchers<R extends void | Promise<void>> {
    toBeValidSarifLog(): R
  }
}

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
  const main = await job.runMain(
    { ...world.inputs, cache: 'false', 'cache-key': 'e2e-stages', output, ...inputs },
    extraEnv
  )
  const post = await job.runPost(extraEnv)
  expectPassed(post)
  return { main, post, output }
}

const example = (name: string) => path.join(repoRoot, 'examples', name)

/** The annotations the step wrote, as `{ level, file, line, message }`. */
function annotations(
  step: StepRun
): Array<{ level: string; file?: string; line?: number; title?: string; message: string }> {
  return [...step.stdout.matchAll(/^::(error|warning|notice)(?: ([^:]*))?::(.*)$/gm)].map(
    ([, level, props = '', message]) => {
      const fields = Object.fromEntries(
        props
          .split(',')
          .filter(Boolean)
          .map(p => p.split('=') as [string, string])
      )
      return {
        level,
        ...(fields.file ? { file: fields.file } : {}),
        ...(fields.line ? { line: Number(fields.line) } : {}),
        ...(fields.title ? { title: fields.title.replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%') } : {}),
        message
      }
    }
  )
}

describe('build', () => {
  test('cross-compiles real binaries for linux/amd64 and linux/arm64, and checksums.txt verifies', async () => {
    const { main, output } = await runJob({
      stage: 'build',
      source: example('hello'),
      platforms: 'linux/amd64,linux/arm64'
    })
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
  const { stdout } = await run('go', ['test', '-json', './...'], {
    cwd: dir,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' }
  }).catch((error: { stdout: string }) => ({ stdout: error.stdout }))
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
    expect(main.outputs).toMatchObject({
      'tests-passed': String(host.passed),
      'tests-failed': '0',
      'tests-skipped': String(host.skipped)
    })
    const profile = path.join(await mkdtemp(path.join(tmpdir(), 'gda-cover-')), 'cover.out')
    await run('go', ['test', `-coverprofile=${profile}`, './...'], {
      cwd: example('hello'),
      env: { ...process.env, GOTOOLCHAIN: 'local' }
    })
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
        expect.objectContaining({
          level: 'error',
          line: 13,
          file: expect.stringMatching(/test-failing\/calc\/calc_test\.go$/)
        })
      ])
    )
  })
})

/** The parts of the OCI image documents that the tests read. */
interface OciDescriptor {
  digest: string
  mediaType: string
  size: number
  platform?: { os: string; architecture: string }
}
interface OciIndex {
  manifests: OciDescriptor[]
}
interface OciManifest {
  config: OciDescriptor
}
interface OciConfig {
  os: string
  architecture: string
  config: { User?: string; Entrypoint?: string[]; Labels?: Record<string, string> }
}

/** Reads an OCI image tarball's index, and each platform's manifest and config. */
async function readOciTarball(tarball: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-oci-'))
  await run('tar', ['-xf', tarball, '-C', dir])
  const blob = async (digest: string) => readFile(path.join(dir, 'blobs', ...digest.split(':')))
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as OciIndex
  // Dagger writes the multi-platform index as the layout's one entry, or the manifests directly.
  let manifests = index.manifests
  if (manifests.length === 1 && manifests[0].mediaType.endsWith('index.v1+json')) {
    manifests = (JSON.parse((await blob(manifests[0].digest)).toString()) as OciIndex).manifests
  }
  const platforms = await Promise.all(
    manifests.map(async m => {
      const manifest = JSON.parse((await blob(m.digest)).toString()) as OciManifest
      const config = JSON.parse((await blob(manifest.config.digest)).toString()) as OciConfig
      return { descriptor: m, manifest, config, size: (await blob(m.digest)).length }
    })
  )
  return { dir, index, platforms }
}

describe('image', () => {
  test('a real OCI tarball with both platforms, the OCI labels, the non-root user and the entrypoint', async () => {
    const { main } = await runJob(
      {
        stage: 'image',
        source: example('hello'),
        image: 'registry.example/acme/hello',
        platforms: 'linux/amd64,linux/arm64'
      },
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
    const sarif = JSON.parse(await readFile(main.outputs.sarif, 'utf8')) as {
      version: string
      runs: Array<{ results: unknown[] }>
    }
    expect(sarif.version).toBe('2.1.0')
    // Against the SARIF 2.1.0 schema, as code scanning will read it.
    expect(sarif).toBeValidSarifLog()
    expect(sarif.runs[0].results).toEqual(
      expect.arrayContaining([expect.objectContaining({ ruleId: 'GDA-2026-0001' })])
    )
  })

  test('without that severity in severity, the same finding does not fail the stage', async () => {
    const { main } = await runJob({ stage: 'scan', source: example('hello'), severity: 'CRITICAL' })
    expectPassed(main)
    expect(main.outputs.vulnerabilities).toBe('0')
  })
})

/** A registry of Debian's docker-registry with htpasswd auth, on this host; engines reach it through the bridge. */
async function startAuthRegistry(port: number, user: string, password: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-auth-registry-'))
  const { stdout: htpasswd } = await run('htpasswd', ['-Bbn', user, password])
  await writeFile(path.join(dir, 'htpasswd'), htpasswd)
  await writeFile(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${dir}/data } }`,
      `http: { addr: "0.0.0.0:${port}" }`,
      `auth: { htpasswd: { realm: e2e, path: ${dir}/htpasswd } }`
    ].join('\n')
  )
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' })
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      r => r.status === 401,
      () => false
    )
    if (up) break
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return { dir, stop: () => child.kill() }
}

const crane = (...args: string[]) => run(path.join(world.description.world, 'bin', 'crane-v0.21.9'), args)

describe('publish', () => {
  test('pushes with credentials: image-ref is what the registry serves, and the password is nowhere', async () => {
    const password = `e2e-pw-${process.pid}-${Date.now()}`
    const port = 5101
    const registry = await startAuthRegistry(port, 'pusher', password)
    try {
      const gateway = Object.keys(world.description.engineConfig.registries as object)
        .find(h => h.endsWith(':5000'))!
        .split(':')[0]
      const host = `${gateway}:${port}`
      const engineConfig = {
        ...world.description.engineConfig,
        registries: { ...(world.description.engineConfig.registries as object), [host]: { http: true } }
      }
      const { main, post } = await runJob({
        stage: 'publish',
        source: example('hello'),
        image: `${host}/e2e/hello`,
        tags: 'e2e',
        'registry-username': 'pusher',
        'registry-password': password,
        'engine-config': JSON.stringify(engineConfig)
      })
      expectPassed(main)
      await crane('auth', 'login', `127.0.0.1:${port}`, '-u', 'pusher', '-p', password)
      const { stdout: digest } = await crane('digest', `127.0.0.1:${port}/e2e/hello:e2e`)
      expect(main.outputs['image-ref']).toBe(`${host}/e2e/hello@${digest.trim()}`)
      // The add-mask command is how the runner learns to hide it; the runner never prints that line.
      expect(main.stdout).toContain(`::add-mask::${password}\n`)
      const shown = (text: string) => text.replace(/^::add-mask::.*$/gm, '')
      for (const text of [
        main.stdout,
        main.stderr,
        post.stdout,
        post.stderr,
        main.summary,
        JSON.stringify(main.outputs)
      ]) {
        expect(shown(text)).not.toContain(password)
      }
      // Nor in any layer or config the registry holds.
      const { stdout: hits } = await run('grep', ['-rlF', password, path.join(registry.dir, 'data')]).catch(
        (e: { code: number; stdout: string }) => {
          if (e.code === 1) return { stdout: '' }
          throw e
        }
      )
      expect(hits).toBe('')
    } finally {
      registry.stop()
      await crane('auth', 'logout', `127.0.0.1:${port}`).catch(() => undefined)
    }
  })
})

describe('all', () => {
  test("every stage in one session, in the order of the DAG in the engine's own progress", async () => {
    const { main } = await runJob({ stage: 'all', source: example('hello'), severity: 'CRITICAL' })
    expectPassed(main)
    expect(main.outputs).toMatchObject({ 'lint-findings': '0', 'tests-failed': '0', vulnerabilities: '0' })
    expect(main.outputs.artifacts).toBeTruthy()
    expect(main.outputs['image-tarball']).toBeTruthy()
    // The engine reports each exec as it runs: the scan (trivy's entrypoint, `image --input`) runs on
    // the image, which holds the build's binary, so it comes after the build in the progress.
    const progress = main.stdout
    const firstBuild = progress.search(/withExec go build /)
    const firstScan = progress.search(/withExec image --input \/scan\/image\.tar/)
    expect(firstBuild).toBeGreaterThan(-1)
    expect(firstScan).toBeGreaterThan(firstBuild)
  })
})

describe('runner-host', () => {
  const name = `gdatest-shared-engine-${process.pid}`
  let port = 0

  beforeAll(async () => {
    // An engine the team runs itself: started here, with its own engine.json, listening on TCP too.
    const env = dockerWrapperEnv()
    await run('docker', ['volume', 'create', name], { env })
    await run(
      'docker',
      [
        'create',
        '--name',
        name,
        '--privileged',
        '-p',
        '127.0.0.1::1234',
        '-v',
        `${name}:/var/lib/dagger`,
        world.description.engineImage,
        '--addr',
        'tcp://0.0.0.0:1234'
      ],
      { env }
    )
    const config = path.join(await mkdtemp(path.join(tmpdir(), 'gda-shared-')), 'engine.json')
    await writeFile(config, JSON.stringify(world.description.engineConfig))
    await run('docker', ['cp', config, `${name}:/etc/dagger/engine.json`], { env })
    await run('docker', ['start', name], { env })
    const { stdout } = await run('docker', ['port', name, '1234/tcp'])
    port = Number(stdout.trim().split('\n')[0].split(':').pop())
  })

  afterAll(async () => {
    await run('docker', ['rm', '-f', name]).catch(() => undefined)
    await run('docker', ['volume', 'rm', name]).catch(() => undefined)
  })

  test.each([['tcp'], ['docker-container']])(
    'builds on the shared engine through %s://, starting no engine and caching nothing',
    async scheme => {
      const before = await run('docker', ['ps', '-a', '--format', '{{.Names}}'])
      const host = scheme === 'tcp' ? `tcp://127.0.0.1:${port}` : `docker-container://${name}`
      world.cache.resetStats()
      const output = await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-'))
      const job = await world.newJob()
      const main = await job.runMain({
        'dagger-base-url': world.inputs['dagger-base-url'],
        'runner-host': host,
        stage: 'build',
        source: example('hello'),
        output
      })
      expectPassed(main)
      expect(main.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST).toBe(host)
      const during = await run('docker', ['ps', '-a', '--format', '{{.Names}}'])
      expect(during.stdout.split('\n').filter(n => n.startsWith('dagger-engine-'))).toEqual(
        before.stdout.split('\n').filter(n => n.startsWith('dagger-engine-'))
      )
      expectPassed(await job.runPost())
      expect(Object.values(world.cache.stats.requests).reduce((a, b) => a + b, 0)).toBe(0)
      expect((await readdir(output)).sort()).toEqual(['checksums.txt', 'hello_linux_amd64', 'hello_linux_arm64'])
      // The shared engine is still up for the next job.
      const { stdout: state } = await run('docker', ['inspect', '-f', '{{.State.Running}}', name])
      expect(state.trim()).toBe('true')
    }
  )
})

describe('a later step with a Dagger CLI of its own', () => {
  // The CLI's own engine, which a CLI without the runner-host variable provisions.
  const cliEngine = 'dagger-engine-v0.21.8'

  afterAll(async () => {
    await run('docker', ['rm', '-f', cliEngine]).catch(() => undefined)
    const { stdout } = await run('docker', ['volume', 'ls', '-q', '--filter', `name=${cliEngine}`])
    for (const volume of stdout.split('\n').filter(v => v === cliEngine))
      await run('docker', ['volume', 'rm', volume]).catch(() => undefined)
  })

  /** `dagger query` as a later step runs it, without the runner-host variable, with what main exported otherwise. */
  async function laterStepQuery(exported: Record<string, string>): Promise<string> {
    const env = dockerWrapperEnv({ ...exported, DO_NOT_TRACK: '1', DAGGER_NO_NAG: '1', DAGGER_NO_UPDATE_CHECK: '1' })
    delete env._EXPERIMENTAL_DAGGER_RUNNER_HOST
    return new Promise((resolve, reject) => {
      const child = spawn(world.description.daggerCli, ['query'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', chunk => (stdout += chunk))
      child.stderr.on('data', chunk => (stderr += chunk))
      child.on('close', code =>
        code === 0 ? resolve(stdout) : reject(new Error(`dagger query exited ${code}: ${stderr.slice(-2000)}`))
      )
      child.stdin.end('{ version }')
    })
  }

  const running = async (container: string) =>
    await run('docker', ['inspect', '-f', '{{.State.Running}}', container]).then(
      r => r.stdout.trim(),
      () => 'gone'
    )

  test("cannot remove the action's engine: DAGGER_LEAVE_OLD_ENGINE is exported (without it, it would)", async () => {
    const inputs = {
      ...world.inputs,
      cache: 'false',
      stage: 'build',
      source: example('hello'),
      platforms: 'linux/amd64'
    }
    // The control: the same CLI, told nothing, removes every other dagger-engine-* container.
    const unprotected = await world.newJob()
    const first = await unprotected.runMain({
      ...inputs,
      'cache-key': 'e2e-later-unprotected',
      output: await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-'))
    })
    expectPassed(first)
    const firstEngine = engineOf(first)
    const { DAGGER_LEAVE_OLD_ENGINE: _left, ...withoutIt } = first.exported
    expect(JSON.parse(await laterStepQuery(withoutIt))).toEqual({ version: expect.stringMatching(/^v0\.21\.8/) })
    expect(await running(firstEngine)).toBe('gone')
    await unprotected.runPost()

    const job = await world.newJob()
    const main = await job.runMain({
      ...inputs,
      'cache-key': 'e2e-later-protected',
      output: await mkdtemp(path.join(tmpdir(), 'gda-e2e-out-'))
    })
    expectPassed(main)
    expect(main.exported.DAGGER_LEAVE_OLD_ENGINE).toBe('1')
    expect(JSON.parse(await laterStepQuery(main.exported))).toEqual({ version: expect.stringMatching(/^v0\.21\.8/) })
    expect(await running(engineOf(main))).toBe('true')
    const post = await job.runPost()
    expectPassed(post)
    expect(post.stdout).toContain('The engine stopped cleanly')
  })
})
