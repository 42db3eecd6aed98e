// The loopback cache service of `npm run bench` in a process of its own, as on GitHub where the
// service is remote: its memory and CPU are not charged to the store under measurement. Started
// by startCacheServerProcess, driven over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startCacheServer, type CacheProtocol, type CacheServerStats } from '../__tests__/support/cache-server.js'

type Request = { id: number; op: 'stats' | 'reset' | 'peak' | 'close' }

export interface CacheServerProcess {
  readonly env: Record<string, string | undefined>
  readonly pid: number
  stats(): Promise<CacheServerStats>
  resetStats(): Promise<void>
  /** The service process's own peak RSS, KiB. */
  peakKiB(): Promise<number>
  close(): Promise<void>
}

export async function startCacheServerProcess(protocol: CacheProtocol): Promise<CacheServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [protocol], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const pending = new Map<number, (value: unknown) => void>()
  let nextId = 0
  const env = await new Promise<Record<string, string | undefined>>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`the cache service process exited with ${code}`)))
    child.once('message', message => resolve((message as { env: Record<string, string | undefined> }).env))
  })
  child.on('message', message => {
    const { id, value } = message as { id: number; value: unknown }
    pending.get(id)?.(value)
    pending.delete(id)
  })
  const ask = <T>(op: Request['op']): Promise<T> =>
    new Promise(resolve => {
      const id = ++nextId
      pending.set(id, resolve as (value: unknown) => void)
      child.send({ id, op })
    })
  // JSON over IPC drops undefined values, which mean "unset this variable".
  const fullEnv = Object.fromEntries(
    [
      'ACTIONS_CACHE_URL',
      'ACTIONS_CACHE_SERVICE_V2',
      'ACTIONS_RESULTS_URL',
      'ACTIONS_CACHE_MODE',
      'ACTIONS_RUNTIME_TOKEN',
      'GITHUB_SERVER_URL'
    ].map(name => [name, env[name]])
  )
  return {
    env: fullEnv,
    pid: child.pid!,
    stats: () => ask('stats'),
    resetStats: () => ask('reset'),
    peakKiB: () => ask('peak'),
    close: async () => {
      child.removeAllListeners('exit')
      const exited = new Promise(resolve => child.once('exit', resolve))
      await ask('close')
      await exited
    }
  }
}

async function serve(protocol: CacheProtocol): Promise<void> {
  const server = await startCacheServer({ protocol })
  const answer = async (message: unknown): Promise<void> => {
    const { id, op } = message as Request
    let value: unknown = null
    if (op === 'stats') value = server.stats
    else if (op === 'reset') server.resetStats()
    else if (op === 'peak') value = process.resourceUsage().maxRSS
    else if (op === 'close') await server.close()
    process.send!({ id, value }, () => {
      if (op === 'close') process.exit(0)
    })
  }
  // An answer that fails is an unhandled rejection, which ends the child.
  process.on('message', message => void answer(message))
  process.send!({ env: server.env })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve(process.argv[2] as CacheProtocol)
