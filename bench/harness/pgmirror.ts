// A real pgmirror process on a fresh catalog database, driven through its gateway, the way a user drives it.
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { startPgmirror, type PgmirrorProcess } from '../../test/support/pgmirror-process.ts'
import { createDatabase, dropDatabases, query, type TestDatabase } from './pg.ts'

export interface MirrorServer {
  readonly process: PgmirrorProcess
  readonly catalog: TestDatabase
  readonly pid: number
  /** Runs SQL on the gateway (port 9900 of a real deployment) on a fresh connection. */
  sql(text: string): Promise<pg.QueryResult>
  /** The mirror's row in the catalog. */
  mirror(name: string): Promise<Record<string, string> | undefined>
  /** Polls the catalog every `intervalMs` until the mirror has `status`; fails on STATUS_FAILED or timeout. */
  waitForStatus(name: string, status: string, timeoutMs?: number, intervalMs?: number): Promise<void>
  /** Stops pgmirror and drops its catalog. */
  close(): Promise<void>
}

const PROFILER = fileURLToPath(new URL('./cpu-profile.mjs', import.meta.url))

/**
 * BENCH_CPU_PROF=<dir> makes pgmirror write a V8 CPU profile there when it stops (see bench/profile-summary.ts).
 */
export async function startMirrorServer(env: Record<string, string> = {}): Promise<MirrorServer> {
  const catalog = await createDatabase('cat')
  const prof = process.env.BENCH_CPU_PROF
  const proc = await startPgmirror({
    env: {
      PGMIRROR_CATALOG_URL: catalog.url,
      PGMIRROR_WORKER_CONCURRENCY: '8',
      ...(prof ? { BENCH_CPU_PROF: prof, NODE_OPTIONS: `--import ${PROFILER}` } : {}),
      ...env,
    },
  }).catch(async (e: unknown) => {
    await dropDatabases(catalog)
    throw e
  })
  const pid = proc.child.pid
  if (pid === undefined) throw new Error('pgmirror has no pid')
  // An interrupted benchmark must not leave pgmirror running.
  const killOnExit = () => proc.child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const server: MirrorServer = {
    process: proc,
    catalog,
    pid,
    async sql(text) {
      const c = new pg.Client({ host: '127.0.0.1', port: proc.port, user: 'bench' })
      await c.connect()
      try {
        return await c.query(text)
      } finally {
        await c.end()
      }
    },
    async mirror(name) {
      const r = await query(catalog.url, 'SELECT * FROM mirrors WHERE name = $1', [name])
      return r.rows[0]
    },
    async waitForStatus(name, status, timeoutMs = 600_000, intervalMs = 50) {
      const deadline = Date.now() + timeoutMs
      let last = ''
      while (true) {
        const m = await server.mirror(name)
        last = `${m?.status} (${m?.last_error ?? 'no error'})`
        if (m?.status === status) return
        if (m?.status === 'STATUS_FAILED' || Date.now() > deadline) {
          throw new Error(
            `mirror ${name} did not reach ${status}; last seen ${last}\n${proc.logs().slice(-4000)}`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs))
      }
    },
    async close() {
      process.off('exit', killOnExit)
      await proc.stop().catch(() => undefined)
      await dropDatabases(catalog)
    },
  }
  return server
}

/** CREATE PEER for a database of the benchmark cluster. */
export const peerSql = (name: string, db: TestDatabase): string => {
  const u = new URL(db.url)
  return `CREATE PEER ${name} FROM POSTGRES WITH (host = '${u.hostname}', port = ${u.port}, user = '${decodeURIComponent(u.username)}', password = '', database = '${db.name}')`
}

/** pgmirror's JSON log lines whose message matches, with their timestamps (ms). */
export function logEvents(
  server: MirrorServer,
  msg: RegExp,
): { time: number; line: Record<string, unknown> }[] {
  const out: { time: number; line: Record<string, unknown> }[] = []
  for (const text of server.process.logs().split('\n')) {
    if (!text.startsWith('{')) continue
    try {
      const line = JSON.parse(text) as Record<string, unknown>
      if (typeof line.msg === 'string' && msg.test(line.msg)) out.push({ time: Number(line.time), line })
    } catch {
      // not a whole JSON line
    }
  }
  return out
}
