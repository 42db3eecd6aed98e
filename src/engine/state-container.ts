// The only door to the engine's state: a helper container on the same Docker daemon with the state
// volume mounted. Archives never touch a host path on the daemon's side (the action may run in a
// container that shares the Docker socket, and as a user who cannot read root-owned state); they
// leave the helper through `docker cp` and enter it through `docker exec -i` stdin.
import { spawn } from 'node:child_process'
import { open } from 'node:fs/promises'
import { FIND_FORMAT, STATE_MOUNT } from './state-listing.js'

/** Upper bound on a helper's life should the action die without removing it: a job's maximum. */
const HELPER_LIFETIME_SECONDS = 6 * 60 * 60
const STDERR_TAIL_BYTES = 2000

export class HelperCommandError extends Error {
  constructor(what: string, exitCode: number, stderr: string) {
    super(`${what} failed with exit code ${exitCode}: ${stderr.trim().slice(-STDERR_TAIL_BYTES) || '(no output)'}`)
    this.name = 'HelperCommandError'
  }
}

interface RunOptions {
  /** Bytes for stdin, or a host file streamed to stdin without passing through this process. */
  input?: Buffer | { file: string }
}

async function runDocker(args: readonly string[], options: RunOptions = {}): Promise<Buffer> {
  const inputFile = options.input && !Buffer.isBuffer(options.input) ? await open(options.input.file, 'r') : undefined
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const child = spawn('docker', args, { stdio: [inputFile ? inputFile.fd : 'pipe', 'pipe', 'pipe'] })
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr.push(chunk)
        // Only the tail is ever reported; a tar warning per file must not grow memory.
        if (stderr.length > 64) stderr.splice(0, stderr.length - 64)
      })
      child.on('error', reject)
      if (child.stdin) {
        child.stdin.on('error', () => {}) // EPIPE when the command exits early; its exit code tells.
        child.stdin.end(Buffer.isBuffer(options.input) ? options.input : undefined)
      }
      child.on('close', code => {
        if (code === 0) resolve(Buffer.concat(stdout))
        else reject(new HelperCommandError(`docker ${args.slice(0, 3).join(' ')}`, code ?? -1, Buffer.concat(stderr).toString('utf8')))
      })
    })
  } finally {
    await inputFile?.close()
  }
}

export interface TarOptions {
  acls: boolean
}

function attributeFlags(options: TarOptions): string[] {
  return ['--xattrs', '--xattrs-include=*', ...(options.acls ? ['--acls'] : []), '--numeric-owner']
}

/** One helper container for a whole save or restore: a `docker exec` costs far less than a `docker run`. */
export class StateHelper {
  private scratchCounter = 0

  private constructor(
    readonly id: string,
    readonly tar: TarOptions
  ) {}

  static async start(volume: string, image: string): Promise<StateHelper> {
    const id = (
      await runDocker([
        'run', '--detach', '--rm', '--network', 'none', '--log-driver', 'none',
        // trusted.* xattrs (overlay whiteouts and opaque dirs) can only be written with CAP_SYS_ADMIN.
        '--cap-add', 'SYS_ADMIN',
        '--volume', `${volume}:${STATE_MOUNT}`,
        '--entrypoint', 'sleep', image, String(HELPER_LIFETIME_SECONDS)
      ])
    ).toString('utf8').trim()
    const helper = new StateHelper(id, { acls: false })
    try {
      // Not every tar is built with ACL support; ask it once rather than fail every archive.
      await helper.exec(['tar', '--acls', '--create', '--file', '/dev/null', '--files-from', '/dev/null'])
      helper.tar.acls = true
    } catch {
      helper.tar.acls = false
    }
    return helper
  }

  exec(command: readonly string[], options: RunOptions = {}): Promise<Buffer> {
    return runDocker(['exec', ...(options.input ? ['--interactive'] : []), this.id, ...command], options)
  }

  /** The state's listing, paths relative to the state root ('.', './worker', ...). */
  listing(): Promise<Buffer> {
    return this.exec(['sh', '-c', `cd ${STATE_MOUNT} && exec find . -printf '${FIND_FORMAT}'`])
  }

  /** Writes a tar of `members` (NUL-separated on stdin) into the helper and returns its scratch path. */
  async createArchive(members: readonly string[], recursive: boolean): Promise<string> {
    const scratch = `/tmp/part-${++this.scratchCounter}.tar`
    await this.exec(
      [
        'tar', '--create', '--file', scratch, '--format=posix', '--pax-option=delete=atime,delete=ctime',
        ...attributeFlags(this.tar), '--sparse', '--directory', STATE_MOUNT,
        ...(recursive ? [] : ['--no-recursion']), '--null', '--files-from', '-'
      ],
      { input: nulList(members) }
    )
    return scratch
  }

  /** Moves a scratch file out of the helper to a host path (`docker cp` streams far faster than exec stdout). */
  async moveOut(scratch: string, hostPath: string): Promise<void> {
    await runDocker(['cp', `${this.id}:${scratch}`, hostPath])
    await this.exec(['rm', '-f', scratch])
  }

  /** Extracts a host archive into the state; with `members`, only those (and what lies under them). */
  async extract(hostArchive: string, members?: readonly string[]): Promise<void> {
    const extractArgs = [
      'tar', '--extract', '--file', '-', ...attributeFlags(this.tar), '--preserve-permissions', '--same-owner',
      '--directory', STATE_MOUNT
    ]
    if (!members) {
      await this.exec(extractArgs, { input: { file: hostArchive } })
      return
    }
    const list = `/tmp/members-${++this.scratchCounter}`
    await this.exec(['sh', '-c', 'cat > "$1"', 'sh', list], { input: nulList(members) })
    await this.exec([...extractArgs, '--null', '--files-from', list], { input: { file: hostArchive } })
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

  async remove(): Promise<void> {
    // A helper holds no state of its own; removing it forcibly loses nothing.
    await runDocker(['rm', '--force', this.id]).catch(() => undefined)
  }
}

function nulList(items: readonly string[]): Buffer {
  return Buffer.from(items.map(item => `${item}\0`).join(''), 'utf8')
}
