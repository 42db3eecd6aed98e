// The one module that reads the action's inputs. Everything is parsed and validated here, before
// any download or Docker call, so a typo fails the step in a second with a message that names the
// input, the value and what is allowed.

import * as core from '@actions/core'
import { readFile } from 'node:fs/promises'
import { posix } from 'node:path'
import { parseBaseUrl, parseDaggerVersion } from '../dagger-cli/install.js'
import { DEFAULT_STOP_TIMEOUT_SECONDS, type EngineConfigOverrides } from '../engine/engine-json.js'
import type { CacheSaveSetting, TriggerEvent } from '../engine-state/save-policy.js'
import { chooseDaggerVersion, DAGGER_JSON, type DaggerVersionChoice } from './dagger-json.js'
import { parseEngineConfig } from './engine-config.js'
import { InputError, parseBoolean, parseImageReference, parseInteger, parseSize, type InputReader } from './parse.js'
import {
  DEFAULT_GOLANGCI_LINT_VERSION,
  DEFAULT_SCANNER,
  parsePipelineInputs,
  type PipelineConfig
} from './pipeline-config.js'

export interface ActionConfig {
  dagger: {
    /** `X.Y.Z[-pre]` or `latest`. */
    version: string
    baseUrl: string
    cloudToken?: string
  }
  engine: {
    /** Undefined: `registry.dagger.io/engine:v<installed CLI version>`. */
    image?: string
    /** An existing engine to use instead of starting one, e.g. `tcp://10.0.0.5:1234`. */
    runnerHost?: string
    stopTimeoutSeconds: number
    /** The image whose GNU tar archives and restores the engine's state volume. */
    helperImage: string
    /** The `engine-config` input: merged into the engine.json the action writes. */
    config?: EngineConfigOverrides
  }
  cache: {
    /** False when `cache: false` or when `runner-host` names an engine whose state is not ours to save. */
    enabled: boolean
    /** The `cache-save` input; the post step's decision also weighs the event (save-policy.ts). */
    save: CacheSaveSetting
    /** The `cache-key` input: '' or an extra scope for the state cache key. */
    keyScope: string
    /** The engine's GC limit for its state. */
    maxSizeBytes: number
  }
}

/** Where each tool's version came from, for the job summary. */
export interface VersionSources {
  dagger: DaggerVersionChoice
  /** The go.mod line that gave the Go version (`toolchain go1.23.4`, `go 1.23`); absent when go-version did. */
  goModLine?: string
  golangciLint: 'input' | 'default'
  scanner: 'input' | 'default'
}

export interface Config extends ActionConfig {
  pipeline: PipelineConfig
  /** What triggered the run, for the cache-save policy. */
  event: TriggerEvent
  versionSources: VersionSources
}

/** Compressed, 5 GB of engine state stays well under GitHub's 10 GB Actions cache per repository. */
export const DEFAULT_CACHE_MAX_SIZE = '5GB'
const MIN_CACHE_MAX_SIZE = 100e6
export const DEFAULT_ENGINE_STOP_TIMEOUT_SECONDS = DEFAULT_STOP_TIMEOUT_SECONDS
export const DEFAULT_STATE_HELPER_IMAGE = 'debian:bookworm-slim'

/** The schemes `_EXPERIMENTAL_DAGGER_RUNNER_HOST` accepts in the Dagger CLI. */
export const RUNNER_HOST_SCHEMES = [
  'tcp',
  'unix',
  'container',
  'docker-container',
  'podman-container',
  'kube-pod',
  'ssh',
  'dagger-cloud'
] as const

/** Inputs whose values are masked in the log the moment they are read. */
export const SECRET_INPUTS = ['cloud-token', 'registry-password', 'go-private-token'] as const

const CACHE_KEY = /^[A-Za-z0-9._+=/-]{1,100}$/

/** The runner's reader: `@actions/core` getInput, which trims and gives '' for an unset input. */
export const coreReader: InputReader = name => core.getInput(name)

export function parseRunnerHost(raw: string): string | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/.exec(value)
  if (!match || !(RUNNER_HOST_SCHEMES as readonly string[]).includes(match[1]) || /\s/.test(match[2])) {
    throw new InputError(
      'runner-host',
      value,
      `expected <scheme>://<address> with a scheme of ${RUNNER_HOST_SCHEMES.join(', ')}, e.g. tcp://10.0.0.5:1234 or container://dagger-engine`
    )
  }
  return value
}

export function parseCacheKey(raw: string): string {
  const value = raw.trim()
  if (value === '') return ''
  if (!CACHE_KEY.test(value)) {
    throw new InputError('cache-key', value, 'expected 1 to 100 of A-Z a-z 0-9 . _ - + = / (no commas or spaces)')
  }
  return value
}

export function parseCacheSave(raw: string): CacheSaveSetting {
  const value = raw.trim()
  if (value === '' || ['auto', 'Auto', 'AUTO'].includes(value)) return 'auto'
  try {
    return parseBoolean('cache-save', value, true)
  } catch {
    throw new InputError(
      'cache-save',
      value,
      'expected auto (save only from trusted runs), true (always) or false (never)'
    )
  }
}

/**
 * The event that triggered the run and its payload, as the runner wrote them. A payload that
 * cannot be read is no error: the save policy then counts the run as untrusted where it matters.
 */
export async function readTriggerEvent(env: NodeJS.ProcessEnv): Promise<TriggerEvent> {
  const name = env.GITHUB_EVENT_NAME?.trim() ?? ''
  const file = env.GITHUB_EVENT_PATH
  if (!file) return { name, unreadable: 'GITHUB_EVENT_PATH is not set' }
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    // Not `instanceof Error`: an error from node:fs may come from another realm's Error (a VM context).
    const code =
      typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
        ? error.code
        : String(error)
    return { name, unreadable: `${file} could not be read (${code})` }
  }
  try {
    return { name, payload: JSON.parse(text) as unknown }
  } catch {
    return { name, unreadable: `${file} is not JSON` }
  }
}

/** Reads and validates the inputs of the action's shell: CLI install, engine and state cache. */
export function readActionInputs(read: InputReader = coreReader): ActionConfig {
  // Masked already: readConfig masks every secret input before reading any other.
  const cloudToken = read('cloud-token')

  const version = parseDaggerVersion(read('dagger-version'))
  const baseUrl = parseBaseUrl(read('dagger-base-url'))
  const runnerHost = parseRunnerHost(read('runner-host'))
  // Inputs for the engine the action starts: none is started when runner-host names one.
  const forOwnEngine = (name: string): string => {
    const raw = read(name)
    if (raw && runnerHost)
      throw new InputError(name, raw, 'leave it empty when runner-host is set: the action starts no engine then')
    return raw
  }
  const imageRaw = forOwnEngine('engine-image')
  const image = imageRaw ? parseImageReference('engine-image', imageRaw) : undefined
  const helperImage = parseImageReference(
    'state-helper-image',
    read('state-helper-image') || DEFAULT_STATE_HELPER_IMAGE
  )
  const engineConfig = parseEngineConfig(forOwnEngine('engine-config'))
  const stopTimeoutSeconds = parseInteger(
    'engine-stop-timeout',
    read('engine-stop-timeout'),
    DEFAULT_ENGINE_STOP_TIMEOUT_SECONDS,
    {
      min: 1,
      max: 3600
    }
  )

  const cacheWanted = parseBoolean('cache', read('cache'), true)
  const save = parseCacheSave(read('cache-save'))
  const keyScope = parseCacheKey(read('cache-key'))
  const maxSizeBytes = parseSize(
    'cache-max-size',
    read('cache-max-size'),
    parseSize('cache-max-size', DEFAULT_CACHE_MAX_SIZE, 0)
  )
  if (maxSizeBytes < MIN_CACHE_MAX_SIZE) {
    throw new InputError(
      'cache-max-size',
      read('cache-max-size'),
      'expected at least 100MB: the engine needs room for one build'
    )
  }

  return {
    dagger: { version, baseUrl, ...(cloudToken ? { cloudToken } : {}) },
    engine: {
      ...(image ? { image } : {}),
      ...(runnerHost ? { runnerHost } : {}),
      stopTimeoutSeconds,
      helperImage,
      ...(engineConfig ? { config: engineConfig } : {})
    },
    cache: { enabled: cacheWanted && !runnerHost, save, keyScope, maxSizeBytes }
  }
}

/** Every input of the action: the shell's and the pipeline's, validated before anything runs. */
export async function readConfig(
  read: InputReader = coreReader,
  { env = process.env, cwd = process.cwd() }: { env?: NodeJS.ProcessEnv; cwd?: string } = {}
): Promise<Config> {
  // Masked before any parsing, so no error message or later log line can show them.
  for (const name of SECRET_INPUTS) {
    const secret = read(name)
    if (secret) core.setSecret(secret)
  }
  const action = readActionInputs(read)
  const pipeline = await parsePipelineInputs(read, env, cwd)
  // After the pipeline inputs: the source directory holds the dagger.json that may pin the version.
  const dagger = await chooseDaggerVersion({
    input: read('dagger-version'),
    parsed: action.dagger.version,
    dir: pipeline.source,
    shownAs: posix.join(pipeline.sourceFromRepo, DAGGER_JSON),
    sdkStages: pipeline.stages.length > 0
  })
  const event = await readTriggerEvent(env)
  const versionSources: VersionSources = {
    dagger: dagger.choice,
    ...(pipeline.goModLine ? { goModLine: pipeline.goModLine } : {}),
    // The runner hands action.yml's default for an input left unset: a value equal to the default
    // counts as the default (the same version either way).
    golangciLint: pipeline.golangciLintVersion === DEFAULT_GOLANGCI_LINT_VERSION ? 'default' : 'input',
    scanner: pipeline.scanner === DEFAULT_SCANNER ? 'default' : 'input'
  }
  return { ...action, dagger: { ...action.dagger, version: dagger.version }, pipeline, event, versionSources }
}
