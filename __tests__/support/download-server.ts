// A stand-in for dl.dagger.io on loopback: fake but real CLI releases (tar.gz archives holding a
// `dagger` shell script and LICENSE, with a sha256sum-format checksums.txt), served from a directory
// by node:http, with every request recorded and faults on demand.

import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface FakeReleaseOptions {
  /** Versions to publish, `X.Y.Z`. */
  versions: string[]
  /** What `versions/latest` answers; the last of `versions` when omitted. */
  latest?: string
  /**
   * `<os>_<arch>` pairs in release naming; linux and darwin on amd64 and arm64 when omitted.
   * `windows_*` archives are zips (made with `zip`) holding `dagger.exe`, a shell script like the others.
   */
  platforms?: string[]
}

/** What the fake `dagger version` prints, so tests can tell which archive was installed. */
export function fakeVersionLine(version: string, platform: string): string {
  return `dagger v${version} (fake CLI for tests) ${platform.replace('_', '/')}`
}

/** The release platform name of this machine, e.g. `linux_amd64`. */
export function hostReleasePlatform(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  return `${os}_${arch}`
}

/**
 * Writes `<root>/versions/latest`, `<root>/releases/<v>/dagger_v<v>_<os>_<arch>.tar.gz` (`.zip` on windows)
 * and `<root>/releases/<v>/checksums.txt`,
 * laid out like dl.dagger.io/dagger. Returns the checksums.txt text of each version.
 */
export async function writeFakeReleases(root: string, opts: FakeReleaseOptions): Promise<Map<string, string>> {
  const platforms = opts.platforms ?? ['linux_amd64', 'linux_arm64', 'darwin_amd64', 'darwin_arm64']
  const checksumsByVersion = new Map<string, string>()
  await mkdir(path.join(root, 'versions'), { recursive: true })
  await writeFile(path.join(root, 'versions', 'latest'), `${opts.latest ?? opts.versions.at(-1)}\n`)
  const staging = await mkdtemp(path.join(tmpdir(), 'fake-dagger-'))
  try {
    for (const version of opts.versions) {
      const releaseDir = path.join(root, 'releases', version)
      await mkdir(releaseDir, { recursive: true })
      const lines: string[] = []
      for (const platform of platforms) {
        const content = path.join(staging, `${version}_${platform}`)
        const windows = platform.startsWith('windows_')
        const binary = windows ? 'dagger.exe' : 'dagger'
        await mkdir(content)
        await writeFile(path.join(content, binary), `#!/bin/sh\necho '${fakeVersionLine(version, platform)}'\n`)
        await chmod(path.join(content, binary), 0o755)
        await writeFile(path.join(content, 'LICENSE'), 'Apache License 2.0 (test fixture)\n')
        const archiveName = `dagger_v${version}_${platform}.${windows ? 'zip' : 'tar.gz'}`
        const archive = path.join(releaseDir, archiveName)
        if (windows) await run('zip', ['-q', archive, binary, 'LICENSE'], { cwd: content })
        else await run('tar', ['-czf', archive, '-C', content, binary, 'LICENSE'])
        const digest = createHash('sha256')
          .update(await readFile(archive))
          .digest('hex')
        lines.push(`${digest}  ${archiveName}`)
      }
      const checksums = `${lines.join('\n')}\n`
      await writeFile(path.join(releaseDir, 'checksums.txt'), checksums)
      checksumsByVersion.set(version, checksums)
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return checksumsByVersion
}

export interface RecordedRequest {
  method: string
  path: string
}

export interface CannedResponse {
  status: number
  body?: string
  /** How many requests get this answer before the real file is served again; every one when omitted. */
  times?: number
}

export interface DownloadServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string
  /** Every request received, in order. */
  requests: RecordedRequest[]
  /** Answers every request whose path matches with `response` instead of the file. */
  respond(match: string | RegExp, response: CannedResponse): void
  /** Serves checksums.txt files with every digest changed, so no archive matches its entry. */
  serveWrongChecksums(): void
  /** Drops the recorded requests and every fault. */
  reset(): void
  close(): Promise<void>
}

export async function startDownloadServer(directory: string): Promise<DownloadServer> {
  const root = path.resolve(directory)
  const requests: RecordedRequest[] = []
  const canned: Array<{ match: string | RegExp; response: CannedResponse }> = []
  let wrongChecksums = false

  const answer = async (urlPath: string, res: ServerResponse, headOnly: boolean): Promise<void> => {
    const hit = canned.find(({ match }) => (typeof match === 'string' ? match === urlPath : match.test(urlPath)))
    if (hit) {
      if (hit.response.times !== undefined && --hit.response.times <= 0) canned.splice(canned.indexOf(hit), 1)
      return send(res, hit.response.status, hit.response.body ?? `canned ${hit.response.status}\n`, headOnly)
    }
    const file = path.join(root, path.normalize(urlPath))
    const info = file.startsWith(root + path.sep) ? await stat(file).catch(() => undefined) : undefined
    if (!info?.isFile()) return send(res, 404, 'not found\n', headOnly)
    if (wrongChecksums && urlPath.endsWith('/checksums.txt')) {
      return send(res, 200, flipDigests(await readFile(file, 'utf8')), headOnly)
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': info.size })
    if (headOnly) return void res.end()
    await pipeline(createReadStream(file), res)
  }

  const server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://loopback').pathname
    requests.push({ method: req.method ?? '', path: urlPath })
    answer(urlPath, res, req.method === 'HEAD').catch(() => res.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond: (match, response) => void canned.push({ match, response: { ...response } }),
    serveWrongChecksums: () => void (wrongChecksums = true),
    reset: () => {
      requests.length = 0
      canned.length = 0
      wrongChecksums = false
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close(err => (err ? reject(err) : resolve()))
      })
  }
}

function send(res: ServerResponse, status: number, body: string, headOnly: boolean): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
  res.end(headOnly ? undefined : body)
}

/** Replaces each digest with another valid-looking one (each hex digit shifted by one). */
function flipDigests(checksums: string): string {
  return checksums.replace(/^[0-9a-f]{64}/gm, digest =>
    digest.replace(/[0-9a-f]/g, d => ((parseInt(d, 16) + 1) % 16).toString(16))
  )
}
