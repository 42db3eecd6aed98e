// The runner's entry for the post step (dist/post/index.js). Nothing here fails the job: the
// engine is down or not, the state saved or not, and both are said as warnings.
import * as core from '@actions/core'
import { post } from '../action/post-step.js'
import { errorMessage as text } from '../shared/errors.js'

// @actions/cache can raise an upload failure outside its promise chain (a stream error after a
// failed chunk upload, or from an upload given up after its deadline): that is cache trouble, and
// the save it belongs to has already counted it as failed. Exiting here would drop the rest of
// the save (the other parts, the manifest) without a word, so the step carries on.
process.on('uncaughtException', error => {
  core.warning(`An error was raised outside the post step's own work (${text(error)}); the save carries on`)
})
post()
  // Only a failure before or during the save reaches here: the summary's own errors are warned about.
  .catch(error => core.warning(`The post step could not finish, engine state not saved: ${text(error)}`))
  // A cache transfer given up after its deadline may still hold a socket open.
  .finally(() => process.exit())
