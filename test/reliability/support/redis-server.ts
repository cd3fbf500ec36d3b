// A Redis of a test's own (no persistence, like scripts/services.sh), so a test can restart it without touching the
// shared one. A restart of a Redis without persistence comes back empty: every queued job is gone.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './processes.ts'
import { waitFor } from '../../support/services.ts'

export interface RedisServer {
  readonly port: number
  readonly url: string
  start(): Promise<void>
  /** SIGKILL: the queue vanishes mid-operation, as in a crash. */
  kill(): Promise<void>
  restart(): Promise<void>
  /** Number of keys stored right now. */
  keyCount(): Promise<number>
  destroy(): Promise<void>
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pgmirror-rel-redis-'))
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined

  const ping = async (): Promise<boolean> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    r.on('error', () => undefined)
    try {
      await r.connect()
      return (await r.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      r.disconnect()
    }
  }

  const server: RedisServer = {
    port,
    url,
    async start() {
      const p = spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: 'ignore' },
      )
      child = p
      await waitFor(ping, { timeoutMs: 15_000, intervalMs: 50, message: `redis on port ${port}` })
    },
    async kill() {
      const p = child
      if (!p || p.exitCode !== null || p.signalCode !== null) return
      const exited = new Promise((resolve) => p.once('exit', resolve))
      p.kill('SIGKILL')
      await exited
    },
    async restart() {
      await server.kill()
      await server.start()
    },
    async keyCount() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 })
      try {
        return await r.dbsize()
      } finally {
        r.disconnect()
      }
    },
    async destroy() {
      await server.kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
  await server.start()
  return server
}
