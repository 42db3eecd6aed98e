// A read-only image registry on loopback, enough for `docker pull`: the Docker daemon treats
// 127.0.0.0/8 as an insecure registry, so it falls back to plain HTTP. Images are copied in from the
// daemon itself (`docker save`), so a test can move a tag and see whether the action pulls again.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { x as extract } from 'tar'

const run = promisify(execFile)
const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'

export interface Registry {
  /** host:port, the first component of an image reference. */
  host: string
  /** Serves the daemon's `image` as `repository:tag` (replacing what the tag pointed at); resolves with the manifest digest. */
  push(image: string, repository: string, tag: string): Promise<string>
  /** Every request as "METHOD path", in order. */
  requests: string[]
  close(): Promise<void>
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

interface SavedManifest {
  Config: string
  Layers: string[]
}

export async function startRegistry(): Promise<Registry> {
  const blobs = new Map<string, { bytes: Buffer; type: string }>()
  const tags = new Map<string, string>()
  const requests: string[] = []

  const answer = (request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method} ${request.url}`)
    const url = request.url ?? ''
    const send = (status: number, body: Buffer, headers: Record<string, string> = {}) => {
      response.writeHead(status, {
        'Docker-Distribution-API-Version': 'registry/2.0',
        'Content-Length': String(body.length),
        ...headers
      })
      response.end(request.method === 'HEAD' ? undefined : body)
    }
    if (url === '/v2/') return send(200, Buffer.from('{}'), { 'Content-Type': 'application/json' })
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url)
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url)
    const digest = manifest
      ? manifest[2].startsWith('sha256:')
        ? manifest[2]
        : tags.get(`${manifest[1]}:${manifest[2]}`)
      : blob?.[2]
    const found = digest ? blobs.get(digest) : undefined
    if (!digest || !found) {
      return send(
        404,
        Buffer.from(JSON.stringify({ errors: [{ code: manifest ? 'MANIFEST_UNKNOWN' : 'NOT_FOUND' }] })),
        {
          'Content-Type': 'application/json'
        }
      )
    }
    return send(200, found.bytes, { 'Content-Type': found.type, 'Docker-Content-Digest': digest })
  }

  const server = createServer(answer)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    host,
    requests,
    async push(image, repository, tag) {
      const dir = await mkdtemp(path.join(tmpdir(), 'gda-registry-'))
      try {
        await run('docker', ['save', '--output', path.join(dir, 'image.tar'), image])
        await extract({ file: path.join(dir, 'image.tar'), cwd: dir })
        const [saved] = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as SavedManifest[]
        const config = await readFile(path.join(dir, saved.Config))
        const layers = await Promise.all(
          saved.Layers.map(async layer => gzipSync(await readFile(path.join(dir, layer))))
        )
        const configType = 'application/vnd.docker.container.image.v1+json'
        const layerType = 'application/vnd.docker.image.rootfs.diff.tar.gzip'
        blobs.set(digestOf(config), { bytes: config, type: configType })
        for (const layer of layers) blobs.set(digestOf(layer), { bytes: layer, type: layerType })
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MANIFEST_TYPE,
            config: { mediaType: configType, size: config.length, digest: digestOf(config) },
            layers: layers.map(layer => ({ mediaType: layerType, size: layer.length, digest: digestOf(layer) }))
          })
        )
        const manifestDigest = digestOf(manifest)
        blobs.set(manifestDigest, { bytes: manifest, type: MANIFEST_TYPE })
        tags.set(`${repository}:${tag}`, manifestDigest)
        return manifestDigest
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        // The daemon keeps its connections open; a closed registry must refuse the next pull at once.
        server.closeAllConnections()
      })
  }
}
