// act itself (nektos/act, built from the Go module proxy by e2e/act/build.sh) runs e2e/act/workflow.yml
// on this host (-P ubuntu-24.04=-self-hosted: the steps run here, no job image) against the real
// engine, with act's own cache server, which speaks the v1 protocol. Two runs share that server's
// directory: the first saves the engine state; the second, like a new runner (no state volume, a
// workspace and tool cache of its own), restores it, and the engine starts on it without wiping it.
import { spawn } from 'node:child_process'
// expect from @jest/globals: its asymmetric matchers are typed, the global ones return any.
import { expect } from '@jest/globals'
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { removeTestEngines, removeVolumes, testScope, WRAPPER_BIN_DIR } from '../__tests__/support/docker.js'
import { execOutcomes, repoRoot, run, startRealWorld, type RealWorld } from './support/world.js'

const WORKFLOW = path.join(repoRoot, 'e2e', 'act', 'workflow.yml')
/** act's longest wait for one run; the workflow's own timeout-minutes is longer, so this one ends a hung run. */
const RUN_TIMEOUT_MS = 15 * 60 * 1000

interface ActRun {
  exitCode: number | null
  seconds: number
  logFile: string
  log: string
  /** What the steps printed (act's `| ` lines), without act's prefix. */
  stepOutput: string
  outputs: Record<string, string>
  exported: Record<string, string>
}

let act: string
let actVersion: string
let world: RealWorld
let work: string
let cacheServerDir: string
let emptyFile: string
const scope = testScope('act')
const engines = new Set<string>()
const runs: Record<string, ActRun> = {}

beforeAll(async () => {
  // act runs the action with the `node` it finds on PATH: this process's, which must be Node 24.
  const major = Number(process.versions.node.split('.')[0])
  if (major < 24)
    throw new Error(
      `run this suite under Node 24 (npx -y -p node@24 node …), not ${process.version}: act runs node24 actions with the node on PATH`
    )
  const started = Date.now()
  const { stdout } = await run('bash', [path.join(repoRoot, 'e2e', 'act', 'build.sh')], { maxBuffer: 16 * 1024 * 1024 })
  act = stdout.trim().split('\n').pop()!
  actVersion = (await run(act, ['--version'])).stdout.trim()
  console.log(`${actVersion} at ${act}, built or found in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  world = await startRealWorld('act')
  work = await mkdtemp(path.join(tmpdir(), 'gda-e2e-act-'))
  cacheServerDir = path.join(work, 'act-cache-server')
  emptyFile = path.join(work, 'empty')
  await writeFile(emptyFile, '')
  await mkdir(path.join(work, 'xdg'))
})

afterAll(async () => {
  for (const engine of engines) {
    await run('docker', ['rm', '--force', engine]).catch(() => undefined)
    await removeVolumes([engine]).catch(() => undefined)
  }
  await removeTestEngines(scope).catch(() => undefined)
  await world?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

/** One `act` run of the workflow, as a person would type it, with the world's values as inputs. */
async function runAct(expect: 'cold' | 'warm', runId: number): Promise<ActRun> {
  const actionCache = path.join(work, `action-cache-${expect}`)
  const args = [
    'workflow_dispatch',
    '--directory',
    repoRoot,
    '--workflows',
    WORKFLOW,
    '--platform',
    'ubuntu-24.04=-self-hosted',
    '--log-prefix-job-id',
    '--cache-server-path',
    cacheServerDir,
    '--cache-server-addr',
    '127.0.0.1',
    '--artifact-server-addr',
    '127.0.0.1',
    // Its own workspace copy and tool cache: a new runner, as far as act goes.
    '--action-cache-path',
    actionCache,
    // Only what is given here: no .env, .vars, .secrets or .input of the checkout.
    '--env-file',
    emptyFile,
    '--var-file',
    emptyFile,
    '--secret-file',
    emptyFile,
    '--input-file',
    emptyFile,
    // Each run saves under a key of its own, as runs on GitHub do.
    '--env',
    `GITHUB_RUN_ID=${runId}`,
    '--input',
    `engine-config=${world.inputs['engine-config']}`,
    '--input',
    `dagger-base-url=${world.inputs['dagger-base-url']}`,
    '--input',
    `cache-key=${scope}`,
    '--input',
    `expect=${expect}`
  ]
  // Steps on the host inherit act's environment: the docker wrapper first (this daemon refuses
  // --privileged), then Node 24, and nothing of this process's ACTIONS_* or runner variables.
  const env: NodeJS.ProcessEnv = {
    HOME: process.env.HOME ?? '/root',
    PATH: [
      WRAPPER_BIN_DIR,
      path.dirname(process.execPath),
      '/usr/local/sbin',
      '/usr/local/bin',
      '/usr/sbin',
      '/usr/bin',
      '/sbin',
      '/bin'
    ].join(':'),
    // No actrc of this user's, nor the checkout's (.actrc names a job image): the cwd is a scratch directory.
    XDG_CONFIG_HOME: path.join(work, 'xdg'),
    DO_NOT_TRACK: '1',
    DAGGER_NO_UPDATE_CHECK: '1',
    DAGGER_NO_NAG: '1'
  }
  if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST
  const logFile = path.join(work, `act-${expect}.log`)
  const log = await open(logFile, 'w')
  const started = Date.now()
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(act, args, { cwd: work, env, stdio: ['ignore', log.fd, log.fd] })
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  const seconds = (Date.now() - started) / 1000
  await log.close()
  const text = await readFile(logFile, 'utf8')
  const lines = text.split('\n')
  const matches = (pattern: RegExp) => lines.map(line => pattern.exec(line)).filter(match => match !== null)
  const result: ActRun = {
    exitCode,
    seconds,
    logFile,
    log: text,
    stepOutput: matches(/^\[pipeline\] {3}\| ?(.*)$/)
      .map(([, rest]) => rest)
      .join('\n'),
    outputs: Object.fromEntries(
      matches(/^\[pipeline\]\s+⚙\s+::set-output:: ([\w-]+)=(.*)$/).map(([, name, value]) => [name, value])
    ),
    exported: Object.fromEntries(
      matches(/^\[pipeline\]\s+⚙\s+::set-env:: (\w+)=(.*)$/).map(([, name, value]) => [name, value])
    )
  }
  const host = result.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST ?? ''
  if (host.startsWith('docker-container://')) engines.add(host.slice('docker-container://'.length))
  console.log(`act run ${expect} (GITHUB_RUN_ID=${runId}): exit ${exitCode} in ${seconds.toFixed(1)} s; log ${logFile}`)
  return result
}

/** Fails with the end of act's log, which says which step went wrong. */
function expectJobSucceeded(actRun: ActRun, steps: string[]): void {
  const failed =
    actRun.exitCode !== 0 ||
    !actRun.log.includes('🏁  Job succeeded') ||
    steps.some(step => !actRun.log.includes(`✅  Success - ${step}`))
  if (failed)
    throw new Error(
      `act exited ${actRun.exitCode}; the end of its log:\n${actRun.log.split('\n').slice(-80).join('\n')}`
    )
}

const STEPS = [
  'Main actions/checkout@v5',
  'Main ./',
  'Main Check the outputs',
  'Main The engine started on its state without wiping it',
  'Post ./'
]

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(entry => entry.isFile()).map(entry => path.join(entry.parentPath, entry.name))
}

test('the first run passes and saves the engine state in act’s cache server', async () => {
  const cold = (runs.cold = await runAct('cold', 1))
  expectJobSucceeded(cold, STEPS)
  expect(cold.outputs['cache-hit']).toBe('false')
  expect(cold.outputs['cache-size']).toBe('0')
  expect(Number(cold.outputs['tests-passed'])).toBeGreaterThan(0)
  // The work ran in the engine.
  for (const command of [/go build .*hello_linux_amd64/, /go test/]) {
    expect({ command: String(command), outcomes: execOutcomes(cold.stepOutput, command) }).toEqual({
      command: String(command),
      outcomes: expect.arrayContaining(['DONE'])
    })
  }
  expect(cold.stepOutput).toMatch(/The engine stopped cleanly/)
  expect(cold.stepOutput).toMatch(/Saved the engine state as \S+: [1-9]\d* bytes in [1-9]\d* parts uploaded/)
  // The parts are in act's own server, not anywhere else.
  expect(
    (await filesUnder(path.join(cacheServerDir, 'cache'))).filter(file => !file.endsWith('bolt.db')).length
  ).toBeGreaterThan(0)
})

test('the second run, on a daemon without the state volume, restores it and the engine keeps it', async () => {
  const cold = runs.cold
  expect(cold).toBeDefined()
  const saved = /Saved the engine state as (\S+):/.exec(cold.stepOutput)![1]
  const engine = cold.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST.slice('docker-container://'.length)
  // The post step removed the container; a new runner has no volume either.
  expect((await run('docker', ['ps', '--all', '--format', '{{.Names}}'])).stdout.split('\n')).not.toContain(engine)
  await removeVolumes([engine])

  const warm = (runs.warm = await runAct('warm', 2))
  expectJobSucceeded(warm, STEPS)
  expect(warm.outputs['cache-hit']).toBe('true')
  expect(Number(warm.outputs['cache-size'])).toBeGreaterThan(0)
  expect(warm.stepOutput).toContain(`Restoring engine state ${saved} `)
  expect(warm.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST).toBe(`docker-container://${engine}`)
  // The workflow's own check read the engine's log before the post step removed the container.
  expect(warm.stepOutput).toContain(`the engine ${engine} kept its state`)
  // Nothing ran again: every exec came back from the restored state.
  expect(execOutcomes(warm.stepOutput, /./).filter(outcome => outcome !== 'CACHED')).toEqual([])
  expect(warm.outputs['tests-passed']).toBe(cold.outputs['tests-passed'])
  expect(warm.stepOutput).toMatch(/The engine stopped cleanly/)
  console.log(`${actVersion}: cold ${cold.seconds.toFixed(1)} s, warm ${warm.seconds.toFixed(1)} s`)
})
