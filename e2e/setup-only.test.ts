// Stage none with the real engine: main installs the CLI and starts the engine on the restored
// state, the job's later steps (a `dagger query`, a Dagger SDK program) run on that engine through
// what main exported, and post stops it cleanly and saves. A second job on a new runner restores
// that state, and the later steps' work comes back cached.
import { expect } from '@jest/globals'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { engineOf } from '../__tests__/support/action-world.js'
import type { StepRun } from '../__tests__/support/runner.js'
import { dockerWrapperEnv } from '../__tests__/support/docker.js'
import { execOutcomes, expectPassed, repoRoot, run, startRealWorld, type RealWorld } from './support/world.js'

const GO_IMAGE = 'golang:1.23.4'
const QUERY = `{ container { from(address: "${GO_IMAGE}") { withExec(args: ["go", "version"]) { stdout } } } }`

interface Ran {
  stdout: string
  stderr: string
}

/** A later step: `command` with the job's environment plus what main exported, as the runner gives it. */
function laterStep(main: StepRun, command: string, args: string[], stdin = ''): Promise<Ran> {
  const env = dockerWrapperEnv({
    ...main.exported,
    DO_NOT_TRACK: '1',
    DAGGER_NO_NAG: '1',
    DAGGER_NO_UPDATE_CHECK: '1',
    // Plain progress without colour, for execOutcomes to read.
    NO_COLOR: '1'
  })
  // What main added to PATH (the CLI it installed) comes first, as the runner puts it.
  env.PATH = `${path.dirname(main.exported._EXPERIMENTAL_DAGGER_CLI_BIN)}${path.delimiter}${env.PATH}`
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-3000)}`))
    )
    child.stdin.end(stdin)
  })
}

/** The later steps of a job: both must reach the action's engine, each running one exec. */
async function laterSteps(main: StepRun): Promise<{ query: Ran; program: Ran }> {
  // `dagger` as the step finds it on PATH: the CLI that main installed.
  const query = await laterStep(main, 'dagger', ['query', '--progress=plain'], QUERY)
  const program = await laterStep(main, process.execPath, [
    path.join(repoRoot, 'e2e', 'fixtures', 'sdk-program.mjs'),
    GO_IMAGE
  ])
  return { query, program }
}

describe('stage none: the cached engine for the job’s own Dagger steps', () => {
  let world: RealWorld
  beforeAll(async () => {
    world = await startRealWorld('setup-only')
  })
  afterAll(async () => {
    await world?.close()
  })

  test('later steps run on the action’s engine; a second job restores their cache', async () => {
    // Any directory will do: this one has no go.mod.
    const inputs = {
      ...world.inputs,
      stage: 'none',
      source: path.join(repoRoot, 'e2e', 'fixtures'),
      'cache-key': `e2e-none-${process.pid}`
    }

    const cold = await world.newJob()
    const coldMain = await cold.runMain(inputs)
    expectPassed(coldMain)
    expect(coldMain.outputs['cache-hit']).toBe('false')
    expect(coldMain.stdout).toContain("The engine is up for the job's later steps")
    const engine = engineOf(coldMain)
    expect(coldMain.exported).toMatchObject({
      _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-container://${engine}`,
      DAGGER_LEAVE_OLD_ENGINE: '1',
      _EXPERIMENTAL_DAGGER_CLI_BIN: expect.stringMatching(/dagger$/)
    })
    // No built-in stage ran: no pipeline group, no stage output.
    expect(coldMain.stdout).not.toContain('Run the pipeline')
    expect(coldMain.outputs['tests-passed']).toBeUndefined()

    const coldSteps = await laterSteps(coldMain)
    expect(JSON.parse(coldSteps.query.stdout.slice(coldSteps.query.stdout.indexOf('{')))).toEqual({
      container: { from: { withExec: { stdout: expect.stringMatching(/^go version go1\.23\.4 linux\//) } } }
    })
    expect(coldSteps.program.stdout).toContain('sdk-program: go1.23.4')
    // The query's exec ran on the action's engine: its progress shows it done, not cached.
    expect(execOutcomes(coldSteps.query.stderr, /go version/)).toEqual(expect.arrayContaining(['DONE']))
    // The action's engine is the only one: no CLI provisioned an engine of its own.
    const { stdout: engines } = await run('docker', ['ps', '-q', '--filter', 'name=^dagger-engine-v'])
    expect(engines.trim()).toBe('')

    const coldPost = await cold.runPost()
    expectPassed(coldPost)
    expect(coldPost.stdout).toContain('The engine stopped cleanly')
    expect(world.cache.entries().length).toBeGreaterThan(0)

    // A new runner: neither the volume nor the container is left.
    await run('docker', ['volume', 'rm', engine])
    const warm = await world.newJob()
    const warmMain = await warm.runMain(inputs)
    expectPassed(warmMain)
    expect(warmMain.outputs['cache-hit']).toBe('true')
    const warmSteps = await laterSteps(warmMain)
    // The exec came back from the restored state: cached, or not printed at all.
    expect(execOutcomes(warmSteps.query.stderr, /go version/).filter(outcome => outcome !== 'CACHED')).toEqual([])
    expect(warmSteps.program.stdout).toContain('sdk-program: go1.23.4')
    expectPassed(await warm.runPost())
    await run('docker', ['volume', 'rm', engineOf(warmMain)]).catch(() => undefined)
  })
})
