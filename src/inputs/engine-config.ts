// The `engine-config` input. The engine refuses to start on a field it does not know, so the value
// is checked against the engine's own schema (docs/static/reference/engine.schema.json in the
// dagger repository at v0.21.8) before anything runs. Kept apart from engine/engine-json.ts, which
// writes engine.json and needs no validator.

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { errorMessage } from '../shared/errors.js'
import { InputError } from './parse.js'
import type { EngineConfigOverrides } from '../engine/engine-json.js'
import schema from './engine.schema.json' with { type: 'json' }

/** Set by cache-max-size: an engine-config that sets them too is refused rather than half-applied. */
const OWNED_GC_FIELDS = ['enabled', 'maxUsedSpace', 'reservedSpace'] as const

const ALLOWED =
  'expected a JSON object for /etc/dagger/engine.json (logLevel, gc, security, registries), e.g. {"registries":{"docker.io":{"mirrors":["mirror.example.com"]}}}'

/**
 * The schema is generated from the engine's Go structs, which marks every registry field required;
 * the engine decodes engine.json with Go's encoding/json, which requires none (only unknown fields
 * are fatal), so a mirror entry without `ca` starts fine. The `required` lists are dropped.
 */
function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired)
  if (typeof node !== 'object' || node === null) return node
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'required')
      .map(([key, value]) => [key, withoutRequired(value)])
  )
}

let validator: ReturnType<Ajv2020['compile']> | undefined
function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv2020({ strict: false, allErrors: true }).compile(withoutRequired(schema) as object)
  return validator(value) ? [] : (validator.errors ?? [])
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/'
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown field '${String(error.params.additionalProperty)}'`
  }
  return `${where}: ${error.message ?? error.keyword}`
}

/** Parses the `engine-config` input: '' is none; otherwise a JSON object that the engine accepts. */
export function parseEngineConfig(raw: string): EngineConfigOverrides | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new InputError('engine-config', value, `${ALLOWED}; it is not JSON (${errorMessage(error)})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError('engine-config', value, ALLOWED)
  }
  const errors = validate(parsed)
  if (errors.length > 0) {
    // anyOf branches repeat one another; the first few distinct messages say what is wrong.
    const messages = [...new Set(errors.map(describe))].slice(0, 3)
    throw new InputError('engine-config', value, `the engine's schema refuses it: ${messages.join('; ')}`)
  }
  const gc = (parsed as { gc?: Record<string, unknown> }).gc
  const owned = OWNED_GC_FIELDS.filter(field => gc && field in gc)
  if (owned.length > 0) {
    throw new InputError(
      'engine-config',
      value,
      `leave out gc.${owned.join(', gc.')}: the action sets the GC limit from cache-max-size, so that the saved state fits the cache (other gc fields are allowed)`
    )
  }
  return parsed as EngineConfigOverrides
}
