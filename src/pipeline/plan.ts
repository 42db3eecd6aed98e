// The dry-run plan: what the pipeline would ask of the engine, from the configuration alone
// (no engine, no network). Secrets appear only as the input that holds them.

import {
  BUILD_CACHE,
  binaryFileName,
  buildCommand,
  cacheVolumeNames,
  MODULE_CACHE,
  privateModuleHosts
} from './build.js'
import {
  imagePlatforms,
  imageTarballPath,
  sarifPath,
  SCANNER_IMAGES,
  IMAGE_USER,
  type PipelineConfig,
  type Stage
} from '../inputs/pipeline-config.js'
import { STAGE_DEPENDENCIES } from './dag.js'
import { binaryPathInImage } from './image.js'
import { LINT_CACHE, LINT_COMMAND, lintCacheVolumeNames, lintImage } from './lint.js'
import { DB_CACHE, dbUpdateArguments, scanArguments, scanCacheVolumeName } from './scan.js'
import { testCommand } from './test.js'

function quote(args: string[]): string {
  return args.map(a => (a === '' || /[\s"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ')
}

export function describePlan(cfg: PipelineConfig): string {
  const lines: string[] = []
  const row = (label: string, text: string): void => {
    lines.push(`${label.padEnd(10)}${text}`)
  }
  const more = (text: string): void => {
    lines.push(`${''.padEnd(12)}${text}`)
  }
  const has = (stage: Stage): boolean => cfg.stages.includes(stage)
  const caches = cacheVolumeNames(cfg)
  const platforms = imagePlatforms(cfg).map(p => p.name)

  lines.push('Plan (dry run: no engine is started and nothing is pulled, built or pushed)')
  if (cfg.stages.length === 0) {
    row('stages', `none: the CLI is installed and the engine started, with its cached state, for later steps`)
    more(`source: ${cfg.sourceFromRepo || '.'}; no built-in stage runs`)
    return lines.join('\n') + '\n'
  }
  row(
    'module',
    `${cfg.modulePath} in ${cfg.sourceFromRepo || '.'} (Go ${cfg.goVersion} from ${cfg.goVersionFrom === 'input' ? 'go-version' : 'go.mod'})`
  )
  const skippedPublish = cfg.allStages && !has('publish') ? ' (publish left out: no image set)' : ''
  row('stages', `${cfg.stages.join(', ')}${cfg.allStages ? ' (all)' : ''}${skippedPublish}`)
  for (const stage of cfg.stages) {
    const after = STAGE_DEPENDENCIES[stage].filter(has)
    more(`${stage}: ${after.length ? `after ${after.join(', ')}` : 'starts at once'}`)
  }

  if (has('build')) {
    const download = cfg.hasLocalReplace
      ? 'go mod download with the source (go.mod replaces a module by a local directory)'
      : 'go mod download on go.mod/go.sum before the source'
    row('build', `golang:${cfg.goVersion}, CGO_ENABLED=0, GOTOOLCHAIN=local, ${download}`)
    for (const platform of cfg.platforms) {
      more(`${platform.name.padEnd(16)} ${quote(buildCommand(cfg, platform))}`)
    }
    more(`export → ${cfg.output}/{${cfg.platforms.map(p => binaryFileName(cfg, p)).join(',')},checksums.txt}`)
  }
  if (has('lint')) {
    row('lint', `${lintImage(cfg)}: ${quote(LINT_COMMAND)} (the repository's .golangci.yml applies)`)
  }
  if (has('test')) {
    row(
      'test',
      `golang:${cfg.goVersion}: ${quote(testCommand(cfg))}${cfg.coverage ? ', then go tool cover -func' : ''}`
    )
  }
  if (has('image')) {
    row(
      'image',
      `${cfg.baseImage} + ${binaryPathInImage(cfg)}, user ${IMAGE_USER}, entrypoint ${binaryPathInImage(cfg)}`
    )
    more(`platforms ${platforms.join(', ')}`)
    for (const [name, value] of Object.entries(cfg.labels)) more(`label ${name}=${value}`)
    more(
      has('publish') ? 'published, so no tarball is written' : `export → ${imageTarballPath(cfg)} (OCI, all platforms)`
    )
  }
  if (has('scan')) {
    row('scan', `${SCANNER_IMAGES[cfg.scanner]}: ${cfg.scanner} ${quote(scanArguments(cfg))}, per platform`)
    more(`database: ${cfg.scanner} ${quote(dbUpdateArguments(cfg))} first, once per UTC day`)
    more(`fails on ${cfg.severities.join(', ')}; SARIF → ${sarifPath(cfg)}`)
  }
  if (has('publish') && cfg.image) {
    row('publish', `${cfg.image} for ${platforms.join(', ')}`)
    more(`tags ${cfg.tags.join(', ')}`)
    if (cfg.registry) {
      more(`auth ${cfg.registry.address} as ${cfg.registry.username}, password from registry-password (secret)`)
    }
  } else if (cfg.image) {
    row('tags', `${cfg.image}:{${cfg.tags.join(',')}} (not pushed: publish is not among the stages)`)
  }

  // lint shares the module cache; everything but lint compiles with the module's Go.
  const volumes = [`${caches.modules} → ${MODULE_CACHE}`]
  if (cfg.stages.some(s => s !== 'lint')) volumes.push(`${caches.build} → ${BUILD_CACHE}`)
  if (has('lint')) {
    const lint = lintCacheVolumeNames(cfg)
    volumes.push(`${lint.results} → ${LINT_CACHE}`, `${lint.build} → ${BUILD_CACHE} (lint)`)
  }
  if (has('scan')) volumes.push(`${scanCacheVolumeName(cfg)} → ${DB_CACHE}`)
  row('caches', volumes.join(', '))
  if (cfg.goPrivate.length > 0) {
    const auth = cfg.goPrivateToken
      ? `, token from go-private-token (secret) as /root/.netrc for ${privateModuleHosts(cfg.goPrivate).join(', ')}`
      : ''
    row('private', `GOPRIVATE=${cfg.goPrivate.join(',')}${auth}`)
  }
  return lines.join('\n') + '\n'
}
