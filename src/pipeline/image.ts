// The image stage: per Linux platform, the base image with the static binary, a non-root user, an
// entrypoint and OCI labels; together one multi-platform image.

import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Client, Container, File, Platform } from '@dagger.io/dagger'
import { IMAGE_USER, imagePlatforms, imageTarballPath, type PipelineConfig } from '../inputs/pipeline-config.js'
import { readOciImageVariants, type ImageVariant } from './oci.js'

export type { ImageVariant } from './oci.js'

export function binaryPathInImage(cfg: PipelineConfig): string {
  return `/usr/local/bin/${cfg.binaryName}`
}

/** One container per image platform (lazy), in the order of `platforms`. */
export function imageVariants(client: Client, cfg: PipelineConfig, binaries: Map<string, File>): Container[] {
  const entrypoint = binaryPathInImage(cfg)
  return imagePlatforms(cfg).map(platform => {
    const empty = client.container({ platform: platform.name as Platform })
    let ctr = (cfg.baseImage === 'scratch' ? empty : empty.from(cfg.baseImage))
      .withFile(entrypoint, binaries.get(platform.name)!, { permissions: 0o755 })
      .withUser(IMAGE_USER)
      .withEntrypoint([entrypoint])
    for (const [name, value] of Object.entries(cfg.labels)) ctr = ctr.withLabel(name, value)
    return ctr
  })
}

export interface ImageResult {
  platforms: string[]
  /**
   * Digest and size per platform, read from the OCI tarball, in the order of `platforms`. Empty when
   * the image is published: the push returns only the index digest (the publish stage's imageRef).
   */
  variants: ImageVariant[]
  /** The OCI tarball on the host, when the image is built but not published. */
  tarball?: string
}

/**
 * Builds every variant. Unless the image is about to be published, it is also written to the host
 * as one multi-platform OCI tarball (`docker load` or `crane push` can take it from there).
 */
export async function runImage(client: Client, cfg: PipelineConfig, variants: Container[]): Promise<ImageResult> {
  const platforms = imagePlatforms(cfg).map(p => p.name)
  if (cfg.stages.includes('publish')) {
    await Promise.all(variants.map(v => v.sync()))
    return { platforms, variants: [] }
  }
  const tarball = imageTarballPath(cfg)
  await mkdir(dirname(tarball), { recursive: true })
  // A copy: the SDK replaces the array's containers with their IDs in place, and the scan stage
  // reads the same variants afterwards.
  await client.container().export(tarball, { platformVariants: [...variants] })
  return { platforms, variants: inPlatformOrder(await readOciImageVariants(tarball), platforms, tarball), tarball }
}

/** The tarball's variants in the order the user gave; every platform asked for must be there. */
function inPlatformOrder(found: ImageVariant[], platforms: string[], tarball: string): ImageVariant[] {
  return platforms.map(platform => {
    const variant = found.find(v => v.platform === platform)
    if (!variant) {
      throw new Error(
        `the OCI image tarball ${tarball} holds ${found.map(v => v.platform).join(', ')} but not ${platform}`
      )
    }
    return variant
  })
}
