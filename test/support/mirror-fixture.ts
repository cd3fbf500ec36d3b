// A source and a target database, a catalog, and a running pgmirror: the setting every CDC end-to-end test needs.
import pg from 'pg'
import { startPgmirror, type PgmirrorProcess } from './pgmirror-process.ts'
import { createTestDatabase, testPgUrl, waitFor, type TestDatabase } from './services.ts'

export interface MirrorFixture {
  readonly source: TestDatabase
  readonly target: TestDatabase
  readonly catalog: TestDatabase
  server: PgmirrorProcess
  /** A client connected to the gateway. */
  gateway(): Promise<pg.Client>
  /** Runs SQL on the gateway with a fresh connection. */
  sql(text: string): Promise<pg.QueryResult>
  src(text: string, values?: unknown[]): Promise<pg.QueryResult>
  dst(text: string, values?: unknown[]): Promise<pg.QueryResult>
  /** Starts pgmirror again on the same catalog (after stop or kill). */
  restart(): Promise<void>
  waitForStatus(mirror: string, status: string, timeoutMs?: number): Promise<void>
  /** md5 over the ordered rows of `cols` in both databases; resolves when they are equal. */
  waitForSameRows(
    srcTable: string,
    dstTable: string,
    cols: string,
    orderBy: string,
    timeoutMs?: number,
  ): Promise<string>
  close(): Promise<void>
}

const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

async function once(url: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, types: rawTypes })
  await c.connect()
  try {
    return await c.query(text, values)
  } finally {
    await c.end()
  }
}

export const checksumSql = (table: string, cols: string, orderBy: string) =>
  `SELECT count(*)::text AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY ${orderBy})), '') AS h
   FROM (SELECT ${cols} FROM ${table}) x`

export async function createMirrorFixture(env: Record<string, string> = {}): Promise<MirrorFixture> {
  const source = await createTestDatabase('src')
  const target = await createTestDatabase('dst')
  const catalog = await createTestDatabase('cat')
  const start = () =>
    startPgmirror({ env: { PGMIRROR_CATALOG_URL: catalog.url, PGMIRROR_WORKER_CONCURRENCY: '6', ...env } })
  const fx: MirrorFixture = {
    source,
    target,
    catalog,
    server: await start(),
    async gateway() {
      const c = new pg.Client({ host: '127.0.0.1', port: fx.server.port, user: 'tester', types: rawTypes })
      await c.connect()
      return c
    },
    async sql(text) {
      const c = await fx.gateway()
      try {
        return await c.query(text)
      } finally {
        await c.end()
      }
    },
    src: (text, values) => once(source.url, text, values),
    dst: (text, values) => once(target.url, text, values),
    async restart() {
      fx.server = await start()
    },
    async waitForStatus(mirror, status, timeoutMs = 60_000) {
      let last = ''
      await waitFor(
        async () => {
          const r = await once(catalog.url, 'SELECT status, last_error FROM mirrors WHERE name = $1', [
            mirror,
          ])
          last = `${r.rows[0]?.status} (${r.rows[0]?.last_error ?? 'no error'})`
          return r.rows[0]?.status === status
        },
        { timeoutMs, intervalMs: 100, message: `mirror ${mirror} to reach ${status}` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; last seen ${last}\n${fx.server.logs().slice(-3000)}`)
      })
    },
    async waitForSameRows(srcTable, dstTable, cols, orderBy, timeoutMs = 60_000) {
      let last = ''
      const r = await waitFor(
        async () => {
          const [a, b] = await Promise.all([
            once(source.url, checksumSql(srcTable, cols, orderBy)),
            once(target.url, checksumSql(dstTable, cols, orderBy)).catch(() => ({
              rows: [{ n: '-', h: '-' }],
            })),
          ])
          last = `source ${a.rows[0].n} rows ${a.rows[0].h}, target ${b.rows[0].n} rows ${b.rows[0].h}`
          return a.rows[0].h === b.rows[0].h ? `${a.rows[0].n}:${a.rows[0].h}` : undefined
        },
        { timeoutMs, intervalMs: 200, message: `${dstTable} to match ${srcTable}` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; ${last}\n${fx.server.logs().slice(-3000)}`)
      })
      return r
    },
    async close() {
      await fx.server.stop().catch(() => undefined)
      // Slots in the source database must go before the database can be dropped.
      await once(
        testPgUrl(),
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`,
        [source.name],
      ).catch(() => undefined)
      await Promise.allSettled([source.drop(), target.drop(), catalog.drop()])
    },
  }
  return fx
}

export const peerSql = (name: string, db: TestDatabase) => {
  const u = new URL(db.url)
  return `CREATE PEER ${name} FROM POSTGRES WITH (host = 'localhost', port = ${u.port}, user = 'postgres', password = '', database = '${db.name}')`
}
