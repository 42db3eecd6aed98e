// The engine's own configuration (/etc/dagger/engine.json, schema in the dagger repository at
// docs/static/reference/engine.schema.json). Its garbage collector is what keeps the state, and
// therefore the cached archive, under cache-max-size.

export const ENGINE_CONFIG_PATH = '/etc/dagger/engine.json'

export interface EngineConfigOptions {
  /** Upper bound for the engine's state on disk, in bytes. */
  maxUsedSpaceBytes: number
}

export function engineConfigJson({ maxUsedSpaceBytes }: EngineConfigOptions): string {
  if (!Number.isSafeInteger(maxUsedSpaceBytes) || maxUsedSpaceBytes <= 0) {
    throw new RangeError(`maxUsedSpaceBytes must be a positive whole number of bytes, got ${maxUsedSpaceBytes}`)
  }
  const config = {
    gc: {
      enabled: true,
      maxUsedSpace: maxUsedSpaceBytes,
      // The engine's default reserved space is a share of the disk (several GB on a runner), and
      // GC never goes below it, which would let the state outgrow maxUsedSpace.
      reservedSpace: Math.floor(maxUsedSpaceBytes / 10)
    }
  }
  return `${JSON.stringify(config, null, 2)}\n`
}
