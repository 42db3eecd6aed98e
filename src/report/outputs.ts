// The step outputs a later step or job reads (e.g. `image-ref` into a deploy job). Outputs of a
// stage that did not run, or produced nothing, are left unset so `if: steps.x.outputs.y` stays falsy.

import * as core from '@actions/core'
import type { PipelineConfig } from '../inputs/pipeline-config.js'
import type { PipelineResult } from '../pipeline/dag.js'

/** Output names and values, unset ones left out; exported for tests and the local command. */
export function pipelineOutputs(result: PipelineResult, cfg: Pick<PipelineConfig, 'output'>): Record<string, string> {
  const { build, lint, test, image, scan, publish } = result.stages
  const outputs: Record<string, string> = {}
  const put = (name: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') outputs[name] = String(value)
  }
  if (build?.result) put('artifacts', cfg.output)
  put('image-ref', publish?.result?.imageRef)
  put('image-tarball', image?.result?.tarball)
  if (test?.result) {
    put('coverage', test.result.coverage?.toFixed(1))
    put('tests-passed', test.result.passed)
    put('tests-failed', test.result.failed)
    put('tests-skipped', test.result.skipped)
  }
  put('lint-findings', lint?.result?.findings.length)
  put('vulnerabilities', scan?.result?.failing)
  put('sarif', scan?.result?.sarif)
  return outputs
}

export function setPipelineOutputs(
  result: PipelineResult,
  cfg: Pick<PipelineConfig, 'output'>
): Record<string, string> {
  const outputs = pipelineOutputs(result, cfg)
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value)
  return outputs
}
