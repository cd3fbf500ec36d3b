// A write load on the source: transactions of inserts, updates and deletes that keep running while a fault is
// injected. The table carries text, numeric, timestamptz and bytea so the md5 comparison checks exact values.
import pg from 'pg'
import { prng } from './prng.ts'

export const LOAD_COLS = 'id, v, n, ts, b'

export const loadTableSql = (table: string): string =>
  `CREATE TABLE ${table} (id bigint PRIMARY KEY, v text, n numeric, ts timestamptz, b bytea)`

/** Rows [from, to] as one INSERT. */
export const seedRowsSql = (table: string, from: number, to: number): string =>
  `INSERT INTO ${table} SELECT g, 'seed ' || g || repeat('x', 60), g * 1.000001, timestamptz '2024-01-01 00:00:00.000001+00' + g * interval '1 ms', decode(md5(g::text), 'hex')
   FROM generate_series(${from}, ${to}) g`

export interface WriteLoad {
  /** Transactions committed so far. */
  readonly txs: number
  /** Stops after the current transaction; resolves with the number committed. Rejects if the writer failed. */
  stop(): Promise<number>
}

/**
 * About `txPerSecond` transactions a second (default 100). Each inserts 20 new rows (ids from `firstId` upward), updates a few rows in a random range of what
 * exists and deletes a couple. Ranges, not random scans, so it stays fast on a large table.
 */
export function startWriteLoad(
  url: string,
  table: string,
  opts: { firstId: number; seed: number; maxExistingId: number; txPerSecond?: number },
): WriteLoad {
  const rate = opts.txPerSecond ?? 100
  const started = Date.now()
  const rnd = prng(opts.seed)
  let running = true
  let txs = 0
  const done = (async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    let id = opts.firstId
    try {
      while (running) {
        const top = Math.max(opts.maxExistingId, id - 1)
        const u = rnd.between(1, top)
        const d = rnd.between(1, top)
        await c.query('BEGIN')
        await c.query(
          `INSERT INTO ${table} SELECT g, 'w ' || g || ' ' || $2::text, g * 0.5, now(), decode(md5(g::text || $2), 'hex')
           FROM generate_series($1::bigint, $1::bigint + 19) g`,
          [id, `tx${txs}`],
        )
        await c.query(
          `UPDATE ${table} SET v = v || '+', n = n + 1, ts = ts + interval '1 us' WHERE id BETWEEN $1 AND $1 + 4`,
          [u],
        )
        await c.query(`DELETE FROM ${table} WHERE id BETWEEN $1 AND $1 + 1`, [d])
        await c.query('COMMIT')
        id += 20
        txs++
        // Pace the load: a steady stream of transactions, not a flood that starves the rest of the machine.
        const ahead = started + (txs * 1000) / rate - Date.now()
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead))
      }
    } finally {
      await c.end().catch(() => undefined)
    }
  })()
  done.catch(() => undefined)
  return {
    get txs() {
      return txs
    },
    async stop() {
      running = false
      await done
      return txs
    },
  }
}
