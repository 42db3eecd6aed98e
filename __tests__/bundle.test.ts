// The committed dist/ bundles, executed the way the runner executes them: `node dist/<entry>/index.js`
// under Node 24, inputs as INPUT_* variables (with action.yml's defaults for the rest), and the
// runner's file commands (GITHUB_OUTPUT, GITHUB_STATE, …) in temporary files read back afterwards.

import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { COMMONJS_PRELUDE } from '../scripts/build.mjs'
import { startDownloadServer, type DownloadServer } from './support/download-server.js'
import { startEngineSession } from './support/engine-session.js'
import { RunnerJob } from './support/runner.js'

const root = process.cwd()
const action = parse(readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}
const ENTRIES = ['main', 'post', 'cli'] as const
/** Present in the TypeScript compiler that the SDK loads. */
const TYPESCRIPT_MARKER = 'createSourceFile'
// The SDK's generated client class: no module of the project's own spells it.
const SDK_MARKER = 'class Container extends BaseClient'

/** Every input as the runner sets it: the step's `with:` values over action.yml's defaults. */
function withDefaults(inputs: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(inputs)) {
    if (!(name in action.inputs)) throw new Error(`${name} is not an input of action.yml`)
  }
  const defaults = Object.entries(action.inputs).map(([name, input]) => [name, input.default ?? ''] as const)
  return { ...Object.fromEntries(defaults), ...inputs }
}

/** A PATH whose `docker` records its arguments and fails: any Docker call shows up in the log. */
function pathWithRecordingDocker(dir: string): { PATH: string; log: string } {
  const bin = path.join(dir, 'bin')
  const log = path.join(dir, 'docker-calls.log')
  mkdirSync(bin)
  writeFileSync(log, '')
  const docker = path.join(bin, 'docker')
  writeFileSync(docker, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexit 1\n`)
  chmodSync(docker, 0o755)
  return { PATH: `${bin}:${process.env.PATH ?? ''}`, log }
}

function jsFiles(entry: string): string[] {
  return readdirSync(path.join(root, 'dist', entry)).filter(name => name.endsWith('.js'))
}

function readDist(entry: string, file: string): string {
  return readFileSync(path.join(root, 'dist', entry, file), 'utf8')
}

test('runs under Node 24, as runs.using: node24 does', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24)
})

describe('the committed bundle, executed as the runner does', () => {
  let job: RunnerJob
  let mirror: DownloadServer
  let docker: { PATH: string; log: string }

  beforeEach(async () => {
    job = await RunnerJob.create()
    docker = pathWithRecordingDocker(job.dir)
    // An empty mirror: any download the action tries is recorded (and fails).
    mkdirSync(path.join(job.dir, 'mirror'))
    mirror = await startDownloadServer(path.join(job.dir, 'mirror'))
  })

  afterEach(async () => {
    await mirror.close()
    await job.remove()
  })

  const step = (name: 'main' | 'post', inputs: Record<string, string>) =>
    job.run(name, withDefaults({ 'dagger-base-url': mirror.url, ...inputs }), {
      PATH: docker.PATH,
      HOME: process.env.HOME
    })

  test.each([
    ['engine-stop-timeout', '-5'],
    ['cache-max-size', '5 gigabytes'],
    ['dagger-version', '0.21'],
    ['runner-host', 'http://127.0.0.1:1234'],
    ['cache', 'yes'],
    ['stage', 'deploy'],
    ['platforms', 'linux/amd65']
  ])('main fails on a bad %s before any download or Docker call', async (input, value) => {
    const run = await step('main', { [input]: value, source: 'examples/hello' })
    expect(run.exitCode).toBe(1)
    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`'${input}'`)
    expect(errors[0]).toContain(value)
    expect(mirror.requests).toEqual([])
    expect(readFileSync(docker.log, 'utf8')).toBe('')
    expect({ outputs: run.outputs, exported: run.exported }).toEqual({ outputs: {}, exported: {} })
  })

  test('dry-run on examples/hello prints the plan and starts nothing; post then has nothing to stop', async () => {
    const main = await step('main', { 'dry-run': 'true', source: 'examples/hello', stage: 'all' })
    expect(main.stderr).toBe('')
    expect(main.exitCode).toBe(0)
    for (const stage of ['build', 'lint', 'test', 'image', 'scan']) expect(main.stdout).toContain(stage)
    expect(main.stdout).toContain('github.com/go-dagger-action/hello')
    expect(main.stdout).toContain('golang:1.23.4')
    expect(main.stdout).not.toContain('::error::')
    expect(mirror.requests).toEqual([])
    expect(readFileSync(docker.log, 'utf8')).toBe('')
    expect(Object.keys(main.outputs).filter(name => !(name in action.outputs))).toEqual([])

    const post = await step('post', { 'dry-run': 'true', source: 'examples/hello' })
    expect(post.exitCode).toBe(0)
    expect(post.stdout).not.toMatch(/::(error|warning)::/)
    expect(readFileSync(docker.log, 'utf8')).toBe('')
  })
})

describe('bundle layout', () => {
  test('every module of every bundle defines the CommonJS variables the TypeScript compiler reads', () => {
    for (const entry of ENTRIES) {
      for (const file of jsFiles(entry)) {
        const code = readDist(entry, file).replace(/^#!.*\n/, '')
        expect({ file: `${entry}/${file}`, prelude: code.startsWith(COMMONJS_PRELUDE) }).toEqual({
          file: `${entry}/${file}`,
          prelude: true
        })
      }
    }
  })

  test('post loads neither the Dagger SDK nor the TypeScript compiler', () => {
    expect(jsFiles('post')).toEqual(['index.js'])
    const post = readDist('post', 'index.js')
    expect({ typescript: post.includes(TYPESCRIPT_MARKER), sdk: post.includes(SDK_MARKER) }).toEqual({
      typescript: false,
      sdk: false
    })
    expect(statSync(path.join(root, 'dist', 'post', 'index.js')).size).toBeLessThan(6 * 2 ** 20)
  })

  test.each(['main', 'cli'])('%s loads the SDK lazily, from a chunk of its own', entry => {
    // Large files: compare booleans, so a failure does not print megabytes of bundle.
    const entryFile = readDist(entry, 'index.js')
    expect({ typescript: entryFile.includes(TYPESCRIPT_MARKER), sdk: entryFile.includes(SDK_MARKER) }).toEqual({
      typescript: false,
      sdk: false
    })
    const sdkChunks = jsFiles(entry).filter(file => file !== 'index.js' && readDist(entry, file).includes(SDK_MARKER))
    expect(sdkChunks).toHaveLength(1)
    expect(readDist(entry, sdkChunks[0]).includes(TYPESCRIPT_MARKER)).toBe(true)
  })
})

test('the bundled SDK and its TypeScript compiler load and talk to an engine session', async () => {
  const session = await startEngineSession()
  const output = mkdtempSync(path.join(tmpdir(), 'bundle-cli-'))
  try {
    // The exit code depends on what the stand-in session answers; what matters is that the SDK ran.
    const run = await promisify(execFile)(
      process.execPath,
      ['dist/cli/index.js', '--stage', 'build', '--platforms', 'linux/amd64', '--output', output],
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...session.env } }
    ).catch((error: Error & { stderr?: string }) => ({ stderr: error.stderr ?? String(error) }))
    expect(run.stderr).not.toMatch(/ReferenceError|is not defined/)
    session.assertAllValid()
    expect(session.callsTo('from', 'Container').map(call => call.args.address)).toContain('golang:1.23.4')
  } finally {
    await session.close()
    rmSync(output, { recursive: true, force: true })
  }
})
