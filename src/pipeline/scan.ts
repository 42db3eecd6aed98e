// The scan stage: each platform of the image, as an OCI tarball, scanned by trivy or grype running
// as a container in the engine (no registry login, nothing pushed); one SARIF report for code scanning.

import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Client, Container } from '@dagger.io/dagger'
import { imagePlatforms, sarifPath, SCANNER_IMAGES, type PipelineConfig } from '../inputs/pipeline-config.js'
import {
  countBySeverity,
  mergeVulnerabilities,
  parseGrypeJson,
  parseTrivyJson,
  vulnerabilitiesToSarif,
  type Outcome,
  type Severity,
  type Vulnerability
} from './results.js'

const TARBALL = '/scan/image.tar'
const REPORT = '/scan/report.json'
export const DB_CACHE = '/cache/db'

/** The cache volume of the scanner's vulnerability database. */
export function scanCacheVolumeName(cfg: PipelineConfig): string {
  return `${cfg.scanner}-db`
}

/**
 * The variable whose value, the UTC day, makes the engine refresh the database once a day: the
 * update's result is cached like any step, and without it a warm run would scan with the database
 * of its first run forever.
 */
export const DB_DAY_VARIABLE = 'GO_DAGGER_ACTION_SCAN_DB_DAY'

/** The database update, alone, before any scan: scans that update it themselves race on the shared volume. */
export function dbUpdateArguments(cfg: Pick<PipelineConfig, 'scanner'>): string[] {
  return cfg.scanner === 'trivy' ? ['image', '--download-db-only', '--cache-dir', DB_CACHE] : ['db', 'update']
}

/** The scanner's arguments after its entrypoint; the database is already there (see dbUpdateArguments). */
export function scanArguments(cfg: Pick<PipelineConfig, 'scanner'>): string[] {
  return cfg.scanner === 'trivy'
    ? [
        'image',
        '--input',
        TARBALL,
        '--scanners',
        'vuln',
        '--skip-db-update',
        '--format',
        'json',
        '--output',
        REPORT,
        '--cache-dir',
        DB_CACHE
      ]
    : [`oci-archive:${TARBALL}`, '--output', `json=${REPORT}`]
}

export interface ScanResult {
  scanner: string
  counts: Record<Severity, number>
  /** The severities that fail the stage (the `severity` input). */
  severities: Severity[]
  /** Findings at those severities. */
  failing: number
  /** Worst first. */
  vulnerabilities: Vulnerability[]
  sarif: string
}

export async function runScan(
  client: Client,
  cfg: PipelineConfig,
  variants: Container[],
  now = new Date()
): Promise<Outcome<ScanResult>> {
  const image = SCANNER_IMAGES[cfg.scanner]
  // The vulnerability database is the slow part; the engine keeps it between runs, in a cache
  // volume, and refreshes it once per UTC day. Every platform's scan starts from that one update.
  const scanner = client
    .container()
    .from(image)
    .withMountedCache(DB_CACHE, client.cacheVolume(scanCacheVolumeName(cfg)))
    .withEnvVariable('GRYPE_DB_CACHE_DIR', DB_CACHE)
    .withEnvVariable(DB_DAY_VARIABLE, now.toISOString().slice(0, 10))
    .withExec(dbUpdateArguments(cfg), { useEntrypoint: true })
    .withEnvVariable('GRYPE_DB_AUTO_UPDATE', 'false')
  const platforms = imagePlatforms(cfg)
  const perPlatform = await Promise.all(
    variants.map(async (variant, i) => {
      const report = await scanner
        .withMountedFile(TARBALL, variant.asTarball())
        .withExec(scanArguments(cfg), { useEntrypoint: true })
        .file(REPORT)
        .contents()
      const platform = platforms[i].name
      return cfg.scanner === 'trivy' ? parseTrivyJson(report, platform) : parseGrypeJson(report, platform)
    })
  )
  const vulnerabilities = mergeVulnerabilities(perPlatform)
  const sarif = sarifPath(cfg)
  await mkdir(dirname(sarif), { recursive: true })
  const subject = cfg.image ?? cfg.binaryName
  await writeFile(sarif, JSON.stringify(vulnerabilitiesToSarif(vulnerabilities, cfg.scanner, subject), null, 2))

  const counts = countBySeverity(vulnerabilities)
  const failing = cfg.severities.reduce((sum, s) => sum + counts[s], 0)
  const result: ScanResult = {
    scanner: cfg.scanner,
    counts,
    severities: cfg.severities,
    failing,
    vulnerabilities,
    sarif
  }
  if (failing === 0) return { result }
  const worst = vulnerabilities.filter(v => cfg.severities.includes(v.severity))
  return {
    result,
    failure: {
      message: `${cfg.scanner} found ${failing} vulnerabilit${failing === 1 ? 'y' : 'ies'} at ${cfg.severities.join(', ')}`,
      command: `${cfg.scanner} ${scanArguments(cfg).join(' ')}`,
      outputTail: worst
        .slice(0, 20)
        .map(
          v => `${v.severity} ${v.id} ${v.package} ${v.installedVersion}${v.fixedVersion ? ` → ${v.fixedVersion}` : ''}`
        )
        .join('\n')
    }
  }
}
