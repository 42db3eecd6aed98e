// The engine's own configuration (/etc/dagger/engine.json). Its garbage collector is what keeps the
// state, and therefore the cached archive, under cache-max-size; the `engine-config` input adds the
// rest (registry mirrors, private CAs, insecure registries, log level) for GHES, corporate mirrors
// and air-gapped runners (checked in src/inputs/engine-config.ts).

export const ENGINE_CONFIG_PATH = '/etc/dagger/engine.json'
/** Where the engine keeps its whole state: the directory the state volume is mounted on. */
export const ENGINE_STATE_DIR = '/var/lib/dagger'
/**
 * How long the engine gets to close its state after SIGTERM: the SQLite persist and a syncfs take
 * seconds when idle and are bounded by the engine's own 5 minutes; a SIGKILL before that wipes it.
 */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 300

/** The part of engine.json a user may set (parseEngineConfig checks it): any field but the GC limits. */
export type EngineConfigOverrides = Record<string, unknown>

export interface EngineConfigOptions {
  /** Upper bound for the engine's state on disk, in bytes. */
  maxUsedSpaceBytes: number
  /** The `engine-config` input, merged over the action's own settings. */
  overrides?: EngineConfigOverrides
}

export function engineConfigJson({ maxUsedSpaceBytes, overrides = {} }: EngineConfigOptions): string {
  if (!Number.isSafeInteger(maxUsedSpaceBytes) || maxUsedSpaceBytes <= 0) {
    throw new RangeError(`maxUsedSpaceBytes must be a positive whole number of bytes, got ${maxUsedSpaceBytes}`)
  }
  const { gc: userGc, ...rest } = overrides as { gc?: Record<string, unknown> }
  const config = {
    ...rest,
    gc: {
      ...userGc,
      enabled: true,
      maxUsedSpace: maxUsedSpaceBytes,
      // The engine's default reserved space is a share of the disk (several GB on a runner), and
      // GC never goes below it, which would let the state outgrow maxUsedSpace.
      reservedSpace: Math.floor(maxUsedSpaceBytes / 10)
    }
  }
  return `${JSON.stringify(config, null, 2)}\n`
}
