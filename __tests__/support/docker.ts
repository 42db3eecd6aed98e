// Real Docker for the tests: the stand-in engine images (built locally, nothing can be pulled),
// the wrapper that turns --privileged into what the test daemon allows, and cleanup by name prefix.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const supportDir = path.dirname(fileURLToPath(import.meta.url))

export const WRAPPER_BIN_DIR = path.join(supportDir, 'bin')
export const TOOLBOX_IMAGE = 'go-dagger-action-test/toolbox:latest'
export const STAND_IN_IMAGE = 'go-dagger-action-test/engine:stand-in'
export const STAND_IN_FAILING_IMAGE = 'go-dagger-action-test/engine:stand-in-fails-start'
export const STAND_IN_IGNORING_SIGTERM_IMAGE = 'go-dagger-action-test/engine:stand-in-ignores-sigterm'
/** Every container and volume a test creates has a name containing this, so cleanup finds it. */
export const TEST_NAME_MARKER = 'gdatest'

/** Fails with a clear message when Docker cannot be used: these tests never skip. */
export async function ensureDocker(): Promise<void> {
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'])
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || String(error)
    throw new Error(`These tests need a running Docker daemon (.ci/run starts one): ${detail}`)
  }
}

let standInImagesBuilt: Promise<void> | undefined

/** Builds the toolbox image and the stand-in engine images once per test process. */
export function ensureStandInImages(): Promise<void> {
  standInImagesBuilt ??= (async () => {
    await ensureDocker()
    await run('bash', [path.join(supportDir, 'images', 'build-toolbox.sh')])
    const context = path.join(supportDir, 'images', 'stand-in-engine')
    const variants: Array<[string, string]> = [
      [STAND_IN_IMAGE, 'normal'],
      [STAND_IN_FAILING_IMAGE, 'fail-start'],
      [STAND_IN_IGNORING_SIGTERM_IMAGE, 'ignore-sigterm']
    ]
    for (const [tag, behaviour] of variants) {
      await run('docker', ['build', '--quiet', '--build-arg', `STAND_IN_BEHAVIOUR=${behaviour}`, '--tag', tag, context])
    }
  })()
  return standInImagesBuilt
}

/** process.env with the docker wrapper first on PATH. */
export function dockerWrapperEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, PATH: `${WRAPPER_BIN_DIR}${path.delimiter}${process.env.PATH ?? ''}` }
}

/** Runs `body` with these environment variables set (undefined removes one), then restores them. */
export async function withEnv<T>(vars: NodeJS.ProcessEnv, body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env }
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  try {
    return await body()
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
}

/** Runs `body` with the docker wrapper first on PATH (the product spawns `docker` from PATH). */
export function withDockerWrapper<T>(body: () => Promise<T>, extra: NodeJS.ProcessEnv = {}): Promise<T> {
  return withEnv({ ...extra, PATH: dockerWrapperEnv().PATH }, body)
}

/** A scope for engineNames() that is unique to this test and found by cleanup. */
export function testScope(label: string): string {
  return `${TEST_NAME_MARKER}-${process.pid}-${label}`
}

/** Removes the test containers (stopping them first) and volumes whose names contain `marker`. */
export async function removeTestEngines(marker = `${TEST_NAME_MARKER}-${process.pid}`): Promise<void> {
  const { stdout: containers } = await run('docker', ['ps', '-aq', '--filter', `name=${marker}`])
  const ids = containers.split('\n').filter(Boolean)
  if (ids.length > 0) {
    // Test containers only; the product never does this to an engine.
    await run('docker', ['rm', '--force', ...ids])
  }
  const { stdout: volumes } = await run('docker', ['volume', 'ls', '-q', '--filter', `name=${marker}`])
  await removeVolumes(volumes.split('\n').filter(Boolean))
}

/**
 * Removes volumes, first removing any container still using them: the product removes its state
 * helpers in the background, so one may still be on its way out (possibly from a step's process
 * that has already exited).
 */
export async function removeVolumes(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `volume=${name}`])
    const users = stdout.split('\n').filter(Boolean)
    // Already being removed by its owner: then only waiting helps.
    if (users.length > 0) await run('docker', ['rm', '--force', ...users]).catch(() => undefined)
    for (let attempt = 1; ; attempt++) {
      try {
        await run('docker', ['volume', 'rm', name])
        break
      } catch (error) {
        if (attempt >= 40 || !/in use/i.test(String((error as { stderr?: string }).stderr))) throw error
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
  }
}

/**
 * Runs a shell script in the toolbox image with the volume at /var/lib/dagger, with the
 * capabilities needed to read trusted.* xattrs, and returns its stdout.
 */
export async function inVolume(volume: string, script: string): Promise<string> {
  const { stdout } = await run(
    'docker',
    [
      'run',
      '--rm',
      '--cap-add',
      'SYS_ADMIN',
      '--volume',
      `${volume}:/var/lib/dagger`,
      TOOLBOX_IMAGE,
      'sh',
      '-c',
      script
    ],
    { maxBuffer: 64 * 1024 * 1024 }
  )
  return stdout
}

/**
 * One line per file of a state directory: path, type and mode, owner, size, allocated blocks,
 * link count, device numbers, symlink target, and every xattr. Hard links show as a shared
 * inode group. Sorted, so two listings of the same tree compare equal.
 */
export async function listState(volume: string, subdir = '.'): Promise<string[]> {
  const script = `cd /var/lib/dagger/${subdir} && find . -printf '%p|%M|%U:%G|%s|%n|%l|%i\\n' | sort | while IFS='|' read -r p mode owner size links target inode; do
    case "$mode" in c*|b*) dev=$(stat -c '%t:%T' "$p");; *) dev=-;; esac
    case "$mode" in -*) blocks=$(stat -c '%b' "$p");; *) blocks=-;; esac
    xattrs=$(getfattr -h -d -m - -e hex "$p" 2>/dev/null | grep -v '^#' | grep . | sort | tr '\\n' ' ')
    echo "$p|$mode|$owner|$size|$blocks|$links|$dev|$target|$inode|$xattrs"
  done`
  const lines = (await inVolume(volume, script)).split('\n').filter(Boolean)
  // Inode numbers differ between trees; keep only which entries share one (hard links).
  const groups = new Map<string, number>()
  return lines.map(line => {
    const fields = line.split('|')
    const inode = fields[8]
    if (!groups.has(inode)) groups.set(inode, groups.size)
    fields[8] = `inode#${groups.get(inode)}`
    return fields.join('|')
  })
}
