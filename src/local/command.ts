#!/usr/bin/env node
// The local command: the action's pipeline on a laptop, with the action's inputs as flags.
//
//   npm run pipeline -- --stage build
//   npx go-dagger-pipeline --stage test --source ./service
//
// Flags go through the same parser as the action's inputs, so a value the action rejects is
// rejected here with the same message. The Dagger SDK is imported only when something runs, which
// keeps --help and --dry-run instant and free of Docker.

import { existsSync, realpathSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DockerUnavailableError, assertDockerReachable } from '../shared/docker.js'
import { errorMessage } from '../shared/errors.js'
import { InputError, type InputReader } from '../inputs/parse.js'
import { parsePipelineInputs } from '../inputs/pipeline-config.js'
import { describePlan } from '../pipeline/plan.js'
import { renderPipelineText } from '../report/log.js'
import { runInEngine } from '../pipeline/run.js'

export const COMMAND = 'go-dagger-pipeline'

interface Flag {
  help: string
  boolean?: true
  /** Read from this environment variable when the flag is absent, so secrets stay out of shell history. */
  env?: string
}

/** The pipeline inputs of action.yml, each a flag of the same name. */
export const PIPELINE_FLAGS: Record<string, Flag> = {
  stage: { help: 'build, lint, test, image, scan, publish or all (comma separated); default all' },
  source: { help: "the Go module's directory; default: the bundled examples/hello" },
  'go-version': { help: 'Go toolchain; default from go.mod (toolchain, then go)' },
  platforms: { help: 'os/arch[/variant] list; default linux/amd64,linux/arm64' },
  package: { help: 'main package to build, e.g. ./cmd/app; default .' },
  'binary-name': { help: 'default: last element of the module path' },
  ldflags: { help: 'default: -s -w' },
  output: { help: 'directory for binaries, checksums.txt, image tarball, SARIF; default bin' },
  image: { help: 'repository to publish, e.g. ghcr.io/acme/hello' },
  tags: { help: 'image tags; default derived from GITHUB_REF/GITHUB_SHA, else latest' },
  'registry-username': { help: 'registry user for publish', env: 'REGISTRY_USERNAME' },
  'registry-password': { help: 'registry password for publish (prefer the env variable)', env: 'REGISTRY_PASSWORD' },
  'base-image': { help: 'default gcr.io/distroless/static-debian12:nonroot; scratch allowed' },
  scanner: { help: 'trivy or grype; default trivy' },
  severity: { help: 'severities that fail the scan; default CRITICAL,HIGH' },
  'go-private': { help: 'GOPRIVATE patterns, e.g. github.com/acme/*' },
  'go-private-token': { help: 'token for the private module hosts (prefer the env variable)', env: 'GO_PRIVATE_TOKEN' },
  race: { help: 'run go test with -race', boolean: true },
  coverage: { help: 'measure coverage (on by default; --no-coverage turns it off)', boolean: true },
  'test-flags': { help: 'extra go test flags, e.g. "-count=1 -timeout=5m"' },
  'golangci-lint-version': { help: 'golangci-lint v2 release' },
  'dry-run': { help: 'print the plan and run nothing (needs no Docker)', boolean: true }
}

/** The directory of this package: two levels up from dist/cli/index.js and from src/local/command.ts. */
export function packageRoot(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'examples', 'hello', 'go.mod'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find examples/hello above ${fileURLToPath(moduleUrl)}`)
    dir = parent
  }
  return dir
}

export function usage(): string {
  const width = Math.max(...Object.keys(PIPELINE_FLAGS).map(n => n.length)) + 4
  const lines = Object.entries(PIPELINE_FLAGS).map(([name, flag]) => {
    const env = flag.env ? ` [env ${flag.env}]` : ''
    return `  --${name.padEnd(width - 2)}${flag.help}${env}`
  })
  return [
    `Usage: ${COMMAND} [flags]`,
    '',
    "Runs the go-dagger-action pipeline locally on Dagger (Docker needed unless --dry-run). Flags are the action's inputs.",
    '',
    ...lines,
    `  --${'help'.padEnd(width - 2)}show this help`,
    '',
    'Examples:',
    `  ${COMMAND} --stage build`,
    `  ${COMMAND} --stage lint,test --source ./service`,
    `  ${COMMAND} --dry-run --image ghcr.io/acme/hello --tags v1.2.3`,
    ''
  ].join('\n')
}

/** An InputReader over parsed flags, as core.getInput is one over the runner's inputs. */
export function flagReader(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): InputReader {
  return name => {
    const value = values[name]
    if (typeof value === 'boolean') return String(value)
    if (value !== undefined) return value.trim()
    const fromEnv = PIPELINE_FLAGS[name]?.env
    return (fromEnv && env[fromEnv]?.trim()) || ''
  }
}

// A runner host that is not a local container needs no Docker on this machine.
function needsLocalDocker(env: NodeJS.ProcessEnv): boolean {
  if (env.DAGGER_SESSION_PORT) return false
  const runnerHost = env._EXPERIMENTAL_DAGGER_RUNNER_HOST
  return !runnerHost || /^(?:docker-container|container|podman-container):/.test(runnerHost)
}

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
  cwd: string
}

const defaultIo: CliIo = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text),
  cwd: process.cwd()
}

/** Runs the command; resolves with the exit code: 0 passed, 1 pipeline failed or no Docker, 2 bad flags. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = defaultIo): Promise<number> {
  const fail = (message: string, code: number): number => {
    io.err(`${COMMAND}: ${message}\n`)
    return code
  }

  let values: Record<string, string | boolean | undefined>
  try {
    const options = Object.fromEntries(
      Object.entries(PIPELINE_FLAGS).map(([name, flag]) => [name, { type: flag.boolean ? 'boolean' : 'string' } as const])
    )
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowNegative: true, strict: true })
      .values
  } catch (error) {
    return fail(`${errorMessage(error)} (see --help)`, 2)
  }
  if (values.help) {
    io.out(usage())
    return 0
  }

  const onExample = values.source === undefined
  if (onExample) values.source = relative(io.cwd, join(packageRoot(), 'examples', 'hello')) || '.'

  let cfg
  try {
    cfg = await parsePipelineInputs(flagReader(values, env), env, io.cwd)
  } catch (error) {
    if (error instanceof InputError) {
      const what = error.value === '' ? 'is missing' : `has an invalid value '${error.value}'`
      return fail(`--${error.input} ${what}: ${error.allowed}`, 2)
    }
    throw error
  }

  if (cfg.dryRun) {
    io.out(describePlan(cfg))
    return 0
  }

  if (needsLocalDocker(env)) {
    try {
      await assertDockerReachable()
    } catch (error) {
      if (error instanceof DockerUnavailableError) {
        const reason = error.message.replace(/^Cannot reach the Docker daemon: /, '')
        return fail(`cannot reach a Docker daemon (${reason}): start Docker or pass --dry-run`, 1)
      }
      throw error
    }
  }

  if (onExample) io.err(`${COMMAND}: no --source given, running on the bundled example ${values.source}\n`)
  const finished = await runInEngine(cfg, line => io.err(`${line}\n`))
  io.out(renderPipelineText(finished, io.cwd))
  return finished.ok ? 0 : 1
}

function invokedDirectly(): boolean {
  const script = process.argv[1]
  if (!script) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href
  } catch {
    return false
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    code => {
      process.exitCode = code
    },
    error => {
      process.stderr.write(`${COMMAND}: ${errorMessage(error)}\n`)
      process.exitCode = 1
    }
  )
}
