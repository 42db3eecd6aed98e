#!/usr/bin/env node
// The local command: the action's pipeline on a laptop, with the action's inputs as flags.
//
//   npm run pipeline -- --stage build
//   npx go-dagger-pipeline --stage test --source ./service
//
// Flags go through the same parser as the action's inputs, so a value the action rejects is
// rejected here with the same message. The Dagger SDK is imported only when something runs, which
// keeps --help and --dry-run instant and free of Docker.

import { execFile } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { delimiter, dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { SDK_CLI_VERSION } from '../dagger-cli/install.js'
import { engineNames, startEngine, stopEngine } from '../engine/container.js'
import { DEFAULT_STOP_TIMEOUT_SECONDS, engineConfigJson, type EngineConfigOverrides } from '../engine/engine-json.js'
import { DEFAULT_CACHE_MAX_SIZE } from '../inputs/action-config.js'
import { parseEngineConfig } from '../inputs/engine-config.js'
import { DockerUnavailableError, assertDockerReachable, ensureImage } from '../shared/docker.js'
import { errorMessage } from '../shared/errors.js'
import { InputError, parseSize, type InputReader } from '../inputs/parse.js'
import { parsePipelineInputs, SETUP_ONLY_STAGE } from '../inputs/pipeline-config.js'
import { describePlan } from '../pipeline/plan.js'
import { renderPipelineText } from '../report/log.js'
import { runInEngine } from '../pipeline/run.js'

export const COMMAND = 'go-dagger-pipeline'
const execFileAsync = promisify(execFile)

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

/** Flags of the local command alone: the engine it starts for itself. */
export const ENGINE_FLAGS: Record<string, Flag> = {
  'engine-config': {
    help: 'JSON merged into engine.json (registry mirrors, CAs, log level): the command then starts an engine of its own, keeps its state in a volume, and stops it when done',
    env: 'GO_DAGGER_ENGINE_CONFIG'
  }
}
const ALL_FLAGS: Record<string, Flag> = { ...PIPELINE_FLAGS, ...ENGINE_FLAGS }

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
  const width = Math.max(...Object.keys(ALL_FLAGS).map(n => n.length)) + 4
  const lines = Object.entries(ALL_FLAGS).map(([name, flag]) => {
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
    const fromEnv = ALL_FLAGS[name]?.env
    return (fromEnv && env[fromEnv]?.trim()) || ''
  }
}

const LOCAL_STOP_TIMEOUT_SECONDS = DEFAULT_STOP_TIMEOUT_SECONDS

/** A `dagger` on PATH that reports the SDK's own version, or undefined. */
async function daggerOnPath(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'dagger')
    if (!existsSync(candidate)) continue
    try {
      const { stdout } = await execFileAsync(candidate, ['version'], {
        timeout: 10_000,
        env: { ...env, DAGGER_NO_NAG: '1', DO_NOT_TRACK: '1' }
      })
      return new RegExp(`^dagger v${SDK_CLI_VERSION.replace(/\./g, '\\.')}\\b`).test(stdout.trim())
        ? candidate
        : undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * The engine the command starts when --engine-config is given, with the action's own lifecycle: the
 * same image the SDK's CLI would start, engine.json with those settings, its state in a named
 * volume that the next run starts warm on. Its runner host goes to the SDK through the environment.
 */
async function startOwnEngine(overrides: EngineConfigOverrides, io: CliIo): Promise<string> {
  const names = engineNames({ engineVersion: SDK_CLI_VERSION, scope: 'local' })
  const image = `registry.dagger.io/engine:v${SDK_CLI_VERSION}`
  await ensureImage(image)
  const maxUsedSpaceBytes = parseSize('cache-max-size', DEFAULT_CACHE_MAX_SIZE, 0)
  io.err(`${COMMAND}: starting the engine ${names.container} (${image}) with the given engine config\n`)
  const started = await startEngine({
    image,
    names,
    engineConfig: engineConfigJson({ maxUsedSpaceBytes, overrides }),
    stopTimeoutSeconds: LOCAL_STOP_TIMEOUT_SECONDS
  })
  if (started.replaced) io.err(`${COMMAND}: ${started.replaced}\n`)
  if (started.discardedState)
    io.err(`${COMMAND}: the engine discarded its earlier state (${started.discardedState}): this run starts cold\n`)
  process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST = started.runnerHost
  return names.container
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
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = defaultIo
): Promise<number> {
  const fail = (message: string, code: number): number => {
    io.err(`${COMMAND}: ${message}\n`)
    return code
  }

  let values: Record<string, string | boolean | undefined>
  try {
    const options = Object.fromEntries(
      Object.entries(ALL_FLAGS).map(([name, flag]) => [name, { type: flag.boolean ? 'boolean' : 'string' } as const])
    )
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowNegative: true,
      strict: true
    }).values
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
  let engineConfig: EngineConfigOverrides | undefined
  try {
    cfg = await parsePipelineInputs(flagReader(values, env), env, io.cwd)
    engineConfig = parseEngineConfig(flagReader(values, env)('engine-config'))
  } catch (error) {
    if (error instanceof InputError) {
      const what = error.value === '' ? 'is missing' : `has an invalid value '${error.value}'`
      return fail(`--${error.input} ${what}: ${error.allowed}`, 2)
    }
    throw error
  }

  if (cfg.stages.length === 0) {
    // Stage none leaves an engine up for a job's later steps; here there are no later steps.
    return fail(
      `--stage ${SETUP_ONLY_STAGE} is for the action, which keeps the engine for the job's later steps; locally, run dagger against your own engine`,
      2
    )
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
  const cli = await daggerOnPath(env)
  // The SDK would otherwise download its CLI: a dagger of its own version on PATH does the same.
  if (cli && !process.env._EXPERIMENTAL_DAGGER_CLI_BIN) process.env._EXPERIMENTAL_DAGGER_CLI_BIN = cli
  const ownEngine =
    engineConfig && !env._EXPERIMENTAL_DAGGER_RUNNER_HOST ? await startOwnEngine(engineConfig, io) : undefined
  let finished
  try {
    finished = await runInEngine(cfg, line => io.err(`${line}\n`))
  } finally {
    if (ownEngine) {
      io.err(
        `${COMMAND}: stopping the engine ${ownEngine} (docker stop -t ${LOCAL_STOP_TIMEOUT_SECONDS}); its state stays in the volume of that name\n`
      )
      const stopped = await stopEngine({ container: ownEngine, timeoutSeconds: LOCAL_STOP_TIMEOUT_SECONDS })
      if (!stopped.clean)
        io.err(
          `${COMMAND}: the engine did not stop cleanly (${stopped.reason ?? `exit code ${stopped.exitCode}`}): it will start cold\n`
        )
    }
  }
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
