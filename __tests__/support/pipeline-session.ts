// Runs the Go pipeline through the real SDK against the loopback engine session, with the tools'
// outputs answered from fixtures, and helpers to read back what the pipeline asked for.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { connect } from '@dagger.io/dagger'
import { imagePlatforms, parsePipelineInputs, type PipelineConfig } from '../../src/inputs/pipeline-config.js'
import { runPipeline, type PipelineHooks, type PipelineResult } from '../../src/pipeline/dag.js'
import { startEngineSession, type ChainStep, type EngineSession, type FieldCall } from './engine-session.js'
import { buildOciLayout } from './oci-layout.js'

export const repoRoot = join(import.meta.dirname, '..', '..')
export const fixtures = join(repoRoot, '__tests__', 'fixtures', 'pipeline')
/** The fixture module, relative to the repository (the working directory of a run). */
export const fixtureModule = relative(repoRoot, join(fixtures, 'go-failing'))

export const fixture = (name: string): Promise<string> => readFile(join(fixtures, name), 'utf8')

export const githubEnv: NodeJS.ProcessEnv = {
  GITHUB_REF: 'refs/tags/v1.2.3',
  GITHUB_SHA: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  GITHUB_REPOSITORY: 'acme/failing',
  GITHUB_SERVER_URL: 'https://github.com',
  SOURCE_DATE_EPOCH: '1700000000'
}

/** A configuration for the fixture module whose output directory is a fresh temporary one. */
export async function fixtureConfig(
  values: Record<string, string> = {}
): Promise<PipelineConfig & { cleanup(): Promise<void> }> {
  const output = await mkdtemp(join(tmpdir(), 'pipeline-out-'))
  const cfg = await parsePipelineInputs(
    name => ({ source: fixtureModule, output, ...values })[name] ?? '',
    githubEnv,
    repoRoot
  )
  return { ...cfg, cleanup: () => rm(output, { recursive: true, force: true }) }
}

/** The path argument of the `file(path:)` step a File leaf was read from. */
export function filePathOf(call: FieldCall): string | undefined {
  const step = call.parentChain.at(-1)
  return step?.field === 'file' ? String(step.args.path) : undefined
}

export function stepsNamed(chain: ChainStep[], field: string): ChainStep[] {
  return chain.filter(step => step.field === field)
}

export function execArgs(chain: ChainStep[]): string[][] {
  return stepsNamed(chain, 'withExec').map(step => step.args.args as string[])
}

export interface ToolAnswers {
  lint?: { exitCode: number; report: string }
  test?: { exitCode: number; stream: string; coverFunc: string }
  scanReport?: string
}

/** Answers the tools' outputs the way the engine would after running them. */
export function answerTools(session: EngineSession, answers: ToolAnswers): void {
  session.onField(call => {
    const lint = call.text.includes('golangci-lint')
    if (call.field === 'exitCode' && lint && answers.lint) return { value: answers.lint.exitCode }
    if (call.field === 'exitCode' && call.text.includes('"test"') && answers.test)
      return { value: answers.test.exitCode }
    if (call.field !== 'contents') return undefined
    const path = filePathOf(call)
    if (path === '/tmp/golangci-lint.json' && answers.lint) return { value: answers.lint.report }
    if (path === '/tmp/go-test.json' && answers.test) return { value: answers.test.stream }
    if (path === '/tmp/coverage.txt' && answers.test) return { value: answers.test.coverFunc }
    if (path === '/scan/report.json' && answers.scanReport) return { value: answers.scanReport }
    return undefined
  })
  // The engine writes exported binaries to the host; here each one holds its own name.
  session.onExport(exported =>
    exported.typeName === 'Directory'
      ? Object.fromEntries(
          stepsNamed(exported.chain, 'withFile').map(step => [
            String(step.args.path),
            `ELF binary ${String(step.args.path)}`
          ])
        )
      : undefined
  )
}

export interface SessionRun {
  session: EngineSession
  result: PipelineResult
  events: string[]
}

/** Runs the pipeline in a fresh loopback session; every query must be one the engine accepts. */
export async function runInSession(
  cfg: PipelineConfig,
  answers: ToolAnswers,
  prepare: (session: EngineSession) => void = () => {},
  hooks: PipelineHooks = {}
): Promise<SessionRun> {
  const session = await startEngineSession()
  const events: string[] = []
  try {
    answerTools(session, answers)
    // The engine writes an exported image as an OCI layout tarball; prepare may answer otherwise.
    const image = await buildOciLayout(imagePlatforms(cfg).map(p => p.name))
    session.onExport(exported => (exported.typeName === 'Container' ? image.tarball : undefined))
    prepare(session)
    session.applyEnv()
    let result: PipelineResult | undefined
    await connect(async client => {
      result = await runPipeline(client, cfg, {
        ...hooks,
        onStageStart: stage => {
          events.push(`start ${stage}`)
          hooks.onStageStart?.(stage)
        },
        onStageEnd: report => {
          events.push(`end ${report.stage}`)
          hooks.onStageEnd?.(report)
        }
      })
    })
    session.assertAllValid()
    return { session, result: result!, events }
  } finally {
    await session.close()
  }
}
