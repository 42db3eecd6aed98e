// What every bench section needs to time a step and to stop on one that failed.
import type { StepRun } from '../__tests__/support/runner.js'

export const seconds = (ms: number) => Math.round(ms / 10) / 100

export async function timed<T>(body: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const value = await body()
  return [value, performance.now() - started]
}

/** A bench figure from a failed step would be meaningless: stop, with the step's last output. */
export function expectOk(step: StepRun, what: string): void {
  if (step.exitCode !== 0)
    throw new Error(`${what} failed (${step.exitCode}):\n${step.stdout.slice(-4000)}\n${step.stderr.slice(-2000)}`)
}
