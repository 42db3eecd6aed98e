// The runner's entry for the main step (dist/main/index.js).
import * as core from '@actions/core'
import { run } from '../main.js'

run().catch(error => core.setFailed(error instanceof Error ? error.message : String(error)))
