// The image stage's per-platform digest and size: read from the real OCI layout tarball that the
// engine writes where `export(path)` asks, and shown in the job summary and the plain-text report.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { OciLayoutError, readOciImageVariants, type ImageVariant } from '../src/pipeline/oci.js'
import { renderPipelineText } from '../src/report/log.js'
import { renderSummary } from '../src/report/summary.js'
import type { EngineSession } from './support/engine-session.js'
import { buildOciLayout, digestOf, type BuiltLayout, type LayoutOptions } from './support/oci-layout.js'
import { fixtureConfig, runInSession } from './support/pipeline-session.js'

/** What a registry would store per platform, computed from the blobs the layout was built from. */
function expectedVariants(layout: BuiltLayout): ImageVariant[] {
  return layout.variants.map(v => ({
    platform: v.platform,
    digest: digestOf(v.manifest),
    size: v.manifest.length + v.config.length + v.layers.reduce((sum, layer) => sum + layer.length, 0)
  }))
}

const writesImage = (tarball: Buffer | string) => (session: EngineSession) => {
  session.onExport(exported => (exported.typeName === 'Container' ? tarball : undefined))
}

describe('image stage: per-platform digest and size', () => {
  test('reads each platform manifest from the exported OCI tarball, in the order of platforms', async () => {
    const cfg = await fixtureConfig({ stage: 'image' })
    // The index lists arm64 first, one descriptor carries no platform, and an attestation rides along.
    const layout = await buildOciLayout(['linux/arm64', 'linux/amd64'], {
      platformFromConfigOnly: ['linux/amd64'],
      attestation: true
    })
    try {
      const { result } = await runInSession(cfg, {}, writesImage(layout.tarball))
      const image = result.stages.image!
      expect(image.status).toBe('passed')
      const [arm64, amd64] = expectedVariants(layout)
      expect(image.result!.variants).toEqual([amd64, arm64])
      expect(image.result!.variants.every(v => v.size > 0 && /^sha256:[0-9a-f]{64}$/.test(v.digest))).toBe(true)

      const summary = renderSummary({ pipeline: result, workspace: cfg.output })
      const section = summary.slice(summary.indexOf('### image'))
      expect(section).toContain(
        [
          '| platform | digest | size |',
          '| --- | --- | --- |',
          `| linux/amd64 | <code>${amd64.digest.slice(0, 19)}</code> | ${amd64.size} B |`,
          `| linux/arm64 | <code>${arm64.digest.slice(0, 19)}</code> | ${arm64.size} B |`,
          '',
          'OCI tarball: <code>failing-image.tar</code>'
        ].join('\n')
      )
      const text = renderPipelineText(result, cfg.output)
      expect(text).toContain(
        [
          `    linux/amd64      ${amd64.digest}  ${amd64.size} B`,
          `    linux/arm64      ${arm64.digest}  ${arm64.size} B`,
          '    OCI tarball failing-image.tar'
        ].join('\n')
      )
    } finally {
      await cfg.cleanup()
    }
  })

  test('a file that is not an OCI tarball fails the stage with a clear message', async () => {
    const cfg = await fixtureConfig({ stage: 'image' })
    try {
      const { result } = await runInSession(cfg, {}, writesImage('this is not a tar archive\n'.repeat(40)))
      expect(result.ok).toBe(false)
      const image = result.stages.image!
      expect(image.status).toBe('failed')
      expect(image.result).toBeUndefined()
      expect(image.failure!.message).toMatch(
        new RegExp(
          `^cannot read the OCI image tarball ${join(cfg.output, 'failing-image.tar')}: not a valid tar archive \\(TAR_`
        )
      )
    } finally {
      await cfg.cleanup()
    }
  })

  test('a tarball without one of the platforms asked for fails the stage naming it', async () => {
    const cfg = await fixtureConfig({ stage: 'image' })
    try {
      const layout = await buildOciLayout(['linux/amd64'])
      const { result } = await runInSession(cfg, {}, writesImage(layout.tarball))
      expect(result.stages.image).toMatchObject({ status: 'failed' })
      expect(result.stages.image!.failure!.message).toBe(
        `the OCI image tarball ${join(cfg.output, 'failing-image.tar')} holds linux/amd64 but not linux/arm64`
      )
    } finally {
      await cfg.cleanup()
    }
  })

  test('a published image keeps no per-platform digests: the summary points at the pushed index', async () => {
    const cfg = await fixtureConfig({
      stage: 'image,publish',
      image: 'ghcr.io/acme/failing',
      'registry-username': 'octocat',
      'registry-password': 'ghp_s3cr3t'
    })
    try {
      const { session, result } = await runInSession(cfg, {})
      expect(session.exports).toEqual([])
      expect(result.stages.image).toMatchObject({
        status: 'passed',
        result: { platforms: ['linux/amd64', 'linux/arm64'], variants: [] }
      })
      const summary = renderSummary({ pipeline: result })
      expect(summary).toContain(
        'Platforms: <code>linux/amd64</code>, <code>linux/arm64</code>, pushed as one multi-platform index: its digest is the image under publish.'
      )
      expect(summary).toContain(`Image: <code>${result.stages.publish!.result!.imageRef}</code>`)
    } finally {
      await cfg.cleanup()
    }
  })
})

describe('readOciImageVariants', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oci-read-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  async function written(bytes: Buffer | string, name: string): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  }

  async function failureOf(bytes: Buffer | string, name: string): Promise<string> {
    const path = await written(bytes, name)
    const error = await readOciImageVariants(path).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(OciLayoutError)
    const message = (error as Error).message
    expect(message.startsWith(`cannot read the OCI image tarball ${path}: `)).toBe(true)
    return message.slice(`cannot read the OCI image tarball ${path}: `.length)
  }

  const damaged = (options: LayoutOptions): Promise<Buffer> =>
    buildOciLayout(['linux/amd64', 'linux/arm/v7'], options).then(l => l.tarball)

  test('three platforms with a variant, gzip-compressed as a whole', async () => {
    const layout = await buildOciLayout(['linux/amd64', 'linux/arm/v7', 'linux/arm64'])
    const path = await written(gzipSync(layout.tarball), 'gzipped.tar.gz')
    expect(await readOciImageVariants(path)).toEqual(expectedVariants(layout))
  })

  test('a layer larger than any manifest is counted by its tar header, even when it starts like JSON', async () => {
    const layer = Buffer.concat([Buffer.from('{'), Buffer.alloc(6 * 1024 * 1024, 'x')])
    const layout = await buildOciLayout(['linux/amd64'], { extraLayer: layer })
    const [variant] = await readOciImageVariants(await written(layout.tarball, 'large-layer.tar'))
    expect(variant).toEqual(expectedVariants(layout)[0])
    expect(variant.size).toBeGreaterThan(layer.length)
  })

  test('not a tar archive', async () => {
    expect(await failureOf('{"manifests": []}\n'.repeat(100), 'text.tar')).toMatch(
      /^not a valid tar archive \(TAR_ENTRY_INVALID: /
    )
  })

  test('no index.json', async () => {
    expect(await failureOf(await damaged({ withoutIndex: true }), 'no-index.tar')).toBe(
      'no index.json at its root, so it is not an OCI image layout'
    )
  })

  test('a manifest whose bytes do not match its digest', async () => {
    const tarball = await damaged({
      tamper: (blobs, variants) => {
        const digest = digestOf(variants[1].manifest)
        blobs.set(
          digest,
          Buffer.from(variants[1].manifest.toString().replace('"schemaVersion":2', '"schemaVersion":2 '))
        )
      }
    })
    expect(await failureOf(tarball, 'tampered.tar')).toMatch(
      /^manifest sha256:[0-9a-f]{64} does not match its content \(sha256:[0-9a-f]{64}\)$/
    )
  })

  test('a missing layer', async () => {
    const tarball = await damaged({ tamper: (blobs, variants) => void blobs.delete(digestOf(variants[0].layers[1])) })
    expect(await failureOf(tarball, 'no-layer.tar')).toMatch(
      /^layer sha256:[0-9a-f]{64} of manifest sha256:[0-9a-f]{64} is missing from blobs\/$/
    )
  })

  test('a truncated tarball', async () => {
    const { tarball } = await buildOciLayout(['linux/amd64'])
    expect(await failureOf(tarball.subarray(0, Math.floor(tarball.length / 2)), 'truncated.tar')).toMatch(
      /^not a valid tar archive \(TAR_BAD_ARCHIVE: Truncated input/
    )
  })
})
