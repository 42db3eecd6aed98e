// The Dagger version, from one source of truth: the dagger-version input when it is set, else the
// engineVersion of the source's dagger.json (the version the repository's own Dagger module asks
// for), else the version the bundled SDK pins. The version is validated like the input, and judged
// against the bundled SDK, before anything is downloaded.
//
// Why the judgement: the action's stages speak to the engine through the bundled @dagger.io/dagger,
// whose client is generated from the API of one release line (SDK_CLI_VERSION's X.Y). An engine of
// that line serves that API; an engine of another line may have renamed, removed or changed some of
// it, and a stage would then fail half-way with a GraphQL error that names neither cause. So:
//   - stage none: the SDK never talks to the engine (the job's later steps do), any version is fine;
//   - the SDK's own line: used, with one line in the log when the patch differs;
//   - another line from the dagger-version input: used, with a warning (a deliberate choice);
//   - another line from dagger.json: refused, because that file speaks for the module's own
//     `dagger call`, not for the action's stages; dagger-version (with its warning) or stage none
//     are the ways to run it anyway.
import * as core from '@actions/core'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DAGGER_VERSION_ALLOWED, normalizeDaggerVersion, SDK_CLI_VERSION } from '../dagger-cli/install.js'
import { errorMessage } from '../shared/errors.js'

export const DAGGER_JSON = 'dagger.json'

/** A bad value in a file the action reads: it names the file, the field, the value and what is allowed. */
export class FileFieldError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly value: string,
    readonly allowed: string
  ) {
    super(`${file}: field '${field}' has an invalid value '${value}': ${allowed}`)
    this.name = 'FileFieldError'
  }
}

export interface DaggerJsonPin {
  /** The dagger.json as the messages name it (relative to the repository). */
  file: string
  /** engineVersion as the file spells it, e.g. `v0.21.8`. */
  raw: string
  /** As parseDaggerVersion returns it: `0.21.8`, or `latest`. */
  version: string
}

/** A value from the file as a message may show it: quoted by JSON and cut short. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

function errorCode(error: unknown): string | undefined {
  // Not `instanceof Error`: an error from node:fs may come from another realm's Error (a VM context).
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined
}

/**
 * The engineVersion of `<dir>/dagger.json`, validated; undefined when there is no dagger.json or it
 * names no engineVersion. A dagger.json that is there but unreadable, not JSON, or with an
 * engineVersion of the wrong form fails, naming the file: it is the version's source of truth.
 */
export async function readDaggerJsonEngineVersion(
  dir: string,
  shownAs = join(dir, DAGGER_JSON)
): Promise<DaggerJsonPin | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, DAGGER_JSON), 'utf8')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw new Error(`${shownAs} could not be read (${errorCode(error) ?? errorMessage(error)})`, { cause: error })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(`${shownAs} is not JSON (${errorMessage(error)})`, { cause: error })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${shownAs} is not a JSON object`)
  }
  if (!('engineVersion' in parsed) || parsed.engineVersion === undefined) return undefined
  const raw = parsed.engineVersion
  const allowed = `${DAGGER_VERSION_ALLOWED}, or no engineVersion for the bundled SDK's ${SDK_CLI_VERSION}`
  if (typeof raw !== 'string') throw new FileFieldError(shownAs, 'engineVersion', shown(raw), allowed)
  const version = normalizeDaggerVersion(raw)
  if (!version) throw new FileFieldError(shownAs, 'engineVersion', shown(raw), allowed)
  return { file: shownAs, raw, version }
}

export interface DaggerVersionChoice {
  /** Where the version came from: the dagger-version input, the source's dagger.json, or the bundled SDK. */
  from: 'input' | 'dagger.json' | 'sdk'
  /** For `dagger.json`: the file and its engineVersion as written. */
  pin?: Pick<DaggerJsonPin, 'file' | 'raw'>
  /** The action's stages run on the engine through the bundled SDK (false for stage none). */
  sdkStages: boolean
}

export interface VersionVerdict {
  /** `refuse` fails the step before anything is downloaded. */
  level: 'quiet' | 'info' | 'warning' | 'refuse'
  message: string
}

/** `0.21` of `0.21.8` or `0.21.9-rc.1`: the unit whose API the engine and the SDK must share before 1.0. */
export function releaseLine(version: string): string {
  return version.split('-')[0].split('.').slice(0, 2).join('.')
}

/** How a resolved version (never `latest`) fares with the bundled SDK; see the head of this file. */
export function judgeDaggerVersion(version: string, choice: DaggerVersionChoice): VersionVerdict {
  const sdkLine = releaseLine(SDK_CLI_VERSION)
  const where =
    choice.from === 'input'
      ? 'the dagger-version input'
      : choice.from === 'dagger.json'
        ? `${choice.pin?.file ?? DAGGER_JSON} engineVersion`
        : 'the bundled SDK'
  if (version === SDK_CLI_VERSION) return { level: 'quiet', message: `Dagger ${version} from ${where}` }
  if (!choice.sdkStages) {
    return {
      level: 'info',
      message: `Dagger ${version} from ${where}: stage none runs none of the action's stages, so the bundled SDK (${SDK_CLI_VERSION}) never talks to this engine`
    }
  }
  if (releaseLine(version) === sdkLine) {
    return {
      level: 'info',
      message: `Dagger ${version} from ${where}: the same release line (${sdkLine}) as the bundled SDK ${SDK_CLI_VERSION}, whose API the stages use`
    }
  }
  const why =
    `the action's stages run through the bundled Dagger SDK ${SDK_CLI_VERSION}, which speaks the API of ${sdkLine}.x; ` +
    `an engine of ${releaseLine(version)} may reject or misread some of it`
  if (choice.from === 'dagger.json') {
    return {
      level: 'refuse',
      message: new FileFieldError(
        choice.pin?.file ?? DAGGER_JSON,
        'engineVersion',
        choice.pin?.raw ?? version,
        `${why}. Expected a ${sdkLine}.x version here; or set the dagger-version input to run the stages on ${version} anyway (with a warning), or stage none to set up the engine for the module's own dagger commands`
      ).message
    }
  }
  return {
    level: 'warning',
    message: `Dagger ${version} from ${where}: ${why}. Pin a ${sdkLine}.x version, or use stage none to run only your own dagger commands`
  }
}

/** judgeDaggerVersion, acted on: a line in the log, a warning, or the step's failure. */
export function enforceDaggerVersion(version: string, choice: DaggerVersionChoice): void {
  const verdict = judgeDaggerVersion(version, choice)
  if (verdict.level === 'refuse') throw new Error(verdict.message)
  if (verdict.level === 'warning') core.warning(verdict.message)
  else if (verdict.level === 'info') core.info(verdict.message)
}

/**
 * The Dagger version and where it came from. `input` is the raw dagger-version input, `parsed` what
 * parseDaggerVersion made of it; `dir` is the source directory, `shownAs` its dagger.json as
 * messages name it. A pinned version is judged here; `latest` once the install has resolved it.
 */
export async function chooseDaggerVersion(opts: {
  input: string
  parsed: string
  dir: string
  shownAs: string
  sdkStages: boolean
}): Promise<{ version: string; choice: DaggerVersionChoice }> {
  let version = opts.parsed
  let choice: DaggerVersionChoice
  if (opts.input.trim() !== '') {
    choice = { from: 'input', sdkStages: opts.sdkStages }
    // The input wins; a dagger.json that says otherwise is worth one line, and its errors are not
    // this job's to fail on.
    const pin = await readDaggerJsonEngineVersion(opts.dir, opts.shownAs).catch(() => undefined)
    if (pin && pin.version !== version) {
      core.info(`The dagger-version input (${version}) takes precedence over ${pin.file} engineVersion ${pin.raw}`)
    }
  } else {
    const pin = await readDaggerJsonEngineVersion(opts.dir, opts.shownAs)
    if (pin) {
      version = pin.version
      choice = { from: 'dagger.json', pin: { file: pin.file, raw: pin.raw }, sdkStages: opts.sdkStages }
    } else {
      choice = { from: 'sdk', sdkStages: opts.sdkStages }
    }
  }
  if (version !== 'latest') enforceDaggerVersion(version, choice)
  return { version, choice }
}
