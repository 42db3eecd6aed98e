// The engine container's life: started the way the Dagger CLI starts it, with its state in a
// Docker named volume (never a host path, so it works when the action itself runs in a container
// that shares the host's Docker socket, and when the action's user cannot read root-owned state),
// and stopped only with `docker stop`, because the engine wipes its whole cache on the next start
// after a kill.
import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import {
  assertDockerReachable,
  containerLog,
  containerLogTail,
  docker,
  DockerCommandError,
  dockerOk,
  inspectContainer,
  tarArchive,
  volumeExists,
  type ContainerState
} from '../shared/docker.js'
import { helpersRemoved } from '../engine-state/helper-container.js'
import { DEFAULT_STOP_TIMEOUT_SECONDS, ENGINE_CONFIG_PATH, ENGINE_STATE_DIR } from './engine-json.js'

export { ENGINE_STATE_DIR }

const ENGINE_LABEL = 'io.github.go-dagger-action.engine'
/**
 * A digest of what the container was created with (engine.json and the run flags), so that a later
 * start that finds it running can tell whether it runs on the settings asked for now.
 */
const SPEC_LABEL = 'io.github.go-dagger-action.engine.spec'
/** The image reference asked for: the container is created from the image's ID, which `docker ps` shows instead. */
const IMAGE_LABEL = 'io.github.go-dagger-action.engine.image'

export interface EngineNames {
  container: string
  volume: string
}

/**
 * Deterministic names per engine version and scope: a later job on the same daemon (self-hosted
 * runners) finds the same engine and state, and a new engine version never sees an old state.
 */
export function engineNames({ engineVersion, scope }: { engineVersion: string; scope?: string }): EngineNames {
  const version = engineVersion.replace(/^v/, '')
  if (!/^[0-9A-Za-z][0-9A-Za-z_.-]*$/.test(version)) {
    throw new Error(`engine version '${engineVersion}' cannot be part of a container name`)
  }
  let name = `dagger-engine-gda-v${version}`
  if (scope) {
    const safeScope = scope.replace(/[^0-9A-Za-z_.-]+/g, '-').replace(/^-+|-+$/g, '')
    // Different raw scopes must not share an engine just because they sanitize alike.
    const suffix = safeScope === scope ? '' : `-${createHash('sha256').update(scope).digest('hex').slice(0, 8)}`
    name += `-${safeScope}${suffix}`
  }
  return { container: name, volume: name }
}

export interface StartEngineOptions {
  image: string
  /** The local ID of `image`, when the caller already has it. */
  imageId?: string
  names: EngineNames
  /** Contents of /etc/dagger/engine.json (see engineConfigJson). */
  engineConfig: string
  /** How long the engine may take to serve its API. Default 60 s. */
  readyTimeoutMs?: number
  /**
   * How long the engine gets to stop cleanly: a leftover engine of the same name before it is
   * replaced, and the container's own --stop-timeout. Default 300 s.
   */
  stopTimeoutSeconds?: number
}

export interface StartedEngine {
  /**
   * For _EXPERIMENTAL_DAGGER_RUNNER_HOST. docker-container:// names the runtime that runs the
   * engine, where container:// would let the CLI pick podman on runners that have both.
   */
  runnerHost: string
  reusedContainer: boolean
  /**
   * Set when an engine of that name was running on other settings or another image: it was stopped
   * and started anew on the same state volume. The line to log, which says whether it stopped cleanly.
   */
  replaced?: string
  /**
   * Set when the engine threw away the state it found at start-up (an unclean stop before, a
   * schema change, a failed import): the reason it gave. The run is then cold whatever was restored.
   */
  discardedState?: string
}

/** The engine logs this once its API listens: everything it does to its state at start-up is done by then. */
const SERVING = /msg="running server on [^"]*engine\.sock"/
/** The engine's own words when it resets its state (dagql/cache.go, engine/server/server.go at v0.21). */
const STATE_RESET =
  /msg="local cache state invalid; resetting worker and dagql persistence state"(?:.*?\breason=("[^"]*"|\S+))?/

/** The reason the engine gave for discarding its state at start-up, if it did, from its log. */
export function discardedStateReason(log: string): string | undefined {
  const reset = STATE_RESET.exec(log)
  if (!reset) return undefined
  return reset[1]?.replace(/^"|"$/g, '') || 'no reason given'
}

export async function startEngine(options: StartEngineOptions): Promise<StartedEngine> {
  const {
    image,
    names,
    engineConfig,
    readyTimeoutMs = 60_000,
    stopTimeoutSeconds = DEFAULT_STOP_TIMEOUT_SECONDS
  } = options
  const { container, volume } = names
  const runnerHost = `docker-container://${container}`
  await assertDockerReachable()
  const imageId = options.imageId ?? (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', image])).trim()

  // The flags the Dagger CLI itself uses for its engine container, except that `--restart always`
  // is set once the engine serves: a restart during start-up would hide its exit code.
  const runFlags = [
    '--privileged',
    // Any `docker stop` without -t (another step, the daemon's own shutdown) gets the same grace
    // period as ours, instead of Docker's 10 s and a SIGKILL that wipes the cache.
    '--stop-timeout',
    String(stopTimeoutSeconds),
    '--restart',
    'no',
    '--volume',
    `${volume}:${ENGINE_STATE_DIR}`
  ]
  const spec = createHash('sha256').update(JSON.stringify({ runFlags, engineConfig })).digest('hex')

  let replaced: string | undefined
  const existing = await inspectContainer(container)
  if (existing?.running && !existing.restarting) {
    // Docker records the image each container was created from; the settings are in the label.
    const changes = [
      ...(existing.labels[SPEC_LABEL] === spec ? [] : ['another engine.json or other run flags']),
      ...(existing.image === imageId ? [] : [`another image (${existing.image.slice(0, 19)})`])
    ]
    if (changes.length === 0) return { runnerHost, reusedContainer: true }
    // The engine reads engine.json only as it starts. Stopped as post stops it, so that the new
    // engine finds a state closed cleanly rather than wiping it.
    const stop = await stopEngine({ container, timeoutSeconds: stopTimeoutSeconds })
    const how = stop.clean
      ? 'stopped it cleanly'
      : `stopped it, not cleanly (${stop.reason ?? `exit code ${stop.exitCode}`}),`
    replaced = `The engine ${container} was running with ${changes.join(' and ')}: ${how} and started it again on the same state volume`
  } else if (existing) {
    await removeContainer(container, existing, stopTimeoutSeconds)
  }

  await dockerOk(['volume', 'create', '--label', ENGINE_LABEL, volume])
  await dockerOk([
    'create',
    '--name',
    container,
    '--label',
    ENGINE_LABEL,
    '--label',
    `${SPEC_LABEL}=${spec}`,
    '--label',
    `${IMAGE_LABEL}=${image}`,
    ...runFlags,
    // By ID: a tag that moves meanwhile (another runner's pull) must not put another build on a
    // state keyed to this one.
    imageId
  ])
  // Streamed through the CLI, so the file never needs a path the daemon can see: the file and the
  // directory holding it, unpacked into that directory's parent.
  const configDir = posix.dirname(ENGINE_CONFIG_PATH)
  const configTar = tarArchive([
    { path: `${posix.basename(configDir)}/`, mode: 0o755 },
    {
      path: posix.join(posix.basename(configDir), posix.basename(ENGINE_CONFIG_PATH)),
      mode: 0o644,
      content: engineConfig
    }
  ])
  await dockerOk(['cp', '-', `${container}:${posix.dirname(configDir)}`], { input: configTar })
  await dockerOk(['start', container])

  const ready = await waitUntilServing(container, readyTimeoutMs)
  if ('failure' in ready) {
    const logTail = await containerLogTail(container, 30)
    await removeContainer(container, await inspectContainer(container), stopTimeoutSeconds)
    throw new Error(
      `The Dagger engine (container ${container}, image ${image}) failed to start: ${ready.failure}. Last lines of its log:\n${logTail}`
    )
  }
  await dockerOk(['update', '--restart', 'always', container])
  const discardedState = discardedStateReason(ready.log)
  return {
    runnerHost,
    reusedContainer: false,
    ...(replaced ? { replaced } : {}),
    ...(discardedState ? { discardedState } : {})
  }
}

/** Polls until the engine's log says its API is served (then returns that log), or says what went wrong. */
async function waitUntilServing(
  container: string,
  readyTimeoutMs: number
): Promise<{ log: string } | { failure: string }> {
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    const state = await inspectContainer(container)
    if (!state) return { failure: 'the container disappeared' }
    if (!state.running && state.status !== 'created') return { failure: `it exited with code ${state.exitCode}` }
    if (state.running) {
      const log = await containerLog(container)
      if (SERVING.test(log)) return { log }
    }
    if (Date.now() > deadline) {
      return { failure: `it did not serve its API within ${readyTimeoutMs} ms (status ${state.status})` }
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Stops (gracefully, if it still runs) and removes a container; its volume stays. */
async function removeContainer(
  container: string,
  state: ContainerState | null,
  stopTimeoutSeconds: number
): Promise<void> {
  if (!state) return
  // A graceful stop: a killed engine wipes its state on the next start.
  if (state.running || state.restarting) await dockerOk(['stop', '-t', String(stopTimeoutSeconds), container])
  await dockerOk(['rm', container])
}

export interface StopEngineOptions {
  container: string
  timeoutSeconds: number
}

export interface StoppedEngine {
  /** The engine exited by itself with code 0 after SIGTERM: its state is consistent and worth saving. */
  clean: boolean
  exitCode: number | null
  durationMs: number
  reason?: string
}

const SIGKILL_EXIT_CODE = 128 + 9

/**
 * Always `docker stop -t <timeout>`: SIGTERM, and SIGKILL only when the engine outlives the
 * timeout. Then removes the stopped container and keeps the volume with the state.
 */
export async function stopEngine({ container, timeoutSeconds }: StopEngineOptions): Promise<StoppedEngine> {
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 0) {
    throw new RangeError(`timeoutSeconds must be a whole number of seconds, got ${timeoutSeconds}`)
  }
  await assertDockerReachable()
  const before = await inspectContainer(container)
  if (!before) {
    return { clean: false, exitCode: null, durationMs: 0, reason: `no engine container named ${container}` }
  }
  const startedAt = Date.now()
  const stopped = await docker(['stop', '-t', String(timeoutSeconds), container])
  const durationMs = Date.now() - startedAt
  const after = await inspectContainer(container)
  if (!after) {
    // Removed by someone else meanwhile (a Dagger CLI provisioning its own engine removes every
    // other dagger-engine-* container): killed, so its state is not one to save.
    return {
      clean: false,
      exitCode: null,
      durationMs,
      reason: 'the engine container was removed by something else while it ran'
    }
  }
  if (stopped.exitCode !== 0) throw new DockerCommandError(['stop', '-t', String(timeoutSeconds), container], stopped)
  const exitCode = after.exitCode
  await dockerOk(['rm', container])

  if (!before.running) {
    return {
      clean: false,
      exitCode,
      durationMs,
      reason: `the engine was not running (status ${before.status}, exit code ${before.exitCode})`
    }
  }
  if (after?.oomKilled) {
    return { clean: false, exitCode, durationMs, reason: 'the kernel killed the engine (out of memory)' }
  }
  if (exitCode === 0) return { clean: true, exitCode, durationMs }
  if (exitCode === SIGKILL_EXIT_CODE) {
    // docker stop only sends SIGKILL once the timeout has passed; an earlier one came from elsewhere.
    const reason =
      durationMs >= timeoutSeconds * 1000
        ? `the engine did not exit within ${timeoutSeconds} s of SIGTERM, so Docker killed it`
        : 'the engine was killed (SIGKILL)'
    return { clean: false, exitCode, durationMs, reason }
  }
  return { clean: false, exitCode, durationMs, reason: `the engine exited with code ${exitCode} on SIGTERM` }
}

/**
 * Whether the daemon already holds this engine's state (a self-hosted runner that ran an earlier
 * job): the volume exists and has the engine's dagql-cache.db. The volume is read through a
 * container that is created and never started, so no shell or tool in the image is assumed.
 */
export async function volumeHasState({ volume, image }: { volume: string; image: string }): Promise<boolean> {
  await assertDockerReachable()
  if (!(await volumeExists(volume))) return false
  const probe = `${volume}-probe-${process.pid}-${Date.now()}`
  await dockerOk(['create', '--name', probe, '--volume', `${volume}:${ENGINE_STATE_DIR}:ro`, image])
  try {
    const copy = await docker(['cp', `${probe}:${ENGINE_STATE_DIR}/dagql-cache.db`, '-'], { discardStdout: true })
    return copy.exitCode === 0
  } finally {
    await dockerOk(['rm', probe])
  }
}

/** Discards the engine's state. A missing volume is not an error; one in use is. */
export async function removeVolume(volume: string): Promise<void> {
  await assertDockerReachable()
  // A state helper still on its way out would hold the volume.
  await helpersRemoved()
  const args = ['volume', 'rm', volume]
  const result = await docker(args)
  if (result.exitCode !== 0 && !/no such volume/i.test(result.stderr)) throw new DockerCommandError(args, result)
}
