// Plain SQL against the benchmark cluster (the services' Postgres): one-shot queries, fresh databases, cleanup.
import pg from 'pg'
import { createTestDatabase, testPgUrl, type TestDatabase } from '../../test/support/services.ts'

export type { TestDatabase }
export { testPgUrl }

// Values stay text: the benchmark compares and prints them, it never computes with a JS Date.
const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig

/** Runs one statement on a fresh connection. */
export async function query<R extends pg.QueryResultRow = Record<string, string>>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  const c = new pg.Client({ connectionString: url, types: rawTypes })
  await c.connect()
  try {
    return await c.query<R>(text, values)
  } finally {
    await c.end()
  }
}

/** A long-lived connection, for loops that query many times (producers, pollers). */
export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, types: rawTypes })
  await c.connect()
  return c
}

export const createDatabase = (prefix: string): Promise<TestDatabase> => createTestDatabase(`bench_${prefix}`)

/** Drops the replication slots of a database (they pin it), then the databases themselves. */
export async function dropDatabases(...dbs: (TestDatabase | undefined)[]): Promise<void> {
  for (const db of dbs) {
    if (db === undefined) continue
    await query(
      testPgUrl(),
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`,
      [db.name],
    ).catch(() => undefined)
    await db.drop().catch((e: Error) => console.error(`could not drop ${db.name}: ${e.message}`))
  }
}

/** md5 over the ordered rows: equal digests mean equal tables (the e2e tests' check). */
export async function checksum(url: string, table: string, cols: string): Promise<{ n: string; h: string }> {
  const r = await query<{ n: string; h: string }>(
    url,
    `SELECT count(*)::text AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x.id)), '') AS h
     FROM (SELECT ${cols} FROM ${table}) x`,
  )
  return r.rows[0] ?? { n: '0', h: '' }
}

/** Fails loudly when the target differs from the source: a fast wrong answer is not a result. */
export async function assertSameRows(
  srcUrl: string,
  dstUrl: string,
  table: string,
  cols: string,
): Promise<string> {
  const [a, b] = await Promise.all([checksum(srcUrl, table, cols), checksum(dstUrl, table, cols)])
  if (a.h !== b.h) {
    throw new Error(`target differs from source: source ${a.n} rows ${a.h}, target ${b.n} rows ${b.h}`)
  }
  return `${a.n} rows, md5 ${a.h}`
}

export async function serverVersion(): Promise<string> {
  const r = await query<{ v: string }>(testPgUrl(), `SELECT current_setting('server_version') AS v`)
  return r.rows[0]?.v ?? '?'
}
