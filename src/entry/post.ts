// The runner's entry for the post step (dist/post/index.js). Nothing here fails the job: the
// engine is down or not, the state saved or not, and both are said as warnings.
import * as core from '@actions/core'
import { post } from '../action/post-step.js'

function warnAndFinish(error: unknown): void {
  core.warning(`The post step could not finish: ${error instanceof Error ? error.message : String(error)}`)
}

// @actions/cache can raise an upload failure outside its promise chain (a stream error after a
// failed v1 chunk upload): that is cache trouble too, so it must not fail the job.
process.on('uncaughtException', error => {
  warnAndFinish(error)
  process.exit(0)
})
post()
  .catch(warnAndFinish)
  // A cache transfer given up after its deadline may still hold a socket open.
  .finally(() => process.exit())
