// The build stage and the Go container that build and test share.

import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Client, Container, Directory, File, ReturnType } from '@dagger.io/dagger'
import type { PipelineConfig, Platform } from '../inputs/pipeline-config.js'

/** Where the module is mounted in every container. */
export const SOURCE_ROOT = '/src'
export const MODULE_CACHE = '/go/pkg/mod'
export const BUILD_CACHE = '/root/.cache/go-build'
/**
 * `ReturnType.Any` spelled out: a value import of the SDK would load it, and the TypeScript
 * compiler it pulls in, in every module that reaches this one, dry runs included.
 */
export const EXPECT_ANY_EXIT_CODE = 'ANY' as ReturnType.Any

export function cacheVolumeNames(cfg: PipelineConfig): { modules: string; build: string } {
  return { modules: `go-mod-${cfg.goVersion}`, build: `go-build-${cfg.goVersion}` }
}

/**
 * The module from the host, without what would change its digest on every run: `.git` (and with
 * it Go's VCS stamping, which also fails on a checkout owned by another uid) and the output
 * directory when it lies inside the module.
 */
export function sourceDirectory(client: Client, cfg: PipelineConfig): Directory {
  const exclude = ['.git']
  const outputInSource = relative(cfg.source, cfg.output)
  if (outputInSource && !outputInSource.startsWith('..')) exclude.push(outputInSource.split('\\').join('/'))
  return client.host().directory(cfg.source, { exclude })
}

/** The hosts named by GOPRIVATE patterns (`github.com/acme/*` → github.com), for the netrc. */
export function privateModuleHosts(patterns: string[]): string[] {
  const hosts = patterns.map(p => p.split('/')[0]).filter(h => h !== '' && !/[*?[\]]/.test(h))
  return [...new Set(hosts)]
}

/**
 * GOPRIVATE, and the token as a netrc mounted from a Dagger secret: `go` and `git` read it at
 * run time, and a mounted secret never becomes part of a layer or a cache key.
 */
export function withPrivateModules(client: Client, cfg: PipelineConfig): (ctr: Container) => Container {
  return ctr => {
    if (cfg.goPrivate.length === 0) return ctr
    const withPatterns = ctr.withEnvVariable('GOPRIVATE', cfg.goPrivate.join(','))
    if (!cfg.goPrivateToken) return withPatterns
    const netrc = privateModuleHosts(cfg.goPrivate)
      .map(host => `machine ${host} login x-access-token password ${cfg.goPrivateToken}\n`)
      .join('')
    return withPatterns.withMountedSecret('/root/.netrc', client.setSecret('go-private-netrc', netrc))
  }
}

/**
 * A Go toolchain container with the module's dependencies downloaded from go.mod/go.sum alone
 * (so that layer survives source edits), then the source on top.
 */
export function goModuleContainer(client: Client, cfg: PipelineConfig): Container {
  const source = sourceDirectory(client, cfg)
  const caches = cacheVolumeNames(cfg)
  let ctr = client
    .container()
    .from(`golang:${cfg.goVersion}`)
    .withMountedCache(MODULE_CACHE, client.cacheVolume(caches.modules))
    .withMountedCache(BUILD_CACHE, client.cacheVolume(caches.build))
    .withEnvVariable('GOMODCACHE', MODULE_CACHE)
    .withEnvVariable('GOCACHE', BUILD_CACHE)
    // The pinned image is the toolchain; never let go.mod fetch another one at build time.
    .withEnvVariable('GOTOOLCHAIN', 'local')
    .withEnvVariable('CGO_ENABLED', '0')
    .with(withPrivateModules(client, cfg))
    .withWorkdir(SOURCE_ROOT)
  // A module replaced by a local directory cannot be downloaded without that directory.
  if (cfg.hasLocalReplace) return ctr.withDirectory(SOURCE_ROOT, source).withExec(['go', 'mod', 'download'])
  ctr = ctr.withFile(`${SOURCE_ROOT}/go.mod`, source.file('go.mod'))
  if (cfg.hasGoSum) ctr = ctr.withFile(`${SOURCE_ROOT}/go.sum`, source.file('go.sum'))
  return ctr.withExec(['go', 'mod', 'download']).withDirectory(SOURCE_ROOT, source)
}

/** `<binary-name>_<os>_<arch>[_<variant>][.exe]` */
export function binaryFileName(cfg: Pick<PipelineConfig, 'binaryName'>, platform: Platform): string {
  const variant = platform.variant ? `_${platform.variant}` : ''
  return `${cfg.binaryName}_${platform.os}_${platform.arch}${variant}${platform.os === 'windows' ? '.exe' : ''}`
}

/** The Go settings a platform variant maps to. */
function variantEnv(platform: Platform): [string, string] | undefined {
  if (!platform.variant) return undefined
  if (platform.arch === 'arm') return ['GOARM', platform.variant.slice(1)]
  if (platform.arch === 'amd64') return ['GOAMD64', platform.variant]
  return undefined
}

export function buildCommand(cfg: PipelineConfig, platform: Platform): string[] {
  return [
    'go',
    'build',
    '-trimpath',
    '-ldflags',
    cfg.ldflags,
    '-o',
    `/out/${binaryFileName(cfg, platform)}`,
    cfg.package
  ]
}

/** One cross-compiled binary per platform (lazy: nothing runs until a stage asks for it). */
export function buildBinaries(client: Client, cfg: PipelineConfig): Map<string, File> {
  const base = goModuleContainer(client, cfg)
  const binaries = new Map<string, File>()
  for (const platform of cfg.platforms) {
    const extra = variantEnv(platform)
    let ctr = base.withEnvVariable('GOOS', platform.os).withEnvVariable('GOARCH', platform.arch)
    if (extra) ctr = ctr.withEnvVariable(...extra)
    binaries.set(platform.name, ctr.withExec(buildCommand(cfg, platform)).file(`/out/${binaryFileName(cfg, platform)}`))
  }
  return binaries
}

export interface Binary {
  platform: string
  path: string
  size: number
  sha256: string
}

export interface BuildResult {
  binaries: Binary[]
  /** Path of checksums.txt (sha256sum format) next to the binaries. */
  checksums: string
}

/** Exports every binary to `output` and writes checksums.txt for what actually landed there. */
export async function runBuild(client: Client, cfg: PipelineConfig, binaries: Map<string, File>): Promise<BuildResult> {
  const names = cfg.platforms.map(platform => binaryFileName(cfg, platform))
  let dist = client.directory()
  cfg.platforms.forEach((platform, i) => {
    dist = dist.withFile(names[i], binaries.get(platform.name)!)
  })
  await mkdir(cfg.output, { recursive: true })
  await dist.export(cfg.output)
  const built: Binary[] = await Promise.all(
    cfg.platforms.map(async (platform, i) => {
      const path = join(cfg.output, names[i])
      const bytes = await readFile(path)
      return {
        platform: platform.name,
        path,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex')
      }
    })
  )
  const checksums = join(cfg.output, 'checksums.txt')
  await writeFile(checksums, built.map((b, i) => `${b.sha256}  ${names[i]}\n`).join(''))
  return { binaries: built, checksums }
}
