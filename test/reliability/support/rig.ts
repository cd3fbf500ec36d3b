// The setting of a reliability scenario: source, target and catalog databases that may live on the shared test
// cluster or on a cluster of the test's own, a pgmirror process on them, and the checks every scenario ends with.
import pg from 'pg'
import { checksumSql } from '../../support/mirror-fixture.ts'
import { startPgmirror, type PgmirrorProcess } from '../../support/pgmirror-process.ts'
import { createTestDatabase, uniqueName, waitFor, type TestDatabase } from '../../support/services.ts'
import type { PgCluster } from './pg-cluster.ts'

export const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

/** Runs one statement with a fresh connection; values come back as the server's text. */
export async function once(url: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, types: rawTypes })
  c.on('error', () => undefined)
  await c.connect()
  try {
    return await c.query(text, values)
  } finally {
    await c.end().catch(() => undefined)
  }
}

/** A fresh database on `cluster`, or on the shared test cluster when none is given. */
export async function createDatabase(prefix: string, cluster?: PgCluster): Promise<TestDatabase> {
  if (!cluster) return createTestDatabase(prefix)
  const name = uniqueName(prefix)
  await cluster.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
  return {
    name,
    url: cluster.url(name),
    drop: async () => {
      await cluster.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)
    },
  }
}

export interface RigOptions {
  readonly source?: TestDatabase
  readonly target?: TestDatabase
  readonly catalog?: TestDatabase
  /** Extra environment for pgmirror (REDIS_URL, PEERDB_PASSWORD, …). */
  readonly env?: Readonly<Record<string, string>>
  /** `gateway` runs no worker: mirrors stay where they are. */
  readonly role?: 'all' | 'gateway'
}

export interface Rig {
  readonly source: TestDatabase
  readonly target: TestDatabase
  readonly catalog: TestDatabase
  server: PgmirrorProcess
  /** Everything every pgmirror process of this rig wrote, across restarts. */
  allLogs(): string
  /** A client on the gateway (with PEERDB_PASSWORD when the rig set one). */
  gateway(): Promise<pg.Client>
  sql(text: string): Promise<pg.QueryResult>
  src(text: string, values?: unknown[]): Promise<pg.QueryResult>
  dst(text: string, values?: unknown[]): Promise<pg.QueryResult>
  cat(text: string, values?: unknown[]): Promise<pg.QueryResult>
  restart(): Promise<void>
  /** Throws (with the end of the log) when the pgmirror process has exited: waits then fail at once. */
  assertAlive(): void
  /** SHOW MIRROR's row, through the gateway. */
  show(mirror: string): Promise<Record<string, string | null>>
  waitForStatus(mirror: string, status: string, timeoutMs?: number): Promise<void>
  /**
   * Resolves with "rows:md5" once md5 over the ordered rows is the same on both sides; `table` is the source table,
   * and the target's unless `opts.target` names another.
   */
  waitForSameRows(
    table: string,
    cols: string,
    orderBy: string,
    opts?: { timeoutMs?: number; target?: string },
  ): Promise<string>
  close(): Promise<void>
}

export async function createRig(opts: RigOptions = {}): Promise<Rig> {
  const source = opts.source ?? (await createTestDatabase('src'))
  const target = opts.target ?? (await createTestDatabase('dst'))
  const catalog = opts.catalog ?? (await createTestDatabase('cat'))
  const password = opts.env?.PEERDB_PASSWORD
  let earlier = ''
  const start = () =>
    startPgmirror({
      env: { PGMIRROR_CATALOG_URL: catalog.url, PGMIRROR_WORKER_CONCURRENCY: '6', ...opts.env },
      args: ['--host', '127.0.0.1', '--role', opts.role ?? 'all'],
    })
  const rig: Rig = {
    source,
    target,
    catalog,
    server: await start(),
    allLogs: () => earlier + rig.server.logs(),
    async gateway() {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: rig.server.port,
        user: 'tester',
        ...(password !== undefined ? { password } : {}),
        types: rawTypes,
      })
      c.on('error', () => undefined)
      await c.connect()
      return c
    },
    async sql(text) {
      const c = await rig.gateway()
      try {
        return await c.query(text)
      } finally {
        await c.end().catch(() => undefined)
      }
    },
    src: (text, values) => once(source.url, text, values),
    dst: (text, values) => once(target.url, text, values),
    cat: (text, values) => once(catalog.url, text, values),
    async restart() {
      earlier += rig.server.logs()
      rig.server = await start()
    },
    assertAlive() {
      const c = rig.server.child
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`pgmirror exited (${c.exitCode ?? c.signalCode}):\n${rig.server.logs().slice(-4000)}`)
      }
    },
    async show(mirror) {
      const r = await rig.sql(`SHOW MIRROR ${pg.escapeIdentifier(mirror)}`)
      return r.rows[0] as Record<string, string | null>
    },
    async waitForStatus(mirror, status, timeoutMs = 60_000) {
      let last = ''
      await waitFor(
        async () => {
          rig.assertAlive()
          const r = await once(catalog.url, 'SELECT status, last_error FROM mirrors WHERE name = $1', [
            mirror,
          ])
          last = `${r.rows[0]?.status} (${r.rows[0]?.last_error ?? 'no error'})`
          return r.rows[0]?.status === status
        },
        { timeoutMs, intervalMs: 100, message: `mirror ${mirror} to reach ${status}` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; last seen ${last}\n${rig.server.logs().slice(-3000)}`)
      })
    },
    async waitForSameRows(table, cols, orderBy, { timeoutMs = 90_000, target: targetTable = table } = {}) {
      let last = ''
      return waitFor(
        async () => {
          rig.assertAlive()
          const [a, b] = await Promise.all([
            once(source.url, checksumSql(table, cols, orderBy)),
            once(target.url, checksumSql(targetTable, cols, orderBy)).catch(() => ({
              rows: [{ n: '-', h: '-' }],
            })),
          ])
          last = `source ${a.rows[0].n} rows ${a.rows[0].h}, target ${b.rows[0].n} rows ${b.rows[0].h}`
          return a.rows[0].h === b.rows[0].h ? `${a.rows[0].n}:${a.rows[0].h}` : undefined
        },
        { timeoutMs, intervalMs: 250, message: `${table} on the target to match the source` },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; ${last}\n${rig.server.logs().slice(-3000)}`)
      })
    },
    async close() {
      await rig.server.stop().catch(() => undefined)
      // Slots must go before the database can be dropped.
      await once(
        source.url,
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
         WHERE database = current_database() AND NOT active`,
      ).catch(() => undefined)
      await Promise.allSettled([source.drop(), target.drop(), catalog.drop()])
    },
  }
  return rig
}

/** Peer SQL for a Postgres database, optionally reached through another port (a proxy). */
export function peerSql(
  name: string,
  db: TestDatabase,
  opts: { port?: number; password?: string } = {},
): string {
  const u = new URL(db.url)
  const pw = (opts.password ?? '').replace(/'/g, "''")
  return `CREATE PEER ${name} FROM POSTGRES WITH (host = '127.0.0.1', port = ${opts.port ?? u.port}, user = 'postgres', password = '${pw}', database = '${db.name}')`
}

/**
 * The source after a DROP MIRROR: no slot, publication or pgmirror backend of the mirror may remain. Polls briefly
 * (a closing backend takes a moment to leave pg_stat_activity) and throws naming whatever stayed.
 */
export async function assertNothingLeftBehind(
  source: TestDatabase,
  objects: { slot: string; publication: string },
): Promise<void> {
  let left = ''
  await waitFor(
    async () => {
      const r = await once(
        source.url,
        `SELECT (SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_name = $1) AS slots,
                (SELECT string_agg(pubname, ',') FROM pg_publication WHERE pubname = $2) AS pubs,
                (SELECT string_agg(application_name || ':' || backend_type, ',') FROM pg_stat_activity
                  WHERE datname = current_database() AND application_name LIKE 'pgmirror%') AS backends`,
        [objects.slot, objects.publication],
      )
      const row = r.rows[0]
      left = `slots=${row.slots ?? '-'} publications=${row.pubs ?? '-'} backends=${row.backends ?? '-'}`
      return row.slots === null && row.pubs === null && row.backends === null
    },
    { timeoutMs: 15_000, intervalMs: 200, message: 'the source to be clean' },
  ).catch((e: Error) => {
    throw new Error(`${e.message}: left behind ${left}`)
  })
}

/** DROP MIRROR, then wait until its catalog row is gone and check the source is clean. */
export async function dropAndCheck(rig: Rig, mirror: string): Promise<void> {
  await rig.sql(`DROP MIRROR ${mirror}`)
  await waitFor(
    async () =>
      (await rig.cat('SELECT count(*) AS n FROM mirrors WHERE name = $1', [mirror])).rows[0].n === '0',
    { timeoutMs: 90_000, intervalMs: 200, message: `mirror ${mirror} to be dropped` },
  )
  await assertNothingLeftBehind(rig.source, {
    slot: `pgmirror_slot_${mirror}`,
    publication: `pgmirror_pub_${mirror}`,
  })
}

/** pgmirror's JSON log lines, parsed; other lines are skipped. */
export function logEvents(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      out.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a line cut by the end of the captured text
    }
  }
  return out
}
