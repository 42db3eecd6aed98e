// What @actions/core writes to stdout while a function runs: the workflow commands the runner reads.

/** Runs fn and returns everything it wrote to stdout. */
export async function stdoutOf(fn: () => unknown): Promise<string> {
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk))
    return true
  }
  try {
    await fn()
  } finally {
    process.stdout.write = write
  }
  return chunks.join('')
}
