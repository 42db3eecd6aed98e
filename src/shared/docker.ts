// A small typed wrapper over the docker CLI. The action talks to whatever daemon the CLI is
// configured for (DOCKER_HOST, contexts), so it works inside a container that shares the host's
// socket: nothing here touches a host path on the daemon's side.
import { spawn } from 'node:child_process'
import { open } from 'node:fs/promises'

export interface DockerResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface DockerOptions {
  /**
   * Bytes written to the command's stdin (e.g. a tar stream for `docker cp -`), or a host file
   * streamed to it without passing through this process.
   */
  input?: string | Uint8Array | { file: string }
  /** A host file that receives stdout directly (the Docker CLI writes it). */
  output?: { file: string }
  /** Discard stdout instead of collecting it (large `docker cp` streams). */
  discardStdout?: boolean
}

/** Chunks of stderr kept: errors report its first line or its tail, and a tar warning per file must not grow memory. */
const STDERR_CHUNKS_KEPT = 64

/** Docker is missing or its daemon cannot be reached: one line that says which. */
export class DockerUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DockerUnavailableError'
  }
}

export class DockerCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: DockerResult
  ) {
    super(`docker ${args.join(' ')} failed with exit code ${result.exitCode}: ${firstLine(result.stderr)}`)
    this.name = 'DockerCommandError'
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

/** Runs `docker ...args` and resolves with its exit code and output, whatever the exit code. */
export async function docker(args: readonly string[], options: DockerOptions = {}): Promise<DockerResult> {
  const { input } = options
  const inputFile = input && typeof input === 'object' && 'file' in input ? await open(input.file, 'r') : undefined
  const outputFile = options.output ? await open(options.output.file, 'w') : undefined
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn('docker', args, {
        // Passed explicitly: a sandboxed process.env (as under jest) is otherwise not what spawn sees.
        env: process.env,
        stdio: [
          inputFile ? inputFile.fd : 'pipe',
          outputFile ? outputFile.fd : options.discardStdout ? 'ignore' : 'pipe',
          'pipe'
        ]
      })
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr.push(chunk)
        if (stderr.length > STDERR_CHUNKS_KEPT) stderr.splice(1, stderr.length - STDERR_CHUNKS_KEPT)
      })
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new DockerUnavailableError(
                'Docker is not installed: no docker CLI on PATH (the Dagger engine runs in Docker)'
              )
            : error
        )
      })
      // EPIPE when docker exits before reading all of stdin; its exit code tells the story.
      child.stdin?.on('error', () => {})
      child.stdin?.end(inputFile ? undefined : ((input as string | Uint8Array | undefined) ?? ''))
      child.on('close', (code, signal) => {
        resolve({
          exitCode: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8')
        })
      })
    })
  } finally {
    await inputFile?.close()
    await outputFile?.close()
  }
}

/** Runs `docker ...args`, returns its stdout, and throws a DockerCommandError when it fails. */
export async function dockerOk(args: readonly string[], options: DockerOptions = {}): Promise<string> {
  const result = await docker(args, options)
  if (result.exitCode !== 0) throw new DockerCommandError(args, result)
  return result.stdout
}

export async function assertDockerReachable(): Promise<void> {
  const result = await docker(['version', '--format', '{{.Server.Version}}'])
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.exitCode}`
    throw new DockerUnavailableError(`Cannot reach the Docker daemon: ${reason}`)
  }
}

export interface ContainerState {
  /** The ID of the image the container was created from. */
  image: string
  labels: Record<string, string>
  status: string
  running: boolean
  restarting: boolean
  oomKilled: boolean
  exitCode: number
  startedAt: string
  finishedAt: string
  restartCount: number
}

interface InspectedContainer {
  Image: string
  Config: { Labels: Record<string, string> | null }
  State: {
    Status: string
    Running: boolean
    Restarting: boolean
    OOMKilled: boolean
    ExitCode: number
    StartedAt: string
    FinishedAt: string
  }
  RestartCount: number
}

/** The container's state, or null when no container has that name. */
export async function inspectContainer(name: string): Promise<ContainerState | null> {
  const args = ['container', 'inspect', name]
  const result = await docker(args)
  if (result.exitCode !== 0) {
    if (/no such (container|object)/i.test(result.stderr)) return null
    throw new DockerCommandError(args, result)
  }
  const [inspected] = JSON.parse(result.stdout) as InspectedContainer[]
  const { State: state } = inspected
  return {
    image: inspected.Image,
    labels: inspected.Config.Labels ?? {},
    status: state.Status,
    running: state.Running,
    restarting: state.Restarting,
    oomKilled: state.OOMKilled,
    exitCode: state.ExitCode,
    startedAt: state.StartedAt,
    finishedAt: state.FinishedAt,
    restartCount: inspected.RestartCount
  }
}

/** A container's whole log, stdout then stderr ('' when the daemon has none for it). */
export async function containerLog(name: string): Promise<string> {
  const result = await docker(['logs', name])
  return result.exitCode === 0 ? `${result.stdout}${result.stderr}` : ''
}

/**
 * The last `lines` lines the container wrote to stdout and stderr, in order: docker logs splits
 * the two streams, so both are read with timestamps and merged.
 */
export async function containerLogTail(name: string, lines = 30): Promise<string> {
  const result = await docker(['logs', '--timestamps', '--tail', String(lines), name])
  if (result.exitCode !== 0) return `(no log: ${firstLine(result.stderr)})`
  const stamped = [result.stdout, result.stderr]
    .flatMap(text => text.split('\n'))
    .filter(line => line !== '')
    .map(line => {
      const space = line.indexOf(' ')
      return { at: line.slice(0, space), text: line.slice(space + 1) }
    })
  // RFC 3339 timestamps with nanoseconds sort as strings once padded to the same width.
  const key = (at: string) => at.replace(/(\.\d+)?Z$/, fraction => (fraction.slice(0, -1) || '.').padEnd(10, '0') + 'Z')
  stamped.sort((a, b) => (key(a.at) < key(b.at) ? -1 : key(a.at) > key(b.at) ? 1 : 0))
  return stamped
    .slice(-lines)
    .map(line => line.text)
    .join('\n')
}

export async function volumeExists(name: string): Promise<boolean> {
  const args = ['volume', 'inspect', name]
  const result = await docker(args)
  if (result.exitCode === 0) return true
  if (/no such volume/i.test(result.stderr)) return false
  throw new DockerCommandError(args, result)
}

/**
 * Pulls the image unless the daemon already has it, and returns its local ID (the digest of its
 * config): what a tag pointed at when it was pulled.
 */
export async function ensureImage(image: string): Promise<string> {
  const present = await localImageId(image)
  if (present !== undefined) return present
  await dockerOk(['pull', '--quiet', image])
  return (await dockerOk(imageInspect(image))).trim()
}

export interface PulledImage {
  /** The image's local ID: the pulled one, or the one the daemon already had. */
  id: string
  /** The daemon has the image but not from this repository's registry (built or loaded here): not pulled. */
  localBuild?: boolean
  /** The ID the tag pointed at before, when the pull moved it. */
  replaced?: string
  /** Why the registry could not be asked (the daemon had the image, so this is no error). */
  checkFailed?: string
}

/**
 * Pulls the image even when the daemon has it, for a tag that can move; an unchanged image costs
 * the registry one manifest request. A registry that cannot be reached fails only an image the
 * daemon does not have: otherwise the local one is used, and the reason returned. An image the
 * daemon did not pull from that repository (built or loaded here) is left as it is: a pull would
 * ask a registry that may not know it, or replace it with another image of the same name.
 */
export async function pullImage(image: string): Promise<PulledImage> {
  const local = await docker(['image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', image])
  let before: string | undefined
  if (local.exitCode === 0) {
    const [id, digests] = splitOnce(local.stdout.trim(), ' ')
    const repository = normalRepository(image)
    const pulledFromIt = (JSON.parse(digests || '[]') as string[] | null)?.some(
      digest => normalRepository(digest) === repository
    )
    if (!pulledFromIt) return { id, localBuild: true }
    before = id
  }
  const args = ['pull', '--quiet', image]
  const pulled = await docker(args)
  if (pulled.exitCode !== 0) {
    if (before === undefined) throw new DockerCommandError(args, pulled)
    return { id: before, checkFailed: firstLine(pulled.stderr) || `docker pull exited with code ${pulled.exitCode}` }
  }
  const id = (await dockerOk(imageInspect(image))).trim()
  return { id, ...(before !== undefined && before !== id ? { replaced: before } : {}) }
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)]
}

/**
 * The repository of an image reference, spelled one way: Docker lists `ubuntu@sha256:…` for what
 * `docker.io/library/ubuntu:24.04` pulled.
 */
export function normalRepository(reference: string): string {
  let name = reference.replace(/@sha256:[0-9a-f]{64}$/, '')
  const tag = name.lastIndexOf(':')
  if (tag > name.lastIndexOf('/')) name = name.slice(0, tag)
  const [first, ...rest] = name.split('/')
  const hasRegistry = rest.length > 0 && (/[.:]/.test(first) || first === 'localhost')
  let registry = hasRegistry ? first : 'docker.io'
  let path = hasRegistry ? rest.join('/') : name
  if (registry === 'index.docker.io') registry = 'docker.io'
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`
  return `${registry}/${path}`
}

function imageInspect(image: string): string[] {
  return ['image', 'inspect', '--format', '{{.Id}}', image]
}

/** The local ID (the digest of its config) of an image the daemon has, or undefined. */
async function localImageId(image: string): Promise<string | undefined> {
  const present = await docker(imageInspect(image))
  return present.exitCode === 0 ? present.stdout.trim() : undefined
}

export interface TarEntry {
  /** Relative path inside the archive; a trailing '/' makes a directory. */
  path: string
  content?: string
  mode: number
}

/** A ustar archive of small files and directories, owned by root, for `docker cp -`. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = []
  const mtime = Math.floor(Date.now() / 1000)
  for (const entry of entries) {
    const isDir = entry.path.endsWith('/')
    const body = Buffer.from(entry.content ?? '', 'utf8')
    if (Buffer.byteLength(entry.path) > 99) throw new Error(`tar path too long: ${entry.path}`)
    const header = Buffer.alloc(512)
    const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'utf8')
    const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0')
    field(0, 100, entry.path)
    field(100, 8, octal(entry.mode, 8))
    field(108, 8, octal(0, 8))
    field(116, 8, octal(0, 8))
    field(124, 12, octal(isDir ? 0 : body.length, 12))
    field(136, 12, octal(mtime, 12))
    field(148, 8, ' '.repeat(8))
    field(156, 1, isDir ? '5' : '0')
    field(257, 6, 'ustar')
    field(263, 2, '00')
    field(265, 32, 'root')
    field(297, 32, 'root')
    const checksum = header.reduce((sum, byte) => sum + byte, 0)
    field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `)
    blocks.push(header)
    if (!isDir) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}
