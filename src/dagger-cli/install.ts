// Installs the Dagger CLI the way setup-* actions install tools: the runner's tool cache first,
// otherwise the release archive from `dagger-base-url`, verified against the release's checksums.txt
// before anything lands in the tool cache.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import { InputError } from '../inputs/parse.js'
import { errorMessage } from '../shared/errors.js'

/**
 * The CLI version that the bundled @dagger.io/dagger pins (its provisioning/default.js CLI_VERSION).
 * Kept as a constant because importing the SDK loads the TypeScript compiler; a test keeps it in sync.
 */
export const SDK_CLI_VERSION = '0.21.8'

export const DEFAULT_BASE_URL = 'https://dl.dagger.io/dagger'

const TOOL_NAME = 'dagger'

const SEMVER = /^v?((?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)$/

/** What a Dagger version may be, in the dagger-version input and in dagger.json's engineVersion alike. */
export const DAGGER_VERSION_ALLOWED = 'expected X.Y.Z, vX.Y.Z (e.g. 0.21.8) or latest'

/** `X.Y.Z`, `vX.Y.Z`, `X.Y.Z-rc.1` or `latest` → `X.Y.Z[-pre]` or `latest`; undefined for anything else. */
export function normalizeDaggerVersion(raw: string): string | undefined {
  const value = raw.trim()
  if (value === 'latest') return value
  return SEMVER.exec(value)?.[1]
}

/** `X.Y.Z`, `vX.Y.Z`, `X.Y.Z-rc.1`, `latest` or '' (the SDK's version) → `X.Y.Z[-pre]` or `latest`. */
export function parseDaggerVersion(raw: string): string {
  const value = raw.trim()
  if (value === '') return SDK_CLI_VERSION
  const version = normalizeDaggerVersion(value)
  if (!version) throw new InputError('dagger-version', value, DAGGER_VERSION_ALLOWED)
  return version
}

/** An http(s) URL without query or fragment, trailing slashes trimmed; '' gives dl.dagger.io. */
export function parseBaseUrl(raw: string): string {
  const value = raw.trim()
  if (value === '') return DEFAULT_BASE_URL
  const allowed = 'expected an http:// or https:// URL without query or fragment, e.g. https://dl.dagger.io/dagger'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError('dagger-base-url', value, allowed)
  }
  if (url.username || url.password) {
    // The URL shows up in logs and errors, so credentials in it would leak (and are not echoed here).
    const redacted = `${url.protocol}//***@${url.host}${url.pathname}`
    throw new InputError('dagger-base-url', redacted, 'expected a URL without credentials')
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || /[?#]/.test(value)) {
    throw new InputError('dagger-base-url', value, allowed)
  }
  return url.href.replace(/\/+$/, '')
}

export interface InstallOptions {
  /** `X.Y.Z[-pre]` or `latest`, as parseDaggerVersion returns it. */
  version: string
  /** As parseBaseUrl returns it. */
  baseUrl: string
  platform?: NodeJS.Platform
  /** Node's names (`x64`, `arm64`); also the tool cache's arch key. */
  arch?: string
  /**
   * Called with the version `latest` resolved to, before the tool cache or any archive: it throws to
   * refuse it. A pinned version is judged while the inputs are read, before anything is fetched.
   */
  checkVersion?: (version: string) => void
}

export interface InstalledCli {
  version: string
  /** Full path of the dagger binary. */
  path: string
  toolCacheHit: boolean
}

export async function installDaggerCli(opts: InstallOptions): Promise<InstalledCli> {
  const platform = opts.platform ?? process.platform
  const arch = opts.arch ?? process.arch
  const target = releaseTarget(platform, arch)
  const version = opts.version === 'latest' ? await resolveLatestVersion(opts.baseUrl) : opts.version
  if (opts.version === 'latest') opts.checkVersion?.(version)
  const binaryName = platform === 'win32' ? 'dagger.exe' : 'dagger'

  const cachedDir = tc.find(TOOL_NAME, version, arch)
  if (cachedDir) {
    core.info(`Dagger CLI ${version} found in the tool cache: ${cachedDir}`)
    return { version, path: path.join(cachedDir, binaryName), toolCacheHit: true }
  }

  const releaseUrl = `${opts.baseUrl}/releases/${version}`
  const archiveName = `dagger_v${version}_${target.os}_${target.arch}.${target.ext}`
  const scratch: string[] = []
  try {
    // checksums.txt first: it is small, and a missing entry should fail before the big download.
    const checksumsFile = await download(`${releaseUrl}/checksums.txt`)
    scratch.push(checksumsFile)
    const expected = findChecksum(await readFile(checksumsFile, 'utf8'), archiveName, releaseUrl)

    core.info(`Downloading Dagger CLI ${version} from ${releaseUrl}/${archiveName}`)
    const archive = await download(`${releaseUrl}/${archiveName}`)
    scratch.push(archive)
    const actual = await sha256File(archive)
    if (actual !== expected) {
      throw new Error(
        `Checksum mismatch for ${releaseUrl}/${archiveName}: checksums.txt says sha256 ${expected}, ` +
          `the download has ${actual}. Nothing was installed.`
      )
    }

    const extracted = target.ext === 'zip' ? await tc.extractZip(archive) : await tc.extractTar(archive)
    scratch.push(extracted)
    const toolDir = await tc.cacheDir(extracted, TOOL_NAME, version, arch)
    core.info(`Dagger CLI ${version} installed in ${toolDir}`)
    return { version, path: path.join(toolDir, binaryName), toolCacheHit: false }
  } finally {
    await Promise.all(scratch.map(p => rm(p, { recursive: true, force: true })))
  }
}

/** Points the CLI, the SDK (which otherwise downloads its own CLI) and later steps at this binary. */
export function exportCli(cli: InstalledCli): void {
  core.addPath(path.dirname(cli.path))
  core.exportVariable('_EXPERIMENTAL_DAGGER_CLI_BIN', cli.path)
  core.setOutput('dagger-version', cli.version)
  core.setOutput('dagger-path', cli.path)
}

function releaseTarget(platform: NodeJS.Platform, arch: string): { os: string; arch: string; ext: string } {
  const os = ({ linux: 'linux', darwin: 'darwin', win32: 'windows' } as Partial<Record<string, string>>)[platform]
  const releaseArch = ({ x64: 'amd64', arm64: 'arm64' } as Partial<Record<string, string>>)[arch]
  if (!os || !releaseArch) {
    throw new Error(`Dagger CLI releases cover linux, darwin and windows on x64 and arm64, not ${platform}/${arch}`)
  }
  return { os, arch: releaseArch, ext: os === 'windows' ? 'zip' : 'tar.gz' }
}

async function resolveLatestVersion(baseUrl: string): Promise<string> {
  const url = `${baseUrl}/versions/latest`
  const file = await download(url)
  try {
    const answer = (await readFile(file, 'utf8')).trim()
    const match = SEMVER.exec(answer)
    if (!match) throw new Error(`${url} answered '${answer.slice(0, 80)}', not a version`)
    core.info(`Latest Dagger CLI: ${match[1]}`)
    return match[1]
  } finally {
    await rm(file, { force: true })
  }
}

/** tc.downloadTool (with its retries on 5xx, 408 and 429), failing with the URL and status. */
async function download(url: string): Promise<string> {
  try {
    return await tc.downloadTool(url)
  } catch (error) {
    if (error instanceof tc.HTTPError) {
      throw new Error(`Download of ${url} failed: HTTP ${error.httpStatusCode}`, { cause: error })
    }
    throw new Error(`Download of ${url} failed: ${errorMessage(error)}`, { cause: error })
  }
}

/** The sha256 of `fileName` in sha256sum output (`<hex>  <name>`, or `<hex> *<name>` in binary mode). */
function findChecksum(checksums: string, fileName: string, releaseUrl: string): string {
  for (const line of checksums.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim())
    if (match && match[2] === fileName) return match[1].toLowerCase()
  }
  throw new Error(`${releaseUrl}/checksums.txt has no sha256 for ${fileName}; refusing to install an unverified CLI`)
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}
