// The publish stage: one push of every platform variant per tag, authenticated from a Dagger secret.

import type { Client, Container } from '@dagger.io/dagger'
import type { PipelineConfig } from '../inputs/pipeline-config.js'

export interface PublishResult {
  /** repository@digest, the same for every tag. */
  imageRef: string
  tags: string[]
  /** What each push returned (`repository:tag@digest`). */
  published: string[]
}

export async function runPublish(client: Client, cfg: PipelineConfig, variants: Container[]): Promise<PublishResult> {
  const { image, registry } = cfg
  if (!image || !registry) throw new Error('publish needs image, registry-username and registry-password')
  const password = client.setSecret('registry-password', registry.password)
  // An empty container carrying only the platform variants is how the engine pushes an index.
  const pusher = client.container().withRegistryAuth(registry.address, registry.username, password)
  const published: string[] = []
  // One tag at a time: the first push uploads the layers, the next ones only add a tag.
  for (const tag of cfg.tags) {
    // A copy each time: the SDK replaces the array's containers with their IDs in place.
    published.push(await pusher.publish(`${image}:${tag}`, { platformVariants: [...variants] }))
  }
  const digest = published[0]?.split('@')[1]
  return { imageRef: digest ? `${image}@${digest}` : (published[0] ?? ''), tags: cfg.tags, published }
}
