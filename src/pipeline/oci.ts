// Reads an OCI image layout tarball (what `Container.export` writes) on the host: per platform, the
// manifest digest and the image's size as a registry stores it (manifest + config + compressed
// layers). One streaming pass over the tarball; only JSON blobs (indexes, manifests, configs) are
// kept in memory, layers are counted by their tar header and never buffered.

import { createHash } from 'node:crypto'
import { list, type ReadEntry } from 'tar'
import { errorMessage } from '../shared/errors.js'

export interface ImageVariant {
  /** `os/arch[/variant]`, as in the `platforms` input. */
  platform: string
  /** The platform manifest's digest (`sha256:…`). */
  digest: string
  /** Bytes a registry stores for this platform: manifest, config and compressed layers. */
  size: number
}

export class OciLayoutError extends Error {
  constructor(tarball: string, reason: string, options?: ErrorOptions) {
    super(`cannot read the OCI image tarball ${tarball}: ${reason}`, options)
    this.name = 'OciLayoutError'
  }
}

interface Descriptor {
  mediaType?: string
  digest?: string
  size?: number
  platform?: { os?: string; architecture?: string; variant?: string }
  annotations?: Record<string, string>
}

interface IndexDocument {
  manifests?: Descriptor[]
}

interface ManifestDocument {
  config?: Descriptor
  layers?: Descriptor[]
}

interface ConfigDocument {
  os?: string
  architecture?: string
  variant?: string
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
])
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
])
// Registries refuse manifests above 4 MiB; a JSON blob larger than that is not one we need.
const MAX_JSON_BLOB = 4 * 1024 * 1024
const DIGEST = /^sha256:[0-9a-f]{64}$/

interface LayoutContents {
  /** index.json, when present. */
  index?: Buffer
  /** Every blob's size from its tar header, by digest. */
  blobSizes: Map<string, number>
  /** Blobs that start like JSON, by digest. */
  jsonBlobs: Map<string, Buffer>
}

function entryName(path: string): string {
  return path.replace(/^(\.\/)+/, '')
}

function blobDigest(name: string): string | undefined {
  const match = /^blobs\/(sha256)\/([0-9a-f]{64})$/.exec(name)
  return match ? `${match[1]}:${match[2]}` : undefined
}

/** Keeps an entry's bytes only when its first byte says JSON and it is small enough to be metadata. */
function collectJson(entry: ReadEntry, keep: (bytes: Buffer) => void): void {
  if (entry.size > MAX_JSON_BLOB) return
  const chunks: Buffer[] = []
  let isJson: boolean | undefined
  entry.on('data', (chunk: Buffer) => {
    isJson ??= /^\s*[{[]/.test(chunk.subarray(0, 64).toString('latin1'))
    if (isJson) chunks.push(chunk)
  })
  entry.on('end', () => {
    if (isJson) keep(Buffer.concat(chunks))
  })
}

async function readLayout(tarball: string): Promise<LayoutContents> {
  const contents: LayoutContents = { blobSizes: new Map(), jsonBlobs: new Map() }
  await list({
    file: tarball,
    strict: true,
    onReadEntry: entry => {
      const name = entryName(entry.path)
      if (name === 'index.json') return collectJson(entry, bytes => (contents.index = bytes))
      const digest = blobDigest(name)
      if (!digest || entry.type !== 'File') return
      contents.blobSizes.set(digest, entry.size)
      collectJson(entry, bytes => contents.jsonBlobs.set(digest, bytes))
    }
  })
  return contents
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object')
    return value as T
  } catch (error) {
    throw new Error(`${what} is not valid JSON (${errorMessage(error)})`, { cause: error })
  }
}

function platformName(os: string, architecture: string, variant?: string): string {
  // `linux/arm64/v8` is how some configs spell plain `linux/arm64`.
  const normalizedVariant = architecture === 'arm64' && variant === 'v8' ? undefined : variant
  return [os, architecture, normalizedVariant].filter(Boolean).join('/')
}

class LayoutReader {
  constructor(private readonly contents: LayoutContents) {}

  /** A JSON blob the descriptor points at, checked against its digest and size. */
  document<T>(descriptor: Descriptor, what: string): T {
    const digest = descriptor.digest ?? ''
    if (!DIGEST.test(digest)) throw new Error(`${what} has an invalid digest '${digest}'`)
    const bytes = this.contents.jsonBlobs.get(digest)
    if (!bytes) throw new Error(`${what} ${digest} is missing from blobs/`)
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    if (actual !== digest) throw new Error(`${what} ${digest} does not match its content (${actual})`)
    if (descriptor.size !== undefined && descriptor.size !== bytes.length) {
      throw new Error(`${what} ${digest} is ${bytes.length} bytes, its descriptor says ${descriptor.size}`)
    }
    return parseJson<T>(bytes, `${what} ${digest}`)
  }

  /** A layer is only checked to be present with the size its descriptor gives. */
  layerSize(descriptor: Descriptor, manifestDigest: string): number {
    const size = this.contents.blobSizes.get(descriptor.digest ?? '')
    if (size === undefined)
      throw new Error(`layer ${descriptor.digest} of manifest ${manifestDigest} is missing from blobs/`)
    if (descriptor.size !== undefined && descriptor.size !== size) {
      throw new Error(`layer ${descriptor.digest} is ${size} bytes, its descriptor says ${descriptor.size}`)
    }
    return size
  }

  variants(index: IndexDocument, depth = 0): ImageVariant[] {
    if (depth > 2) throw new Error('image indexes nest deeper than an OCI layout does')
    if (!Array.isArray(index.manifests)) throw new Error('an index has no manifests list')
    return index.manifests.flatMap(descriptor => {
      const mediaType = descriptor.mediaType ?? ''
      if (INDEX_TYPES.has(mediaType))
        return this.variants(this.document<IndexDocument>(descriptor, 'image index'), depth + 1)
      if (!MANIFEST_TYPES.has(mediaType)) return []
      // Build attestations (provenance, SBOM) ride in the index as manifests of platform unknown/unknown.
      if (descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return []
      return [this.variant(descriptor)]
    })
  }

  variant(descriptor: Descriptor): ImageVariant {
    const digest = descriptor.digest!
    const manifest = this.document<ManifestDocument>(descriptor, 'manifest')
    if (!manifest.config) throw new Error(`manifest ${digest} has no config`)
    const config = this.document<ConfigDocument>(manifest.config, 'config')
    const os = descriptor.platform?.os ?? config.os
    const architecture = descriptor.platform?.architecture ?? config.architecture
    if (!os || !architecture) throw new Error(`manifest ${digest} names no platform, nor does its config`)
    const layers = (manifest.layers ?? []).reduce((sum, layer) => sum + this.layerSize(layer, digest), 0)
    const manifestSize = this.contents.jsonBlobs.get(digest)!.length
    const configSize = this.contents.jsonBlobs.get(manifest.config.digest!)!.length
    return {
      platform: platformName(os, architecture, descriptor.platform?.variant ?? config.variant),
      digest,
      size: manifestSize + configSize + layers
    }
  }
}

/**
 * The platform images in an OCI layout tarball, in the order of its index. Throws an OciLayoutError
 * saying what is wrong when the file is not a tar archive, has no index.json, or a blob is missing
 * or does not match its digest.
 */
export async function readOciImageVariants(tarball: string): Promise<ImageVariant[]> {
  try {
    const contents = await readLayout(tarball)
    if (!contents.index) throw new Error('no index.json at its root, so it is not an OCI image layout')
    const variants = new LayoutReader(contents).variants(parseJson<IndexDocument>(contents.index, 'index.json'))
    if (variants.length === 0) throw new Error('its index lists no platform image')
    return variants
  } catch (error) {
    if (error instanceof OciLayoutError) throw error
    const message = errorMessage(error)
    const code = error instanceof Error && 'code' in error ? error.code : undefined
    // node-tar names every archive-level problem (bad checksum, truncation, unknown format) TAR_*.
    const reason =
      typeof code === 'string' && code.startsWith('TAR_') ? `not a valid tar archive (${message})` : message
    throw new OciLayoutError(tarball, reason, { cause: error })
  }
}
