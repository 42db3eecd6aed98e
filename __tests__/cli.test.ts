import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { main, PIPELINE_FLAGS } from '../src/local/command.js'
import { parsePipelineInputs } from '../src/inputs/pipeline-config.js'
import { startEngineSession } from './support/engine-session.js'
import { answerTools } from './support/pipeline-session.js'

const repoRoot = join(import.meta.dirname, '..')
const tsxCli = join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs')
const bundle = join(repoRoot, 'dist', 'cli', 'index.js')
const goModule = join(repoRoot, '__tests__', 'fixtures', 'report', 'go-module')

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/** The environment of a laptop without an engine session or runner host configured. */
function laptopEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra }
  for (const name of [
    'DAGGER_SESSION_PORT',
    'DAGGER_SESSION_TOKEN',
    '_EXPERIMENTAL_DAGGER_RUNNER_HOST',
    'GITHUB_REF',
    'GITHUB_SHA'
  ]) {
    delete env[name]
  }
  return env
}

function run(command: string[], env: NodeJS.ProcessEnv, cwd = repoRoot): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

// The TypeScript entry through tsx, and the committed bundle when it has been built.
const entries: [string, string[]][] = [['src/local/command.ts', [tsxCli, join(repoRoot, 'src', 'local', 'command.ts')]]]
if (existsSync(bundle)) entries.push(['dist/cli/index.js', [bundle]])

describe.each(entries)('%s', (_name, command) => {
  test('--dry-run prints the plan for examples/hello without touching Docker', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cli-cwd-'))
    try {
      const ran = await run(
        [...command, '--dry-run', '--stage', 'build,test', '--platforms', 'linux/amd64,linux/arm64'],
        laptopEnv({ DOCKER_HOST: 'unix:///nonexistent.sock' }),
        cwd
      )
      expect(ran.stderr).toBe('')
      expect(ran.code).toBe(0)
      const examples = relative(cwd, join(repoRoot, 'examples', 'hello'))
      const lines = ran.stdout.split('\n')
      expect(lines[0]).toBe('Plan (dry run: no engine is started and nothing is pulled, built or pushed)')
      expect(lines).toContain(`module    github.com/go-dagger-action/hello in ${examples} (Go 1.23.4 from go.mod)`)
      expect(lines).toContain('stages    build, test')
      expect(ran.stdout).toContain('-o /out/hello_linux_arm64 .')
      expect(ran.stdout).toContain(`export → ${join(cwd, 'bin')}/{hello_linux_amd64,hello_linux_arm64,checksums.txt}`)
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  test('without a reachable Docker daemon: one clear line on stderr and a non-zero exit', async () => {
    const ran = await run([...command, '--stage', 'build'], laptopEnv({ DOCKER_HOST: 'unix:///nonexistent.sock' }))
    expect(ran.code).toBe(1)
    expect(ran.stdout).toBe('')
    expect(ran.stderr).toMatch(
      /^go-dagger-pipeline: cannot reach a Docker daemon \([^\n]*unix:\/\/\/nonexistent\.sock[^\n]*\): start Docker or pass --dry-run\n$/
    )
  })

  test('a bad flag value fails before anything runs, naming the flag and what is allowed', async () => {
    const ran = await run([...command, '--stage', 'deploy'], laptopEnv({ DOCKER_HOST: 'unix:///nonexistent.sock' }))
    expect(ran.code).toBe(2)
    expect(ran.stderr).toBe(
      "go-dagger-pipeline: --stage has an invalid value 'deploy': expected one or more of build, lint, test, image, scan, publish, all, or none alone\n"
    )
  })
})

describe('flags', () => {
  test('every input the pipeline reads is a flag, and --help lists them all', async () => {
    const read: string[] = []
    await parsePipelineInputs(name => (read.push(name), ''), {}, join(repoRoot, 'examples', 'hello'))
    expect(Object.keys(PIPELINE_FLAGS).sort()).toEqual([...new Set(read)].sort())

    let help = ''
    const code = await main(['--help'], {}, { out: t => (help += t), err: t => (help += t), cwd: repoRoot })
    expect(code).toBe(0)
    for (const name of read) expect(help).toMatch(new RegExp(`^  --${name} `, 'm'))
  })

  test('--engine-config is checked against the engine schema before anything runs, and --help lists it', async () => {
    let err = ''
    const io = { out: (t: string) => (err += t), err: (t: string) => (err += t), cwd: repoRoot }
    const code = await main(
      ['--stage', 'build', '--engine-config', '{"gc":{"maxUsedSpace":"1GB"}}'],
      { DOCKER_HOST: 'unix:///nonexistent.sock' },
      io
    )
    expect(code).toBe(2)
    expect(err).toMatch(
      /^go-dagger-pipeline: --engine-config has an invalid value '\{"gc":\{"maxUsedSpace":"1GB"\}\}': /
    )
    let help = ''
    await main(['--help'], {}, { out: t => (help += t), err: t => (help += t), cwd: repoRoot })
    expect(help).toMatch(/^ {2}--engine-config .*\[env GO_DAGGER_ENGINE_CONFIG\]$/m)
  })

  test('secrets may come from the environment instead of the command line', async () => {
    let out = ''
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t), cwd: repoRoot }
    const code = await main(
      ['--dry-run', '--stage', 'publish', '--image', 'ghcr.io/acme/hello', '--tags', 'v1'],
      { REGISTRY_USERNAME: 'acme-bot', REGISTRY_PASSWORD: 's3cret-from-env' },
      io
    )
    expect(code).toBe(0)
    expect(out).toContain('auth ghcr.io as acme-bot, password from registry-password (secret)')
    expect(out).not.toContain('s3cret-from-env')
  })
})

describe('a run through the real SDK against a loopback engine session', () => {
  test('runs the chosen stages and prints what each produced and why it failed', async () => {
    const session = await startEngineSession()
    const restoreEnv = session.applyEnv()
    const output = await mkdtemp(join(tmpdir(), 'cli-out-'))
    try {
      answerTools(session, {
        test: {
          exitCode: 1,
          stream: await readFile(join(goModule, '..', 'go-test.json'), 'utf8'),
          coverFunc: await readFile(join(goModule, '..', 'cover-func.txt'), 'utf8')
        }
      })
      let stdout = ''
      let stderr = ''
      const code = await main(
        [
          '--stage',
          'build,test',
          '--source',
          relative(repoRoot, goModule),
          '--platforms',
          'linux/amd64',
          '--output',
          output
        ],
        laptopEnv(session.env),
        { out: t => (stdout += t), err: t => (stderr += t), cwd: repoRoot }
      )
      session.assertAllValid()

      expect(code).toBe(1)
      expect(stderr).toContain('▶ build started')
      expect(stderr).toContain('▶ test started')
      expect(stderr).toMatch(/^✖ test failed in [\d.]+ (ms|s)$/m)
      const lines = stdout.split('\n')
      expect(lines[0]).toMatch(/^✔ build passed in [\d.]+ (ms|s)$/)
      // Outside the working directory, paths stay absolute.
      expect(lines[1]).toMatch(
        new RegExp(`^    linux/amd64      ${output}/svc_linux_amd64  \\d+ B  sha256:[0-9a-f]{64}$`)
      )
      expect(lines).toContain('    13 passed, 17 failed, 1 skipped, coverage 85.7%')
      expect(lines).toContain(
        '    FAIL TestShout (example.com/acme/svc/internal/greet) __tests__/fixtures/report/go-module/internal/greet/greet_test.go:16: ' +
          'Shout(gopher) = "HELLO, GOPHER!", want "HELLO, GOPHER"'
      )
      expect(lines).toContain('    command: go test -json -coverprofile=/tmp/coverage.out ./... (exit code 1)')
      expect(lines.at(-2)).toBe('pipeline failed')
      expect(await readFile(join(output, 'checksums.txt'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}svc_linux_amd64\n$/)
    } finally {
      restoreEnv()
      await session.close()
      await rm(output, { recursive: true, force: true })
    }
  })
})
