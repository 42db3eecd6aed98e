// Anything can be thrown, not only an Error: messages about a caught value go through here.

/** The message of a caught Error; any other thrown value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
