/**
 * A loopback stand-in for a Dagger engine session, spoken to by the real `@dagger.io/dagger` SDK.
 *
 * With DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN set, the SDK spawns no CLI and sends every
 * query as `POST http://127.0.0.1:$PORT/query` with `Authorization: Basic base64(token + ":")`.
 * This server checks that header, validates each query against the engine's real schema
 * (support/dagger/schema.graphqls, v0.21.8), executes it with a resolver that remembers how every
 * object was built, and records what was asked so tests can assert the pipeline by contract.
 *
 * Objects are chains of steps from the root (`container.from(...).withExec(...)`). IDs are opaque
 * to the SDK but encode their chain, so an object passed as an argument (the SDK sends IDs) or
 * reloaded with `node(id:)` decodes back to the chain that built it; in recorded arguments such
 * IDs appear as `{ $ref: ObjectRef }`.
 *
 * Failures follow the engine's laziness: a hook may fail an object-returning field (`withExec`)
 * with an execError; the error surfaces, as the engine's EXEC_ERROR, when a value that needs the
 * object evaluated (`stdout`, `sync`, `export`, `contents`, ...) is asked of it or of anything
 * built from it, while its `id` still resolves.
 *
 * Host exports (`export(path:)` on Directory, File, Container, ...) are recorded in `exports`.
 * The real engine writes them to the client's filesystem; here an `onExport` hook may return
 * content to write at the path (a string/bytes for a file, or a map of relative paths to content
 * for a directory), so the pipeline's host-side code can read what it exported.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  buildSchema,
  execute,
  getNamedType,
  GraphQLError,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  validate,
  type DocumentNode,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type GraphQLTypeResolver
} from 'graphql'

export interface ChainStep {
  /** The type the field was selected on (`Query` for the root). */
  type: string
  field: string
  /** Arguments as received; ID arguments are decoded to `{ $ref: ObjectRef }`. */
  args: Record<string, unknown>
}

export interface ObjectRef {
  type: string
  chain: ChainStep[]
}

export interface FieldCall {
  typeName: string
  field: string
  args: Record<string, unknown>
  parentChain: ChainStep[]
  /** The readable chain including this field, e.g. `container.from(address: "golang:1.23").stdout`. */
  text: string
  /** Index into `session.queries` of the query that asked for it. */
  query: number
}

export interface ExecFailure {
  cmd: string[]
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * `value` answers a scalar field (ignored for object fields, which always resolve to their chain);
 * `execError` fails the field, or, on an object field, everything evaluated from that object.
 */
export type FieldAnswer = undefined | { value: unknown } | { execError: ExecFailure }
/** May be async: a test can hold one stage's answer until another stage's query has arrived. */
export type FieldHook = (call: FieldCall) => FieldAnswer | Promise<FieldAnswer>

export interface HostExport {
  /** The exported object's type: `Directory`, `File`, `Container`, ... */
  typeName: string
  /** Absolute host path, resolved against the process's working directory like the engine does. */
  path: string
  args: Record<string, unknown>
  /** The chain of the exported object. */
  chain: ChainStep[]
  text: string
}

export type ExportContent = string | Uint8Array | { [relativePath: string]: string | Uint8Array }
export type ExportHook = (exported: HostExport) => ExportContent | undefined

export interface RecordedQuery {
  text: string
  document?: DocumentNode
  variables?: Record<string, unknown>
  /** Milliseconds since the session started, for asserting the order of concurrent stages. */
  receivedAt: number
  answeredAt?: number
}

export interface InvalidQuery {
  text: string
  errors: string[]
}

export interface EngineSessionOptions {
  onField?: FieldHook
  onExport?: ExportHook
}

export interface EngineSession {
  readonly port: number
  readonly token: string
  readonly url: string
  /** What the SDK reads to reach this session instead of spawning a CLI. */
  readonly env: { DAGGER_SESSION_PORT: string; DAGGER_SESSION_TOKEN: string }
  readonly queries: RecordedQuery[]
  /** Queries the engine would reject (parse/validation errors, undecodable IDs). */
  readonly invalid: InvalidQuery[]
  /** Requests refused for a missing or wrong token. */
  readonly unauthorized: { authorization: string | undefined }[]
  /** Every field resolved, in order (except `id`, `node` and `__typename`). */
  readonly calls: FieldCall[]
  readonly exports: HostExport[]
  /** Adds a hook; the first hook (newest first) that returns an answer wins. Returns a remover. */
  onField(hook: FieldHook): () => void
  onExport(hook: ExportHook): () => void
  /** Distinct readable chains of every leaf resolved (e.g. `...withExec(args: ["go", "build"]).sync`). */
  chains(): string[]
  /** Calls of `field` (optionally on `typeName`). */
  callsTo(field: string, typeName?: string): FieldCall[]
  /** Throws listing every invalid query and refused request, if any. */
  assertAllValid(): void
  decodeId(id: string): ObjectRef
  render(chain: ChainStep[] | ObjectRef): string
  /** Sets DAGGER_SESSION_PORT/TOKEN in process.env until `close()` (or the returned restore). */
  applyEnv(): () => void
  close(): Promise<void>
}

const schemaPath = join(dirname(fileURLToPath(import.meta.url)), 'dagger', 'schema.graphqls')
let cachedSchema: GraphQLSchema | undefined

export function daggerSchema(): GraphQLSchema {
  cachedSchema ??= buildSchema(readFileSync(schemaPath, 'utf8'))
  return cachedSchema
}

const ID_PREFIX = 'stand-in:'

export function encodeId(ref: ObjectRef): string {
  return ID_PREFIX + Buffer.from(JSON.stringify(ref)).toString('base64url')
}

export function decodeId(id: string): ObjectRef {
  if (!id.startsWith(ID_PREFIX)) throw new Error(`not an ID issued by this session: ${id.slice(0, 60)}`)
  const ref = JSON.parse(Buffer.from(id.slice(ID_PREFIX.length), 'base64url').toString('utf8')) as ObjectRef
  if (typeof ref?.type !== 'string' || !Array.isArray(ref.chain)) throw new Error(`malformed ID: ${id.slice(0, 60)}`)
  return ref
}

function isRef(value: unknown): value is { $ref: ObjectRef } {
  return typeof value === 'object' && value !== null && '$ref' in value
}

function renderValue(type: GraphQLInputType | undefined, value: unknown): string {
  if (isRef(value)) return renderChain(value.$ref.chain)
  const unwrapped = type && isNonNullType(type) ? type.ofType : type
  if (Array.isArray(value)) {
    const item = unwrapped && isListType(unwrapped) ? unwrapped.ofType : undefined
    return `[${value.map(v => renderValue(item, v)).join(', ')}]`
  }
  if (unwrapped && isEnumType(unwrapped) && typeof value === 'string') return value
  if (typeof value === 'object' && value !== null) {
    const fields = unwrapped && isInputObjectType(unwrapped) ? unwrapped.getFields() : {}
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${renderValue(fields[k]?.type, v)}`)
    return `{${entries.join(', ')}}`
  }
  return JSON.stringify(value)
}

function renderStep(step: ChainStep): string {
  const owner = daggerSchema().getType(step.type)
  const argDefs = owner && isObjectType(owner) ? (owner.getFields()[step.field]?.args ?? []) : []
  const args = Object.entries(step.args).map(
    ([name, value]) => `${name}: ${renderValue(argDefs.find(a => a.name === name)?.type, value)}`
  )
  return args.length ? `${step.field}(${args.join(', ')})` : step.field
}

export function renderChain(chain: ChainStep[] | ObjectRef): string {
  const steps = Array.isArray(chain) ? chain : chain.chain
  return steps.map(renderStep).join('.')
}

/** Replaces ID arguments by the chain they encode, recursing through lists and input objects. */
function decodeArgValue(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value
  if (isNonNullType(type)) return decodeArgValue(type.ofType, value)
  if (isListType(type)) {
    return Array.isArray(value) ? value.map(v => decodeArgValue(type.ofType, v)) : decodeArgValue(type.ofType, value)
  }
  // graphql-js has coerced every ID argument to a string before a resolver sees it.
  if (isScalarType(type) && type.name === 'ID') return { $ref: decodeId(value as string) }
  if (isInputObjectType(type)) {
    const fields = type.getFields()
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        fields[k] ? decodeArgValue(fields[k].type, v) : v
      ])
    )
  }
  return value
}

/** Keeps only the arguments the query spelled out: the schema's defaults are the engine's business. */
function decodeArgs(
  defs: readonly GraphQLArgument[],
  raw: Record<string, unknown>,
  sent: ReadonlySet<string>
): Record<string, unknown> {
  const args: Record<string, unknown> = {}
  for (const def of defs) {
    if (raw[def.name] === undefined || !sent.has(def.name)) continue
    args[def.name] = decodeArgValue(def.type, raw[def.name])
  }
  return args
}

function defaultLeaf(
  type: GraphQLOutputType,
  field: string,
  args: Record<string, unknown>,
  parent: ObjectRef
): unknown {
  const nonNull = isNonNullType(type)
  const inner = nonNull ? type.ofType : type
  if (isListType(inner)) return []
  if (isEnumType(inner)) return inner.getValues()[0]?.value
  if (!isScalarType(inner)) return null
  if (field === 'publish' && typeof args.address === 'string') {
    return `${args.address}@sha256:${digestOf(renderChain(parent))}`
  }
  switch (inner.name) {
    case 'String':
      return ''
    case 'Int':
    case 'Float':
      return 0
    case 'Boolean':
      return true
    case 'Platform':
      return platformOf(parent)
    case 'JSON':
      return nonNull ? 'null' : null
    default:
      return null
  }
}

/** The platform a chain was built for: the nearest `platform` argument, else the engine's own. */
function platformOf(ref: ObjectRef): string {
  const step = ref.chain.findLast(s => typeof s.args.platform === 'string')
  return (step?.args.platform as string | undefined) ?? 'linux/amd64'
}

function digestOf(text: string): string {
  // Stable per chain, so the same image always "publishes" to the same digest.
  let hex = ''
  for (let i = 0; hex.length < 64; i++) hex += Buffer.from(`${i}:${text}`).toString('hex').slice(-8)
  return hex.slice(0, 64)
}

function execGraphQLError(failure: ExecFailure): GraphQLError {
  return new GraphQLError(
    `process "${failure.cmd.join(' ')}" did not complete successfully: exit code: ${failure.exitCode}`,
    { extensions: { _type: 'EXEC_ERROR', ...failure } }
  )
}

async function writeExport(path: string, content: ExportContent): Promise<void> {
  if (typeof content === 'string' || content instanceof Uint8Array) {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content)
    return
  }
  await mkdir(path, { recursive: true })
  for (const [relative, data] of Object.entries(content)) {
    const target = join(path, relative)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, data)
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

export async function startEngineSession(opts: EngineSessionOptions = {}): Promise<EngineSession> {
  const schema = daggerSchema()
  const token = randomBytes(16).toString('hex')
  const expectedAuth = 'Basic ' + Buffer.from(token + ':').toString('base64')
  const fieldHooks: FieldHook[] = opts.onField ? [opts.onField] : []
  const exportHooks: ExportHook[] = opts.onExport ? [opts.onExport] : []
  const queries: RecordedQuery[] = []
  const invalid: InvalidQuery[] = []
  const unauthorized: { authorization: string | undefined }[] = []
  const calls: FieldCall[] = []
  const exports: HostExport[] = []
  // Exec failures keyed by the readable chain of the object that failed.
  const failures = new Map<string, ExecFailure>()
  let restoreEnv: (() => void) | undefined
  const startedAt = performance.now()
  const elapsed = (): number => performance.now() - startedAt

  const failureOf = (ref: ObjectRef): ExecFailure | undefined => {
    for (let i = 1; i <= ref.chain.length; i++) {
      const step = ref.chain[i - 1]
      const own = failures.get(renderChain(ref.chain.slice(0, i)))
      if (own) return own
      for (const value of Object.values(step.args)) {
        const nested = [value].flat(Infinity).filter(isRef)
        for (const arg of nested) {
          const found = failureOf(arg.$ref)
          if (found) return found
        }
      }
    }
    return undefined
  }

  const answer = async (call: FieldCall): Promise<FieldAnswer> => {
    for (const hook of [...fieldHooks].reverse()) {
      const result = await hook(call)
      if (result) return result
    }
    return undefined
  }

  const resolveType: GraphQLTypeResolver<ObjectRef, unknown> = value => value.type

  const resolveField: GraphQLFieldResolver<ObjectRef, { query: number }, Record<string, unknown>> = async (
    parent,
    rawArgs,
    context,
    info
  ) => {
    const field = info.fieldName
    if (field === 'id') return encodeId(parent)
    // An ID this session never issued is a query the engine would reject.
    const decodingIds = <T>(decode: () => T): T => {
      try {
        return decode()
      } catch (error) {
        invalid.push({ text: queries[context.query].text, errors: [(error as Error).message] })
        throw error
      }
    }
    if (info.parentType.name === 'Query' && field === 'node') return decodingIds(() => decodeId(String(rawArgs.id)))
    const sent = new Set(info.fieldNodes.flatMap(node => node.arguments?.map(arg => arg.name.value) ?? []))
    const args = decodingIds(() => decodeArgs(info.parentType.getFields()[field].args, rawArgs, sent))
    const step: ChainStep = { type: info.parentType.name, field, args }
    const chain = [...parent.chain, step]
    const call: FieldCall = {
      typeName: step.type,
      field,
      args,
      parentChain: parent.chain,
      text: renderChain(chain),
      query: context.query
    }
    calls.push(call)
    const hooked = await answer(call)
    const returned = getNamedType(info.returnType)

    if (isObjectType(returned) || isAbstractType(returned)) {
      const child: ObjectRef = { type: returned.name, chain }
      if (hooked && 'execError' in hooked) failures.set(call.text, hooked.execError)
      const listed = isListType(isNonNullType(info.returnType) ? info.returnType.ofType : info.returnType)
      return listed ? [] : child
    }

    if (hooked && 'execError' in hooked) throw execGraphQLError(hooked.execError)
    const upstream = failureOf(parent)
    if (upstream && !hooked) throw execGraphQLError(upstream)
    if (field === 'sync') return encodeId(parent)
    if (field === 'export' && typeof args.path === 'string') {
      const exported: HostExport = {
        typeName: step.type,
        path: resolve(args.path),
        args,
        chain: parent.chain,
        text: call.text
      }
      exports.push(exported)
      for (const hook of [...exportHooks].reverse()) {
        const content = hook(exported)
        if (content !== undefined) {
          await writeExport(exported.path, content)
          break
        }
      }
      if (!hooked) return exported.path
    }
    if (hooked) return hooked.value
    return defaultLeaf(info.returnType, field, args, parent)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.authorization !== expectedAuth) {
      unauthorized.push({ authorization: req.headers.authorization === undefined ? undefined : '<redacted>' })
      res.writeHead(401, { 'content-type': 'text/plain' })
      res.end('unauthorized')
      return
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/query') {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found')
      return
    }
    const body = await readBody(req)
    let request: { query?: unknown; variables?: Record<string, unknown>; operationName?: string }
    try {
      request = JSON.parse(body) as typeof request
    } catch {
      invalid.push({ text: body, errors: ['request body is not JSON'] })
      reply(res, 400, { errors: [{ message: 'request body is not JSON' }] })
      return
    }
    const text = typeof request.query === 'string' ? request.query : ''
    const recorded: RecordedQuery = { text, variables: request.variables ?? undefined, receivedAt: elapsed() }
    const index = queries.push(recorded) - 1
    let document: DocumentNode
    try {
      document = parse(text)
    } catch (error) {
      const message = (error as GraphQLError).message
      invalid.push({ text, errors: [message] })
      reply(res, 422, { errors: [{ message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] })
      return
    }
    recorded.document = document
    const validationErrors = validate(schema, document)
    if (validationErrors.length > 0) {
      invalid.push({ text, errors: validationErrors.map(e => e.message) })
      reply(res, 422, {
        errors: validationErrors.map(e => ({ ...e.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }))
      })
      return
    }
    const result = await execute({
      schema,
      document,
      rootValue: { type: 'Query', chain: [] } satisfies ObjectRef,
      contextValue: { query: index },
      variableValues: request.variables,
      operationName: request.operationName,
      fieldResolver: resolveField,
      typeResolver: resolveType
    })
    recorded.answeredAt = elapsed()
    reply(res, 200, result)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(error => reply(res, 500, { errors: [{ message: String(error) }] }))
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolveListen())
  })
  const port = (server.address() as AddressInfo).port
  const env = { DAGGER_SESSION_PORT: String(port), DAGGER_SESSION_TOKEN: token }

  const addHook = <T>(list: T[], hook: T): (() => void) => {
    list.push(hook)
    return () => {
      const at = list.indexOf(hook)
      if (at >= 0) list.splice(at, 1)
    }
  }

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/query`,
    env,
    queries,
    invalid,
    unauthorized,
    calls,
    exports,
    onField: hook => addHook(fieldHooks, hook),
    onExport: hook => addHook(exportHooks, hook),
    chains() {
      const leaves = calls.filter(call => {
        const owner = schema.getType(call.typeName)
        const returned = owner && isObjectType(owner) ? getNamedType(owner.getFields()[call.field].type) : undefined
        return returned !== undefined && !isObjectType(returned) && !isAbstractType(returned)
      })
      return [...new Set(leaves.map(call => call.text))]
    },
    callsTo: (field, typeName) => calls.filter(c => c.field === field && (!typeName || c.typeName === typeName)),
    assertAllValid() {
      const problems = [
        ...invalid.map(q => `invalid query: ${q.errors.join('; ')}\n  ${q.text.trim()}`),
        ...unauthorized.map(
          u => `request refused: ${u.authorization === undefined ? 'no' : 'wrong'} Authorization header`
        )
      ]
      if (problems.length > 0) throw new Error(`the engine session would have rejected:\n${problems.join('\n')}`)
    },
    decodeId,
    render: renderChain,
    applyEnv() {
      const previous = { port: process.env.DAGGER_SESSION_PORT, token: process.env.DAGGER_SESSION_TOKEN }
      Object.assign(process.env, env)
      const restore = (): void => {
        for (const [name, value] of [
          ['DAGGER_SESSION_PORT', previous.port],
          ['DAGGER_SESSION_TOKEN', previous.token]
        ] as const) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
        if (restoreEnv === restore) restoreEnv = undefined
      }
      restoreEnv = restore
      return restore
    },
    async close() {
      restoreEnv?.()
      server.closeAllConnections()
      await new Promise<void>(done => server.close(() => done()))
    }
  }
}
