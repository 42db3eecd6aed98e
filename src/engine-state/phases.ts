// Timings of the phases of a state save or restore (archive, upload, download, extract...), logged
// at debug level so a slow save can be explained from a run's log, and collected by `npm run bench`.
import * as core from '@actions/core'

export interface PhaseSpan {
  phase: string
  /** What the phase worked on (a part key), if anything. */
  subject?: string
  /** Milliseconds since the time origin of this process (performance.now()). */
  start: number
  end: number
}

let collector: PhaseSpan[] | undefined

/** Collects every span from now on into `spans` (or stops collecting with undefined). */
export function collectStatePhases(spans: PhaseSpan[] | undefined): void {
  collector = spans
}

export async function phase<T>(name: string, subject: string | undefined, body: () => T | Promise<T>): Promise<T> {
  const start = performance.now()
  try {
    return await body()
  } finally {
    const end = performance.now()
    collector?.push({ phase: name, subject, start, end })
    core.debug(`engine state: ${name}${subject ? ` ${subject}` : ''} took ${Math.round(end - start)} ms`)
  }
}
