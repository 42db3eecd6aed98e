// What a job of the action meets, on loopback: a download mirror with the Dagger CLI release, an
// engine session that answers the pipeline (every query validated), the stand-in engine images,
// and runner jobs to run the committed bundle in. Shared by the whole-job tests.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SDK_CLI_VERSION } from '../../src/dagger-cli/install.js'
import { ensureStandInImages, inVolume, removeTestEngines } from './docker.js'
import { startDownloadServer, writeFakeReleases, type DownloadServer } from './download-server.js'
import { startEngineSession, type EngineSession } from './engine-session.js'
import { answerTools } from './pipeline-session.js'
import { RunnerJob, type JobContainer, type StepRun } from './runner.js'

export interface ActionWorld {
  work: string
  mirror: DownloadServer
  session: EngineSession
  newJob(container?: JobContainer): Promise<RunnerJob>
  close(): Promise<void>
}

export async function startActionWorld(label: string): Promise<ActionWorld> {
  await ensureStandInImages()
  const work = await mkdtemp(path.join(tmpdir(), `gda-${label}-`))
  await writeFakeReleases(path.join(work, 'mirror', 'dagger'), { versions: [SDK_CLI_VERSION] })
  const mirror = await startDownloadServer(path.join(work, 'mirror'))
  const session = await startEngineSession()
  answerTools(session, {})
  const jobs: RunnerJob[] = []
  return {
    work,
    mirror,
    session,
    async newJob(container) {
      const job = await RunnerJob.create(container)
      jobs.push(job)
      return job
    },
    async close() {
      await removeTestEngines()
      await Promise.all(jobs.map(job => job.remove()))
      await Promise.all([mirror.close(), session.close()])
      await rm(work, { recursive: true, force: true })
    }
  }
}

export function expectOk(step: StepRun): void {
  if (step.exitCode !== 0) throw new Error(`step failed (${step.exitCode}):\n${step.stdout}\n${step.stderr}`)
}

/** The engine container (and its state volume) a main step started, from the runner host it exported. */
export function engineOf(step: StepRun): string {
  const host = step.exported._EXPERIMENTAL_DAGGER_RUNNER_HOST ?? ''
  if (!host.startsWith('docker-container://dagger-engine-gda-v')) throw new Error(`no engine of the action: '${host}'`)
  return host.replace('docker-container://', '')
}

/** How many times the stand-in engine has started on the state in this volume. */
export async function engineStarts(volume: string): Promise<string> {
  return (await inVolume(volume, 'sed -n "s/^starts=//p" /var/lib/dagger/dagql-cache.db')).trim()
}
