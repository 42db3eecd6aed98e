// The only door to the engine's state: a helper container on the same Docker daemon with the state
// volume mounted. Archives move between the helper and the host in one of two ways:
// - shared: the host directory that holds the part archives is bind-mounted into the helper, which
//   reads and writes them in place. Used only when a probe proves the daemon sees that directory
//   as this process does (the usual runner: action and daemon on one machine);
// - streamed: archives leave through `docker exec` stdout and enter through its stdin (the action
//   runs in a container sharing the Docker socket, a remote daemon, user-namespaced Docker...).
// Either way an archive never passes through this process: tar or the Docker CLI reads or writes the file.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { docker, type DockerOptions } from '../shared/docker.js'
import { FIND_FORMAT, STATE_MOUNT } from './listing.js'

/** Upper bound on a helper's life should the action die without removing it: a job's maximum. */
const HELPER_LIFETIME_SECONDS = 6 * 60 * 60
const STDERR_TAIL_BYTES = 2000
/** Where a shared exchange directory appears in the helper. */
const EXCHANGE_MOUNT = '/exchange'

export class HelperCommandError extends Error {
  constructor(what: string, exitCode: number, stderr: string) {
    super(`${what} failed with exit code ${exitCode}: ${stderr.trim().slice(-STDERR_TAIL_BYTES) || '(no output)'}`)
    this.name = 'HelperCommandError'
  }
}

type RunOptions = Pick<DockerOptions, 'input' | 'output'>

async function runDocker(args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await docker(args, options)
  if (result.exitCode !== 0)
    throw new HelperCommandError(`docker ${args.slice(0, 3).join(' ')}`, result.exitCode, result.stderr)
  return result.stdout
}

export interface TarOptions {
  acls: boolean
}

function attributeFlags(options: TarOptions): string[] {
  return ['--xattrs', '--xattrs-include=*', ...(options.acls ? ['--acls'] : []), '--numeric-owner']
}

const removals = new Set<Promise<void>>()

/** Resolves once every helper asked to go is gone, e.g. before the state volume is removed. */
export async function helpersRemoved(): Promise<void> {
  await Promise.all([...removals])
}

/** One helper container for a whole save or restore: a `docker exec` costs far less than a `docker run`. */
export class StateHelper {
  private scratchCounter = 0
  /** Not every tar is built with ACL support: asked once, alongside the first command, not before it. */
  private readonly tarOptions: Promise<TarOptions>

  private constructor(
    readonly id: string,
    /** The host directory the helper reads and writes archives in, when the daemon shares it. */
    readonly sharedDir: string | undefined
  ) {
    this.tarOptions = this.exec(['tar', '--acls', '--create', '--file', '/dev/null', '--files-from', '/dev/null']).then(
      () => ({ acls: true }),
      () => ({ acls: false })
    )
  }

  /**
   * Starts a helper on the volume. `exchangeDir` is the host directory archives go to and come from;
   * it is bind-mounted into the helper if the daemon sees it (a probe file proves both ways), and
   * the archives are streamed otherwise.
   */
  static async start(volume: string, image: string, exchangeDir?: string): Promise<StateHelper> {
    const runArgs = (mount: string[]) => [
      'run',
      '--detach',
      '--rm',
      '--network',
      'none',
      '--log-driver',
      'none',
      // trusted.* xattrs (overlay whiteouts and opaque dirs) can only be written with CAP_SYS_ADMIN.
      '--cap-add',
      'SYS_ADMIN',
      '--volume',
      `${volume}:${STATE_MOUNT}`,
      ...mount,
      '--entrypoint',
      'sleep',
      image,
      String(HELPER_LIFETIME_SECONDS)
    ]
    let id: string | undefined
    let sharedDir: string | undefined
    if (exchangeDir) {
      const dir = path.resolve(exchangeDir)
      await mkdir(dir, { recursive: true })
      // `--mount` (unlike `--volume`) refuses a source the daemon's host lacks instead of creating it there.
      id = await runDocker(runArgs(['--mount', `type=bind,source=${dir},target=${EXCHANGE_MOUNT}`])).then(
        out => out.trim(),
        () => undefined
      )
      if (id && (await sharesDirectory(id, dir))) sharedDir = dir
    }
    id ??= (await runDocker(runArgs([]))).trim()
    return new StateHelper(id, sharedDir)
  }

  exec(command: readonly string[], options: RunOptions = {}): Promise<string> {
    return runDocker(['exec', ...(options.input ? ['--interactive'] : []), this.id, ...command], options)
  }

  /**
   * The state's listing, paths relative to the state root ('.', './worker', ...). Through a shared
   * directory when there is one: megabytes of output cost far more through `docker exec`.
   */
  async listing(): Promise<string> {
    const find = `cd ${STATE_MOUNT} && find . -printf '${FIND_FORMAT}'`
    if (!this.sharedDir) return this.exec(['sh', '-c', find])
    const file = path.join(this.sharedDir, `listing-${++this.scratchCounter}`)
    try {
      await this.exec(['sh', '-c', `${find} > "$1"`, 'sh', this.sharedPath(file)!])
      return await readFile(file, 'utf8')
    } finally {
      await rm(file, { force: true })
    }
  }

  /** Writes a tar of `members` (relative to the state root) to `hostFile`, a file in the exchange directory. */
  async createArchive(members: readonly string[], recursive: boolean, hostFile: string): Promise<void> {
    const args = [
      'tar',
      '--create',
      '--file',
      this.sharedPath(hostFile) ?? '-',
      '--format=posix',
      '--pax-option=delete=atime,delete=ctime',
      ...attributeFlags(await this.tarOptions),
      '--sparse',
      '--directory',
      STATE_MOUNT,
      ...(recursive ? [] : ['--no-recursion']),
      '--null',
      '--files-from',
      '-'
    ]
    await this.exec(args, { input: nulList(members), ...(this.sharedDir ? {} : { output: { file: hostFile } }) })
  }

  /** Extracts a host archive into the state; with `members`, only those (and what lies under them). */
  async extract(hostArchive: string, members?: readonly string[]): Promise<void> {
    const extractArgs = [
      'tar',
      '--extract',
      ...attributeFlags(await this.tarOptions),
      '--preserve-permissions',
      '--same-owner',
      '--directory',
      STATE_MOUNT
    ]
    const shared = this.sharedPath(hostArchive)
    if (shared) {
      const selection = members ? ['--null', '--files-from', '-'] : []
      await this.exec([...extractArgs, '--file', shared, ...selection], members ? { input: nulList(members) } : {})
      return
    }
    const input = { file: hostArchive }
    if (!members) {
      await this.exec([...extractArgs, '--file', '-'], { input })
      return
    }
    // stdin carries the archive, so the member list goes to a file first.
    const list = `/tmp/members-${++this.scratchCounter}`
    await this.exec(['sh', '-c', 'cat > "$1"', 'sh', list], { input: nulList(members) })
    await this.exec([...extractArgs, '--file', '-', '--null', '--files-from', list], { input })
  }

  /** Creates the parent directories of these members, so parts can be extracted side by side. */
  async makeParents(members: readonly string[]): Promise<void> {
    const parents = [...new Set(members.map(member => member.slice(0, member.lastIndexOf('/'))).filter(Boolean))]
    if (parents.length === 0) return
    await this.exec(['sh', '-c', `cd ${STATE_MOUNT} && xargs -0 mkdir -p`], { input: nulList(parents) })
  }

  /** Empties the state: what a failed restore leaves, never half a state. */
  async wipe(): Promise<void> {
    await this.exec(['find', STATE_MOUNT, '-mindepth', '1', '-delete'])
  }

  /**
   * The Docker host's clock, as the volume's ctimes read it: the ctime of a file made now (in the
   * helper's own file system, so the state is untouched).
   */
  async clock(): Promise<string> {
    const out = await this.exec(['sh', '-c', 'touch /tmp/clock && exec find /tmp/clock -printf %C@'])
    return out.trim()
  }

  /**
   * Removes the helper in the background: tearing a container down can take a second, and nothing
   * waits on it but the removal of the volume (helpersRemoved). A helper holds no state of its own;
   * removing it forcibly loses nothing.
   */
  remove(): Promise<void> {
    const gone = runDocker(['rm', '--force', this.id]).then(
      () => undefined,
      () => undefined
    )
    removals.add(gone)
    void gone.finally(() => removals.delete(gone))
    return gone
  }

  /** The helper's path of a host file in the shared exchange directory; undefined when streaming. */
  private sharedPath(hostFile: string): string | undefined {
    if (!this.sharedDir) return undefined
    const relative = path.relative(this.sharedDir, path.resolve(hostFile))
    if (relative.startsWith('..') || path.isAbsolute(relative))
      throw new Error(`${hostFile} is outside the exchange directory ${this.sharedDir}`)
    return `${EXCHANGE_MOUNT}/${relative.split(path.sep).join('/')}`
  }
}

/**
 * Whether the helper's exchange mount is this process's directory: the helper must read a token
 * written here and write one this process can read (a daemon elsewhere, or root mapped to another
 * user by a user namespace, fails one or the other).
 */
async function sharesDirectory(id: string, dir: string): Promise<boolean> {
  const name = `.probe-${randomBytes(8).toString('hex')}`
  const token = randomBytes(16).toString('hex')
  try {
    await writeFile(path.join(dir, name), token)
    const seen = await runDocker([
      'exec',
      id,
      'sh',
      '-c',
      'cat "$1" && cat "$1" > "$1.back"',
      'sh',
      `${EXCHANGE_MOUNT}/${name}`
    ])
    return seen === token && (await readFile(path.join(dir, `${name}.back`), 'utf8')) === token
  } catch {
    return false
  } finally {
    await rm(path.join(dir, name), { force: true })
    await rm(path.join(dir, `${name}.back`), { force: true })
  }
}

function nulList(items: readonly string[]): Buffer {
  return Buffer.from(items.map(item => `${item}\0`).join(''), 'utf8')
}
