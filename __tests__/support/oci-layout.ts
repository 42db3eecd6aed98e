/**
 * Builds a real OCI image layout tarball, shaped like the one `Container.export` writes for a
 * multi-platform image: `oci-layout`, an `index.json` pointing at an image index, and per platform a
 * manifest, a config and gzip layers, every blob named by the sha256 of its bytes. The loopback engine
 * session writes it where the pipeline asked `export(path)` to put the image.
 */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { create } from 'tar'

export interface BuiltVariant {
  platform: string
  manifest: Buffer
  config: Buffer
  layers: Buffer[]
}

export interface BuiltLayout {
  /** The tarball's bytes. */
  tarball: Buffer
  variants: BuiltVariant[]
  /** Every blob by its digest. */
  blobs: Map<string, Buffer>
}

export interface LayoutOptions {
  /** Platforms whose manifest descriptor carries no `platform`, so only the config names it. */
  platformFromConfigOnly?: string[]
  /** Adds a buildx-style attestation manifest (platform unknown/unknown) to the index. */
  attestation?: boolean
  /** Replaces blobs after the digests are computed, to build a damaged layout. */
  tamper?: (blobs: Map<string, Buffer>, variants: BuiltVariant[]) => void
  /** Leaves index.json out. */
  withoutIndex?: boolean
  /** One more layer for every platform, e.g. a large one. */
  extraLayer?: Buffer
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'

export const digestOf = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

function descriptor(mediaType: string, bytes: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra }
}

function platformFields(platform: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = platform.split('/')
  return variant ? { os, architecture, variant } : { os, architecture }
}

function buildVariant(platform: string, blobs: Map<string, Buffer>, extraLayer?: Buffer): BuiltVariant {
  // Two layers of different sizes per platform: the base image's and the binary's.
  const layers = [`base rootfs for ${platform}`, `binary for ${platform} `.repeat(40)].map(text =>
    gzipSync(Buffer.from(text))
  )
  if (extraLayer) layers.push(Buffer.from(extraLayer))
  const config = json({
    ...platformFields(platform),
    config: { User: '65532:65532', Entrypoint: ['/usr/local/bin/app'] },
    rootfs: { type: 'layers', diff_ids: layers.map(() => `sha256:${'0'.repeat(64)}`) }
  })
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(OCI_CONFIG, config),
    layers: layers.map(layer => descriptor(OCI_LAYER, layer))
  })
  for (const blob of [config, manifest, ...layers]) blobs.set(digestOf(blob), blob)
  return { platform, manifest, config, layers }
}

export async function buildOciLayout(platforms: string[], options: LayoutOptions = {}): Promise<BuiltLayout> {
  const blobs = new Map<string, Buffer>()
  const variants = platforms.map(platform => buildVariant(platform, blobs, options.extraLayer))
  const manifests = variants.map(v =>
    descriptor(
      OCI_MANIFEST,
      v.manifest,
      options.platformFromConfigOnly?.includes(v.platform) ? {} : { platform: platformFields(v.platform) }
    )
  )
  if (options.attestation) {
    const statement = json({ _type: 'https://in-toto.io/Statement/v0.1' })
    const attestation = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, json({})),
      layers: [descriptor('application/vnd.in-toto+json', statement)]
    })
    for (const blob of [statement, json({}), attestation]) blobs.set(digestOf(blob), blob)
    manifests.push(
      descriptor(OCI_MANIFEST, attestation, {
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: {
          'vnd.docker.reference.type': 'attestation-manifest',
          'vnd.docker.reference.digest': manifests[0].digest
        }
      })
    )
  }
  const imageIndex = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })
  blobs.set(digestOf(imageIndex), imageIndex)
  const layoutIndex = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_INDEX, imageIndex)] })
  options.tamper?.(blobs, variants)

  const dir = await mkdtemp(join(tmpdir(), 'oci-layout-'))
  try {
    const root = join(dir, 'layout')
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true })
    await writeFile(join(root, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }))
    if (!options.withoutIndex) await writeFile(join(root, 'index.json'), layoutIndex)
    for (const [digest, bytes] of blobs)
      await writeFile(join(root, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes)
    const file = join(dir, 'image.tar')
    await create({ file, cwd: root, portable: true }, [
      'oci-layout',
      ...(options.withoutIndex ? [] : ['index.json']),
      'blobs'
    ])
    return { tarball: await readFile(file), variants, blobs }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
