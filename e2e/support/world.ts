// The real-engine world that `npm run e2e:setup` leaves up (e2e/setup.sh): the real Dagger CLI and
// engine image, the local registry with the stand-in images, the state helper image. A suite adds
// what one job of the runner meets besides: dl.dagger.io with the real CLI as a release, and the
// Actions cache service (v2), both on loopback; then it runs the committed bundle, main then post.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { SDK_CLI_VERSION } from '../../src/dagger-cli/install.js'
import { startCacheServer, type CacheServer } from '../../__tests__/support/cache-server.js'
import { dockerWrapperEnv } from '../../__tests__/support/docker.js'
import { startDownloadServer, type DownloadServer } from '../../__tests__/support/download-server.js'
import { repoRoot, RunnerJob, type StepRun } from '../../__tests__/support/runner.js'
export { expectOk as expectPassed } from '../../__tests__/support/action-world.js'

export const run = promisify(execFile)
export { repoRoot }

export interface WorldDescription {
  daggerCli: string
  engineImage: string
  engineConfig: Record<string, unknown>
  helperImage: string
  /** The registry on this host, e.g. 127.0.0.1:5000; engines reach it through `engineConfig`'s mirror. */
  registry: string
  world: string
  /** act (nektos/act), built by e2e/act/build.sh. */
  act?: string
}

export const WORLD_DIR = process.env.GDA_E2E_WORLD ?? '/var/cache/go-dagger-action-e2e'

export async function readWorld(): Promise<WorldDescription> {
  const file = path.join(WORLD_DIR, 'world.json')
  try {
    return JSON.parse(await readFile(file, 'utf8')) as WorldDescription
  } catch (error) {
    throw new Error(`no real-engine world at ${file} (${(error as Error).message}): run npm run e2e:setup first`)
  }
}

export interface RealWorld {
  description: WorldDescription
  mirror: DownloadServer
  cache: CacheServer
  work: string
  /** Inputs every job passes: the installer's mirror, and the engine pointed at the local registry. */
  inputs: Record<string, string>
  newJob(): Promise<RealJob>
  close(): Promise<void>
}

/** Publishes the built CLI the way dl.dagger.io lays out a release, for the action's own installer. */
async function publishCli(cli: string, root: string): Promise<void> {
  const releaseDir = path.join(root, 'dagger', 'releases', SDK_CLI_VERSION)
  const staging = await mkdtemp(path.join(tmpdir(), 'gda-e2e-cli-'))
  await mkdir(releaseDir, { recursive: true })
  await copyFile(cli, path.join(staging, 'dagger'))
  await writeFile(path.join(staging, 'LICENSE'), 'Apache License 2.0\n')
  const archiveName = `dagger_v${SDK_CLI_VERSION}_linux_amd64.tar.gz`
  const archive = path.join(releaseDir, archiveName)
  await run('tar', ['-czf', archive, '-C', staging, 'dagger', 'LICENSE'])
  const digest = createHash('sha256')
    .update(await readFile(archive))
    .digest('hex')
  await writeFile(path.join(releaseDir, 'checksums.txt'), `${digest}  ${archiveName}\n`)
  await mkdir(path.join(root, 'dagger', 'versions'), { recursive: true })
  await writeFile(path.join(root, 'dagger', 'versions', 'latest'), `${SDK_CLI_VERSION}\n`)
  await rm(staging, { recursive: true, force: true })
}

export async function startRealWorld(label: string): Promise<RealWorld> {
  const description = await readWorld()
  const work = await mkdtemp(path.join(tmpdir(), `gda-e2e-${label}-`))
  await publishCli(description.daggerCli, path.join(work, 'mirror'))
  const mirror = await startDownloadServer(path.join(work, 'mirror'))
  const cache = await startCacheServer({ protocol: 'v2' })
  const jobs: RealJob[] = []
  const inputs = {
    'dagger-base-url': `${mirror.url}/dagger`,
    'engine-config': JSON.stringify(description.engineConfig)
  }
  return {
    description,
    mirror,
    cache,
    work,
    inputs,
    async newJob() {
      const job = new RealJob(await RunnerJob.create(), cache, jobs.length + 1)
      jobs.push(job)
      return job
    },
    async close() {
      // An engine a failed test left running would hold its volume and, with its restart policy,
      // come back with the next daemon start: stop it gracefully, then remove it and its volume.
      const engines = [...new Set(jobs.flatMap(job => job.engines))]
      for (const engine of engines) {
        await run('docker', ['stop', '-t', '60', engine]).catch(() => undefined)
        await run('docker', ['rm', '-v', engine]).catch(() => undefined)
        await run('docker', ['volume', 'rm', engine]).catch(() => undefined)
      }
      await Promise.all(jobs.map(job => job.remove()))
      await Promise.all([mirror.close(), cache.close()])
      await rm(work, { recursive: true, force: true })
    }
  }
}

/** One job of the runner: main, the user's later steps (reading what main exported), then post. */
export class RealJob {
  /** The engine containers (and volumes, of the same name) that this job's main steps started. */
  readonly engines: string[] = []

  constructor(
    readonly runner: RunnerJob,
    private readonly cache: CacheServer,
    /** GITHUB_RUN_ID: each job of a suite is a run of its own. */
    readonly runId: number
  ) {}

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env = dockerWrapperEnv({
      GITHUB_RUN_ID: String(this.runId),
      // A push, on which the default cache-save (auto) saves.
      GITHUB_EVENT_NAME: 'push',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKSPACE: repoRoot,
      GITHUB_REPOSITORY: 'go-dagger-action/e2e',
      DO_NOT_TRACK: '1',
      DAGGER_NO_UPDATE_CHECK: '1',
      DAGGER_NO_NAG: '1',
      ...extra
    })
    for (const [name, value] of Object.entries(this.cache.env)) {
      if (value === undefined) delete env[name]
      else env[name] = value
    }
    return env
  }

  async runMain(inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}): Promise<StepRun> {
    const main = await this.runner.run('main', inputs, this.env(extra))
    const host = main.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST ?? ''
    if (host.startsWith('docker-container://dagger-engine-'))
      this.engines.push(host.slice('docker-container://'.length))
    return main
  }

  runPost(extra: NodeJS.ProcessEnv = {}): Promise<StepRun> {
    return this.runner.run('post', {}, this.env(extra))
  }

  remove(): Promise<void> {
    return this.runner.remove()
  }
}

/** How each exec span matching `command` ended in the engine's plain progress: `DONE`, `CACHED`, `ERROR`… */
export function execOutcomes(progress: string, command: RegExp): string[] {
  // Plain progress prints a call as `<span> : ┆ withExec <args>` and, later, its end on the same span:
  // `<span> : ┆ Container.withExec CACHED [0.0s]` or `… DONE [12.3s]`. A cached call may also not be printed at all.
  const lines = progress
    .split('\n')
    .map(line => /^\s*(\d+)\s*:\s*┆?\s*(.*)$/.exec(line))
    .filter(match => match !== null)
  const outcomes: string[] = []
  lines.forEach(([, span, text], index) => {
    if (!/^withExec /.test(text) || !command.test(text)) return
    const end = lines
      .slice(index + 1)
      .find(([, other, rest]) => other === span && /^Container\.withExec [A-Z]+\b/.test(rest))
    outcomes.push(end ? /^Container\.withExec ([A-Z]+)/.exec(end[2])![1] : 'UNFINISHED')
  })
  return outcomes
}

/** The local registry's access log, from `offset` on: what engines fetched while a job ran. */
export async function registryLog(world: WorldDescription, offset = 0): Promise<string> {
  const log = await readFile(path.join(world.world, 'registry', 'registry.log'))
  return log.subarray(offset).toString('utf8')
}

/** The repositories whose blobs the clients at `addresses` downloaded, in this part of the registry's access log. */
export function pulledRepositories(log: string, addresses: string[]): string[] {
  const repositories = log
    .split('\n')
    .filter(line => addresses.includes(line.split(' ')[0]))
    .flatMap(line => [...(/"GET \/v2\/(\S+?)\/blobs\/sha256:/.exec(line)?.slice(1, 2) ?? [])])
  return [...new Set(repositories)].sort()
}
