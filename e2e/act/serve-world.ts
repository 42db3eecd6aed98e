// For act runs by hand (README.md), what e2e/act.test.ts starts for its own: the real-engine world's
// loopback server that publishes the Dagger CLI as dl.dagger.io lays out a release. Writes the
// workflow's world inputs as JSON to the file named on the command line (once they are ready), then
// serves until it is interrupted.
//   npx -y -p node@24 npx tsx e2e/act/serve-world.ts /tmp/gda-act-world.json
import { rm, writeFile } from 'node:fs/promises'
import { startRealWorld } from '../support/world.js'

const file = process.argv[2]
if (!file) {
  console.error('usage: serve-world.ts OUTPUT.json')
  process.exit(2)
}
const world = await startRealWorld('act-serve')
await writeFile(file, `${JSON.stringify(world.inputs)}\n`)
console.error(`serving the Dagger CLI at ${world.inputs['dagger-base-url']}; inputs in ${file}; Ctrl-C ends it`)

let closing = false
async function close(): Promise<void> {
  if (closing) return
  closing = true
  await rm(file, { force: true })
  await world.close()
  process.exit(0)
}
process.on('SIGINT', () => void close())
process.on('SIGTERM', () => void close())
