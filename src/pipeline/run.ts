// The chosen stages as one DAG in one Dagger SDK session, with the engine's progress and each
// stage's start and end written line by line: the one way both the action and the local command
// run the pipeline. The SDK is imported only here, when a pipeline really runs: it loads the
// TypeScript compiler, which a dry run does not need.
import type { PipelineConfig } from '../inputs/pipeline-config.js'
import { lineWriter, stageProgressHooks } from '../report/log.js'
import type { PipelineResult } from './dag.js'

export async function runInEngine(cfg: PipelineConfig, print: (line: string) => void): Promise<PipelineResult> {
  const { connection, dag } = await import('@dagger.io/dagger')
  const { runPipeline } = await import('./dag.js')
  const progress = lineWriter(print)
  let result: PipelineResult | undefined
  try {
    await connection(
      async () => {
        result = await runPipeline(dag, cfg, stageProgressHooks(print))
      },
      { LogOutput: progress }
    )
  } finally {
    progress.end()
  }
  if (!result) throw new Error('The engine session ended before the pipeline finished')
  return result
}
