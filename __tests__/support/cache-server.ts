/**
 * A loopback Actions cache service that the real `@actions/cache` talks to, in either protocol:
 *
 * - v1 (what `act` offers): REST under `_apis/artifactcache/` (lookup, reserve, PATCH chunks with
 *   Content-Range, commit) and an `archiveLocation` served from here with Range support.
 * - v2 (GitHub's current service): twirp JSON RPCs under `twirp/github.actions.results.api.v1.CacheService/`
 *   whose signed upload/download URLs point back here; uploads arrive through `@azure/storage-blob`
 *   (single-shot `PUT` with `x-ms-blob-type`, or `PUT ?comp=block` + `PUT ?comp=blocklist`).
 *
 * Matching follows GitHub: exact key, then the newest entry whose key starts with the primary key, then
 * each restore key as a prefix in order (newest wins); `version` must match; a key that exists (or is
 * being uploaded) is refused (v1: 409, v2: twirp `already_exists`). Archives live on disk, request
 * bodies stream to files, so gigabytes pass without being held in memory.
 *
 *   const server = await startCacheServer({ protocol: 'v2' })
 *   const restoreEnv = applyEnv(server.env)   // @actions/cache reads these at call time
 *   await server.fault({ kind: 'status', endpoint: 'lookup', status: 500 })
 *   ...; await server.clearFaults(); restoreEnv(); await server.close()
 *
 * Endpoints are named by role so faults and stats read the same in both protocols:
 *   lookup   v1 GET cache?keys=&version=        v2 GetCacheEntryDownloadURL
 *   reserve  v1 POST caches                     v2 CreateCacheEntry
 *   upload   v1 PATCH caches/:id                v2 blob PUT (single shot, block, block list)
 *   commit   v1 POST caches/:id                 v2 FinalizeCacheEntryUpload
 *   download GET of the archive URL (both)
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat, unlink } from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

export type CacheProtocol = 'v1' | 'v2'
export type CacheEndpoint = 'lookup' | 'reserve' | 'upload' | 'commit' | 'download'

export type CacheFault =
  /** Stop listening and drop open connections: clients get ECONNREFUSED until `clearFaults()`. */
  | { kind: 'down' }
  /**
   * Refuse every reservation as GitHub's service does for a run whose cache token is read-only
   * (v1: 403 with a `cache write denied:` message, v2: CreateCacheEntry `ok: false` with one);
   * lookups and downloads go on. Until `clearFaults()`.
   */
  | { kind: 'read-only' }
  /**
   * Answer `status` (e.g. 500, 503, 429) on `endpoint`, `times` times (default: until cleared), after
   * reading the request body, or with `early` before reading it (as a front end that rejects at once).
   */
  | { kind: 'status'; endpoint: CacheEndpoint; status: number; times?: number; early?: boolean }
  /**
   * Hold requests to `endpoint` for `ms` (default: until `clearFaults()` or `close()`), then serve them
   * normally. For `download`, `afterBytes` sends the headers and that many body bytes before holding.
   */
  | { kind: 'stall'; endpoint: CacheEndpoint; ms?: number; afterBytes?: number; times?: number }
  /** Destroy the connection once `afterBytes` bytes of the request (upload) or response (download) body passed. */
  | { kind: 'abort'; endpoint: 'upload' | 'download'; afterBytes: number; times?: number }

export interface CacheEntryInfo {
  key: string
  version: string
  size: number
  createdAt: number
}

export interface CacheServerStats {
  /** Requests received per endpoint, including those a fault answered. */
  requests: Record<CacheEndpoint, number>
  /** Archive bytes received by upload requests (including aborted ones). */
  bytesUploaded: number
  /** Archive bytes sent by download responses (including aborted ones). */
  bytesDownloaded: number
}

export interface CacheServer {
  readonly protocol: CacheProtocol
  /** Base URL, ending in `/`. */
  readonly url: string
  /** Variables `@actions/cache` needs for this protocol; `undefined` means the variable must be unset. */
  readonly env: Record<string, string | undefined>
  /** Committed entries, oldest first. */
  entries(): CacheEntryInfo[]
  /** Removes a committed entry, as the service's eviction does. Returns whether it existed. */
  evict(key: string): Promise<boolean>
  readonly stats: CacheServerStats
  resetStats(): void
  fault(fault: CacheFault): Promise<void>
  /** Removes every fault, releases held requests and listens again after `down`. */
  clearFaults(): Promise<void>
  close(): Promise<void>
}

/** Sets (or deletes, for `undefined`) each variable; returns a function that puts the previous values back. */
export function applyEnv(env: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(env).map(name => [name, process.env[name]]))
  const assign = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  assign(env)
  return () => assign(previous)
}

const V1_PREFIX = '/_apis/artifactcache/'
const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/'
const ARCHIVE_PREFIX = '/archive/'
// Path-style blob URL (account/container/blob) so @azure/storage-blob parses it as it does for emulators.
const BLOB_PREFIX = '/blob/cache/'
const MAX_KEY_LENGTH = 512
/** The stable prefix @actions/cache looks for to tell a policy denial from contention. */
const WRITE_DENIED = 'cache write denied: the cache token of this run is read-only'

interface Entry {
  id: number
  key: string
  version: string
  signature: string
  createdAt: number
  committed: boolean
  size: number
  /** Files holding the archive in order once uploaded. */
  parts: string[]
  /** v1 chunks by start offset, v2 staged blocks by block id. */
  staged: Map<string, { file: string; size: number }>
}

interface ActiveFault {
  fault: CacheFault
  remaining: number
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

export async function startCacheServer(opts: { protocol?: CacheProtocol } = {}): Promise<CacheServer> {
  const protocol = opts.protocol ?? 'v2'
  const dir = await mkdtemp(join(tmpdir(), 'cache-server-'))
  const token = randomBytes(16).toString('hex')
  const entries: Entry[] = []
  let nextId = 1
  let faults: ActiveFault[] = []
  const heldRequests = new Set<() => void>()
  const sockets = new Set<Socket>()
  const stats: CacheServerStats = {
    requests: { lookup: 0, reserve: 0, upload: 0, commit: 0, download: 0 },
    bytesUploaded: 0,
    bytesDownloaded: 0
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(error => {
      if (res.headersSent) res.destroy()
      else if (error instanceof HttpFailure) sendError(res, error.status, error.message)
      else sendError(res, 500, String(error))
    })
  })
  server.keepAliveTimeout = 1000
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/`
  let listening = true

  // Answers in the shape each client parses: twirp JSON errors, Azure XML errors, v1 JSON messages.
  function sendError(res: http.ServerResponse, status: number, message: string): void {
    const path = res.req.url ?? ''
    if (path.startsWith(TWIRP_PREFIX)) {
      const code =
        status === 409
          ? 'already_exists'
          : status === 429
            ? 'resource_exhausted'
            : status === 404
              ? 'not_found'
              : status === 400
                ? 'invalid_argument'
                : status === 401
                  ? 'unauthenticated'
                  : status === 503
                    ? 'unavailable'
                    : 'internal'
      sendJson(res, status, { code, msg: message })
    } else if (path.startsWith(BLOB_PREFIX)) {
      const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerError</Code><Message>${message}</Message></Error>`
      res.writeHead(status, { 'Content-Type': 'application/xml', 'x-ms-request-id': randomBytes(8).toString('hex') })
      res.end(body)
    } else {
      sendJson(res, status, { message, typeKey: 'CacheServiceError' })
    }
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text)
    }
    if (status === 429) headers['Retry-After'] = '1'
    res.writeHead(status, headers)
    res.end(text)
  }

  function endpointOf(req: http.IncomingMessage, path: string): CacheEndpoint | undefined {
    if (path.startsWith(ARCHIVE_PREFIX)) return 'download'
    if (path.startsWith(BLOB_PREFIX)) return req.method === 'PUT' ? 'upload' : 'download'
    if (path.startsWith(TWIRP_PREFIX)) {
      const method = path.slice(TWIRP_PREFIX.length)
      return method === 'GetCacheEntryDownloadURL'
        ? 'lookup'
        : method === 'CreateCacheEntry'
          ? 'reserve'
          : method === 'FinalizeCacheEntryUpload'
            ? 'commit'
            : undefined
    }
    if (path.startsWith(V1_PREFIX)) {
      const resource = path.slice(V1_PREFIX.length)
      if (resource === 'cache' || (resource === 'caches' && req.method === 'GET')) return 'lookup'
      if (resource === 'caches') return 'reserve'
      if (/^caches\/\d+$/.test(resource)) return req.method === 'PATCH' ? 'upload' : 'commit'
    }
    return undefined
  }

  /** Takes the first fault for this endpoint and counts it down. */
  function takeFault(endpoint: CacheEndpoint): CacheFault | undefined {
    const active = faults.find(
      a => a.fault.kind !== 'down' && a.fault.kind !== 'read-only' && a.fault.endpoint === endpoint
    )
    if (!active) return undefined
    if (--active.remaining <= 0) faults = faults.filter(a => a !== active)
    return active.fault
  }

  function hold(ms: number | undefined): Promise<void> {
    return new Promise(resolve => {
      const release = (): void => {
        heldRequests.delete(release)
        clearTimeout(timer)
        resolve()
      }
      const timer = ms === undefined ? undefined : setTimeout(release, ms)
      heldRequests.add(release)
    })
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', url)
    const path = requestUrl.pathname
    const endpoint = endpointOf(req, path)
    if (!endpoint) throw new HttpFailure(404, `no route for ${req.method} ${path}`)
    stats.requests[endpoint]++
    const fault = takeFault(endpoint)
    if (fault?.kind === 'status') {
      if (fault.early) req.resume()
      else for await (const chunk of req) stats.bytesUploaded += (chunk as Buffer).length
      throw new HttpFailure(fault.status, `injected ${fault.status}`)
    }
    if (fault?.kind === 'stall' && !(endpoint === 'download' && fault.afterBytes !== undefined)) {
      await hold(fault.ms)
    }
    const bodyFault = fault?.kind === 'abort' || fault?.kind === 'stall' ? fault : undefined

    if (path.startsWith(TWIRP_PREFIX) || path.startsWith(V1_PREFIX)) {
      if (req.headers.authorization !== `Bearer ${token}`) throw new HttpFailure(401, 'bad or missing runtime token')
    }
    if (endpoint === 'reserve' && faults.some(a => a.fault.kind === 'read-only')) {
      await readJson(req)
      if (path.startsWith(TWIRP_PREFIX)) return sendJson(res, 200, { ok: false, message: WRITE_DENIED })
      throw new HttpFailure(403, WRITE_DENIED)
    }
    if (path.startsWith(TWIRP_PREFIX)) return twirp(path.slice(TWIRP_PREFIX.length), await readJson(req), res)
    if (path.startsWith(V1_PREFIX)) return v1(req, res, requestUrl, path.slice(V1_PREFIX.length), bodyFault)

    const prefix = path.startsWith(ARCHIVE_PREFIX) ? ARCHIVE_PREFIX : BLOB_PREFIX
    const entry = entries.find(e => String(e.id) === path.slice(prefix.length))
    if (!entry || requestUrl.searchParams.get('sig') !== entry.signature) throw new HttpFailure(403, 'bad signature')
    if (endpoint === 'upload') return blobPut(req, res, requestUrl, entry, bodyFault)
    if (!entry.committed) throw new HttpFailure(404, 'entry not committed')
    return serveArchive(req, res, entry, bodyFault)
  }

  async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    try {
      return text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      throw new HttpFailure(400, 'malformed JSON body')
    }
  }

  function validateKey(key: unknown, version: unknown): asserts key is string {
    if (typeof key !== 'string' || !key || key.length > MAX_KEY_LENGTH || key.includes(',')) {
      throw new HttpFailure(400, `invalid key: at most ${MAX_KEY_LENGTH} characters, no commas`)
    }
    if (typeof version !== 'string' || !version) throw new HttpFailure(400, 'version is required')
  }

  function findMatch(keys: string[], version: string): Entry | undefined {
    const candidates = entries.filter(e => e.committed && e.version === version)
    const newest = (list: Entry[]): Entry | undefined =>
      list.reduce<Entry | undefined>((best, e) => (!best || e.createdAt >= best.createdAt ? e : best), undefined)
    const exact = newest(candidates.filter(e => e.key === keys[0]))
    if (exact) return exact
    for (const prefix of keys) {
      const match = newest(candidates.filter(e => e.key.startsWith(prefix)))
      if (match) return match
    }
    return undefined
  }

  function reserve(key: string, version: string): Entry {
    if (entries.some(e => e.key === key && e.version === version)) {
      throw new HttpFailure(409, `cache entry with the same key, version, and scope already exists: ${key}`)
    }
    const entry: Entry = {
      id: nextId++,
      key,
      version,
      signature: randomBytes(16).toString('hex'),
      createdAt: 0,
      committed: false,
      size: 0,
      parts: [],
      staged: new Map()
    }
    entries.push(entry)
    return entry
  }

  function commit(entry: Entry, size: number): void {
    if (size !== entry.size) throw new HttpFailure(400, `size ${size} does not match the ${entry.size} bytes uploaded`)
    entry.committed = true
    // Strictly increasing so "newest wins" holds even within one millisecond.
    entry.createdAt = Math.max(Date.now(), ...entries.map(e => e.createdAt + 1))
  }

  function archiveUrl(entry: Entry, prefix: string): string {
    return `${url}${prefix.slice(1)}${entry.id}?sig=${entry.signature}`
  }

  function twirp(method: string, body: Record<string, unknown>, res: http.ServerResponse): void {
    const { key, version } = body
    validateKey(key, version)
    if (method === 'CreateCacheEntry') {
      const entry = reserve(key, version as string)
      return sendJson(res, 200, { ok: true, signed_upload_url: archiveUrl(entry, BLOB_PREFIX) })
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const entry = entries.find(e => e.key === key && e.version === version && !e.committed)
      if (!entry) return sendJson(res, 200, { ok: false, message: `no upload in progress for ${key}` })
      commit(entry, Number(body.size_bytes))
      return sendJson(res, 200, { ok: true, entry_id: String(entry.id) })
    }
    const restoreKeys = Array.isArray(body.restore_keys) ? (body.restore_keys as string[]) : []
    const match = findMatch([key, ...restoreKeys], version as string)
    if (!match) return sendJson(res, 200, { ok: false, signed_download_url: '', matched_key: '' })
    return sendJson(res, 200, { ok: true, signed_download_url: archiveUrl(match, BLOB_PREFIX), matched_key: match.key })
  }

  async function v1(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    requestUrl: URL,
    resource: string,
    bodyFault: CacheFault | undefined
  ): Promise<void> {
    if (resource === 'cache') {
      const keys = (requestUrl.searchParams.get('keys') ?? '').split(',').filter(Boolean)
      const version = requestUrl.searchParams.get('version') ?? ''
      if (keys.length === 0 || !version) throw new HttpFailure(400, 'keys and version are required')
      const match = findMatch(keys, version)
      if (!match) {
        res.writeHead(204).end()
        return
      }
      return sendJson(res, 200, {
        cacheKey: match.key,
        scope: 'refs/heads/main',
        cacheVersion: match.version,
        archiveLocation: archiveUrl(match, ARCHIVE_PREFIX)
      })
    }
    if (resource === 'caches' && req.method === 'GET') {
      const key = requestUrl.searchParams.get('key') ?? ''
      const artifactCaches = entries
        .filter(e => e.committed && e.key === key)
        .map(e => ({
          cacheKey: e.key,
          cacheVersion: e.version,
          scope: 'refs/heads/main',
          creationTime: new Date(e.createdAt).toISOString()
        }))
      return sendJson(res, 200, { totalCount: artifactCaches.length, artifactCaches })
    }
    if (resource === 'caches') {
      const { key, version } = await readJson(req)
      validateKey(key, version)
      return sendJson(res, 201, { cacheId: reserve(key, version as string).id })
    }
    const entry = entries.find(e => `caches/${e.id}` === resource)
    if (!entry || entry.committed) throw new HttpFailure(404, `no upload in progress for ${resource}`)
    if (req.method === 'PATCH') {
      const range = /^bytes (\d+)-(\d+)\/(\*|\d+)$/.exec(req.headers['content-range'] ?? '')
      if (!range) throw new HttpFailure(400, 'Content-Range bytes start-end/* is required')
      const start = Number(range[1])
      const size = await receive(req, entry, `chunk-${String(start).padStart(16, '0')}`, bodyFault)
      if (size !== Number(range[2]) - start + 1) throw new HttpFailure(400, 'chunk length does not match Content-Range')
      res.writeHead(204).end()
      return
    }
    // Commit: chunks must tile the archive from offset 0 without gaps.
    const { size } = await readJson(req)
    const chunks = [...entry.staged.entries()].sort(([a], [b]) => a.localeCompare(b))
    let offset = 0
    for (const [name, chunk] of chunks) {
      if (Number(name.slice('chunk-'.length)) !== offset)
        throw new HttpFailure(400, `missing bytes at offset ${offset}`)
      offset += chunk.size
    }
    entry.parts = chunks.map(([, chunk]) => chunk.file)
    entry.size = offset
    commit(entry, Number(size))
    res.writeHead(204).end()
  }

  /** Streams a request body to a file of the entry, counting bytes and applying an abort fault. */
  async function receive(
    req: http.IncomingMessage,
    entry: Entry,
    name: string,
    bodyFault: CacheFault | undefined
  ): Promise<number> {
    const file = join(dir, `${entry.id}-${name}`)
    let size = 0
    const abortAfter = bodyFault?.kind === 'abort' ? bodyFault.afterBytes : Infinity
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      stats.bytesUploaded += chunk.length
      if (size >= abortAfter) req.socket.destroy()
    })
    await pipeline(req, createWriteStream(file))
    entry.staged.set(name, { file, size })
    return size
  }

  async function blobPut(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    requestUrl: URL,
    entry: Entry,
    bodyFault: CacheFault | undefined
  ): Promise<void> {
    if (entry.committed) throw new HttpFailure(409, 'blob is immutable once the entry is finalized')
    const comp = requestUrl.searchParams.get('comp')
    if (comp === 'block') {
      const blockId = requestUrl.searchParams.get('blockid')
      if (!blockId) throw new HttpFailure(400, 'blockid is required')
      await receive(req, entry, `block-${Buffer.from(blockId, 'base64').toString('hex')}`, bodyFault)
    } else if (comp === 'blocklist') {
      const xml = (await readBody(req)).toString('utf8')
      const ids = [...xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map(m => m[2])
      const blocks = ids.map(id => {
        const block = entry.staged.get(`block-${Buffer.from(id, 'base64').toString('hex')}`)
        if (!block) throw new HttpFailure(400, `block ${id} was not staged`)
        return block
      })
      entry.parts = blocks.map(b => b.file)
      entry.size = blocks.reduce((sum, b) => sum + b.size, 0)
    } else if (comp === null && req.headers['x-ms-blob-type'] === 'BlockBlob') {
      const size = await receive(req, entry, 'blob', bodyFault)
      entry.parts = [join(dir, `${entry.id}-blob`)]
      entry.size = size
    } else {
      throw new HttpFailure(400, `unsupported blob operation ${comp ?? 'PUT'}`)
    }
    res.writeHead(201, azureHeaders(req, entry))
    res.end()
  }

  async function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  function azureHeaders(req: http.IncomingMessage, entry: Entry): http.OutgoingHttpHeaders {
    return {
      ETag: `"0x${entry.id.toString(16).padStart(8, '0')}${entry.size.toString(16)}"`,
      'Last-Modified': new Date().toUTCString(),
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': req.headers['x-ms-version'] ?? '2025-01-05',
      'x-ms-request-server-encrypted': 'true',
      'Content-Length': 0
    }
  }

  async function serveArchive(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: Entry,
    bodyFault: CacheFault | undefined
  ): Promise<void> {
    let start = 0
    let end = entry.size - 1
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? req.headers['x-ms-range']?.toString() ?? '')
    if (range) {
      start = range[1] ? Number(range[1]) : Math.max(0, entry.size - Number(range[2]))
      end = range[1] && range[2] ? Math.min(Number(range[2]), entry.size - 1) : entry.size - 1
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${entry.size}` }).end()
        return
      }
    }
    const headers: http.OutgoingHttpHeaders = {
      ...azureHeaders(req, entry),
      'Content-Type': 'application/octet-stream',
      'Content-Length': end - start + 1,
      'Accept-Ranges': 'bytes',
      'x-ms-blob-type': 'BlockBlob'
    }
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${entry.size}`
    res.writeHead(range ? 206 : 200, headers)
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    const limit =
      bodyFault && bodyFault.kind !== 'status' && 'afterBytes' in bodyFault
        ? (bodyFault.afterBytes ?? Infinity)
        : Infinity
    let sent = 0
    let offset = 0
    for (const file of entry.parts) {
      const { size } = await stat(file)
      const from = Math.max(start, offset)
      const to = Math.min(end, offset + size - 1)
      offset += size
      if (from > to) continue
      for await (const chunk of createReadStream(file, { start: from - (offset - size), end: to - (offset - size) })) {
        const buffer = chunk as Buffer
        const piece = sent + buffer.length > limit ? buffer.subarray(0, limit - sent) : buffer
        if (piece.length > 0 && !res.write(piece)) await new Promise(resolve => res.once('drain', resolve))
        sent += piece.length
        stats.bytesDownloaded += piece.length
        if (sent >= limit) {
          if (bodyFault?.kind === 'stall') await hold(bodyFault.ms)
          else {
            res.socket?.destroy()
            return
          }
        }
        if (res.destroyed) return
      }
    }
    res.end()
  }

  function releaseHeld(): void {
    for (const release of [...heldRequests]) release()
  }

  async function stopListening(): Promise<void> {
    if (!listening) return
    listening = false
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  }

  return {
    protocol,
    url,
    env:
      protocol === 'v1'
        ? {
            ACTIONS_CACHE_URL: url,
            ACTIONS_RUNTIME_TOKEN: token,
            ACTIONS_CACHE_SERVICE_V2: undefined,
            ACTIONS_RESULTS_URL: undefined,
            ACTIONS_CACHE_MODE: undefined
          }
        : {
            ACTIONS_CACHE_SERVICE_V2: 'true',
            ACTIONS_RESULTS_URL: url,
            ACTIONS_RUNTIME_TOKEN: token,
            ACTIONS_CACHE_URL: undefined,
            ACTIONS_CACHE_MODE: undefined,
            // Any other server URL counts as GHES, where the library falls back to v1.
            GITHUB_SERVER_URL: 'https://github.com'
          },
    entries: () =>
      entries
        .filter(e => e.committed)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map(({ key, version, size, createdAt }) => ({ key, version, size, createdAt })),
    async evict(key) {
      const index = entries.findIndex(e => e.committed && e.key === key)
      if (index < 0) return false
      const [entry] = entries.splice(index, 1)
      await Promise.all([...entry.staged.values()].map(s => unlink(s.file).catch(() => undefined)))
      return true
    },
    stats,
    resetStats() {
      for (const name of Object.keys(stats.requests) as CacheEndpoint[]) stats.requests[name] = 0
      stats.bytesUploaded = 0
      stats.bytesDownloaded = 0
    },
    async fault(fault) {
      if (fault.kind === 'read-only') {
        faults.push({ fault, remaining: Infinity })
        return
      }
      if (fault.kind === 'down') {
        faults.push({ fault, remaining: Infinity })
        await stopListening()
        return
      }
      faults.push({ fault, remaining: fault.times ?? Infinity })
    },
    async clearFaults() {
      faults = []
      releaseHeld()
      if (!listening) {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(port, '127.0.0.1', () => {
            server.off('error', reject)
            resolve()
          })
        })
        listening = true
      }
    },
    async close() {
      faults = []
      releaseHeld()
      await stopListening()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
