// The README's first command on this machine: the local command (dist/cli) on examples/hello with
// the world's engine config, through e2e/pipeline.sh. It starts an engine of its own, stops it
// cleanly, and the next run starts warm on the state that engine kept in its volume.
import { execFile } from 'node:child_process'
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { execOutcomes, repoRoot } from './support/world.js'

const exec = promisify(execFile)
const ENGINE = 'dagger-engine-gda-v0.21.8-local'

async function pipeline(output: string): Promise<string> {
  const { stderr } = await exec(
    'bash',
    [path.join(repoRoot, 'e2e', 'pipeline.sh'), '--stage', 'build', '--platforms', 'linux/amd64', '--output', output],
    {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024
    }
  )
  return stderr
}

afterAll(async () => {
  await exec('docker', ['rm', '-f', ENGINE]).catch(() => undefined)
  await exec('docker', ['volume', 'rm', ENGINE]).catch(() => undefined)
})

test('builds on an engine of its own, stops it cleanly, and runs warm the second time', async () => {
  await exec('docker', ['volume', 'rm', ENGINE]).catch(() => undefined)
  const first = await pipeline(await mkdtemp(path.join(tmpdir(), 'gda-local-')))
  expect(first).toContain(`starting the engine ${ENGINE}`)
  expect(first).toContain(`stopping the engine ${ENGINE} (docker stop -t 300)`)
  expect(first).not.toContain('did not stop cleanly')
  expect(execOutcomes(first, /go build/)).toContain('DONE')

  const output = await mkdtemp(path.join(tmpdir(), 'gda-local-'))
  const second = await pipeline(output)
  expect(second).not.toContain('discarded its earlier state')
  expect(execOutcomes(second, /go (mod download|build)/).filter(outcome => outcome !== 'CACHED')).toEqual([])
  expect((await readdir(output)).sort()).toEqual(['checksums.txt', 'hello_linux_amd64'])
  // Stopped and removed: only the volume with the state stays.
  const { stdout } = await exec('docker', ['ps', '-aq', '--filter', `name=^${ENGINE}$`])
  expect(stdout.trim()).toBe('')
})
