// The runner's entry for the main step (dist/main/index.js).
import * as core from '@actions/core'
import { run } from '../action/main-step.js'
import { errorMessage } from '../shared/errors.js'

run()
  .catch(error => core.setFailed(errorMessage(error)))
  // A cache transfer given up after its deadline may still hold a socket open: the step ends
  // when its work is done, with the exit code setFailed left.
  .finally(() => process.exit())
