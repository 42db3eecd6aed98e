// Runs a committed bundle the way the GitHub runner does: `node dist/<step>/index.js` with INPUT_*
// variables and the runner's file commands (GITHUB_STATE, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
// GITHUB_STEP_SUMMARY), and reads those files back. One RunnerJob is one job: state written by
// main is handed to post, as the runner does.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface StepRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  /** Variables exported with core.exportVariable. */
  exported: Record<string, string>
  summary: string
  /** When each piece of stdout arrived, in ms after the step started (for the bench's timings). */
  stdoutTimeline: Array<{ atMs: number; text: string }>
}

/** Parses the runner's file-command format: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i])
      values[heredoc[1]] = body.join('\n')
    } else {
      const eq = line.indexOf('=')
      values[line.slice(0, eq)] = line.slice(eq + 1)
    }
  }
  return values
}

/** The variable name the runner gives an input. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/**
 * A job container, as `act` runs one: the step runs inside it with the host's Docker socket, and
 * the listed host directories (the workspace, the job's file commands) are mounted at the same
 * paths, as act mounts the workspace. RUNNER_TEMP and the tool cache stay inside the container.
 */
export interface JobContainer {
  image: string
  mounts: string[]
}

export class RunnerJob {
  private constructor(
    readonly dir: string,
    private readonly container?: JobContainer,
    private state: Record<string, string> = {}
  ) {}

  static async create(container?: JobContainer): Promise<RunnerJob> {
    const dir = await mkdtemp(path.join(tmpdir(), 'gda-job-'))
    await mkdir(path.join(dir, 'temp'))
    await mkdir(path.join(dir, 'tool-cache'), { recursive: true })
    return new RunnerJob(dir, container && { ...container, mounts: [...container.mounts, dir] })
  }

  get runnerTemp(): string {
    return path.join(this.dir, 'temp')
  }

  get toolCache(): string {
    return path.join(this.dir, 'tool-cache')
  }

  /** Runs dist/<step>/index.js with these inputs and extra environment. */
  async run(step: 'main' | 'post', inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<StepRun> {
    const files = Object.fromEntries(
      ['STATE', 'OUTPUT', 'ENV', 'PATH', 'STEP_SUMMARY'].map(kind => [
        kind,
        path.join(this.dir, `${step}-${kind.toLowerCase()}`)
      ])
    )
    for (const file of Object.values(files)) await writeFile(file, '')
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      // In a job container, as under act, the runner's directories live inside the container,
      // where the Docker daemon cannot see them.
      RUNNER_TEMP: this.container ? '/home/runner/_temp' : this.runnerTemp,
      RUNNER_TOOL_CACHE: this.container ? '/opt/hostedtoolcache' : this.toolCache,
      GITHUB_STATE: files.STATE,
      GITHUB_OUTPUT: files.OUTPUT,
      GITHUB_ENV: files.ENV,
      GITHUB_PATH: files.PATH,
      GITHUB_STEP_SUMMARY: files.STEP_SUMMARY,
      GITHUB_ACTIONS: 'true'
    }
    for (const [name, value] of Object.entries(this.state)) childEnv[`STATE_${name}`] = value
    for (const [name, value] of Object.entries(inputs)) childEnv[inputVariable(name)] = value
    const script = path.join(repoRoot, 'dist', step, 'index.js')
    const cwd = env.GITHUB_WORKSPACE ?? repoRoot
    const { exitCode, stdout, stderr, stdoutTimeline } = this.container
      ? await runNodeInContainer(this.container, script, childEnv, cwd)
      : await capture(process.execPath, [script], childEnv, cwd)
    if (step === 'main') this.state = parseFileCommands(await readFile(files.STATE, 'utf8'))
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseFileCommands(await readFile(files.OUTPUT, 'utf8')),
      exported: parseFileCommands(await readFile(files.ENV, 'utf8')),
      summary: await readFile(files.STEP_SUMMARY, 'utf8'),
      stdoutTimeline
    }
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

interface Captured {
  exitCode: number
  stdout: string
  stderr: string
  stdoutTimeline: StepRun['stdoutTimeline']
}

/** `docker run` of the job container's node; every variable passes by name, its value from env. */
function runNodeInContainer(
  container: JobContainer,
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string
): Promise<Captured> {
  const args = ['run', '--rm', '--network', 'host', '--volume', '/var/run/docker.sock:/var/run/docker.sock']
  for (const mount of container.mounts) args.push('--volume', `${mount}:${mount}`)
  const passed = Object.keys(env).filter(name => name !== 'HOME' && name !== 'HOSTNAME')
  for (const name of passed) args.push('--env', name)
  args.push('--workdir', cwd, container.image, 'node', script)
  return capture('docker', args, env, cwd)
}

function capture(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const stdoutTimeline: Captured['stdoutTimeline'] = []
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      stdoutTimeline.push({ atMs: performance.now() - startedAt, text: chunk })
    })
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ exitCode: code ?? -1, stdout, stderr, stdoutTimeline }))
  })
}
