/**
 * The Postgres target. Rows and bookkeeping share transactions, which is what makes it exactly-once:
 * - a batch's rows and its checkpoint commit together; a batch id at or below the stored one is skipped;
 * - a snapshot partition's rows and its "done" row commit together; a recorded partition is never loaded again.
 * Values travel as Postgres text (COPY text for batches, the source's COPY stream untouched for snapshots), and
 * every connection parses results as raw text, so nothing passes through a JS Number or Date.
 */
import pg from 'pg'
import { PgMirrorError, toPgMirrorError } from '../../errors.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import { tableKey, type ChangeRecord, type Checkpoint, type RecordBatch } from '../../model/record.ts'
import type { Sink, SinkSettings, SinkTable, SnapshotPartitionInput } from '../sink.ts'
import { applyTable } from './apply-batch.ts'
import { Bookkeeping } from './bookkeeping.ts'
import { describeConnectError, targetClientConfig } from './connect.ts'
import { quoteIdent } from './quote.ts'
import { loadPartition } from './snapshot-load.ts'
import { addMissingColumns, ensureTable, inTransaction, resolveTarget, tableExists } from './tables.ts'

/** Parallel snapshot partitions per sink; more mostly contends for the target's WAL. */
const POOL_SIZE = 8

/** Driver-level codes of a connection that broke mid-use (not an SQL error): retry on a fresh connection. */
const BROKEN_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH'])

function translate(e: unknown, cfg: PostgresConfig): PgMirrorError {
  const code = (e as { code?: unknown } | null)?.code
  const message = e instanceof Error ? e.message : ''
  if (
    (typeof code === 'string' && BROKEN_CONNECTION.has(code)) ||
    /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message)
  )
    return describeConnectError(e, cfg)
  return toPgMirrorError(e)
}

export function createPostgresSink(cfg: PostgresConfig, settings: SinkSettings): Sink {
  const pool = new pg.Pool({ ...targetClientConfig(cfg), max: POOL_SIZE })
  // An idle pooled client whose server went away emits 'error'; unheard it would crash the process, and the
  // next checkout gets a fresh connection anyway.
  pool.on('error', () => undefined)
  const bk = new Bookkeeping(cfg.metadata_schema || '_pgmirror', settings.mirror)
  let bookkeeping: Promise<void> | undefined

  /** Runs fn on a pooled client; a failed client is discarded, never handed to the next caller mid-COPY. */
  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (e) {
      throw describeConnectError(e, cfg)
    }
    // pg-pool takes its error listener off a client it hands out, and a connection that breaks emits 'error' on
    // the client even while a query is running (the query fails too): unheard, that event ends the process.
    const onError = () => undefined
    client.on('error', onError)
    try {
      const out = await fn(client)
      client.off('error', onError)
      client.release()
      return out
    } catch (e) {
      client.off('error', onError)
      client.release(true)
      throw translate(e, cfg)
    }
  }

  /** Creates the bookkeeping tables once per sink; a failure is retried by the next call. */
  function ready(): Promise<void> {
    bookkeeping ??= withClient((c) => bk.create(c)).catch((e: unknown) => {
      bookkeeping = undefined
      throw e
    })
    return bookkeeping
  }

  const targetOf = (table: SinkTable) => resolveTarget(table, settings)

  return {
    snapshotFormat: 'binary',
    async ensureTables(tables) {
      await ready()
      for (const table of tables) await withClient((c) => ensureTable(c, targetOf(table)))
    },

    async hasRows(table) {
      const t = targetOf(table)
      return withClient(async (c) => {
        if (!(await tableExists(c, t))) return false
        const rows = await c.query(`SELECT 1 FROM ${t.sql} LIMIT 1`)
        return rows.rows.length > 0
      })
    },

    async donePartitions(table) {
      await ready()
      return withClient((c) => bk.donePartitions(c, targetOf(table).sql))
    },

    async writeSnapshotPartition(input: SnapshotPartitionInput) {
      try {
        await ready()
        const t = targetOf(input.table)
        return await withClient((c) => loadPartition(c, bk, t, input))
      } catch (e) {
        // Consumed or destroyed whatever failed, so the source side can always finish its read.
        input.data.destroy()
        throw e
      }
    },

    async writeBatch(batch: RecordBatch, tables: ReadonlyMap<string, SinkTable>) {
      await ready()
      const byTable = new Map<string, ChangeRecord[]>()
      for (const r of batch.records) {
        const key = tableKey(r.table)
        const list = byTable.get(key)
        if (list) list.push(r)
        else byTable.set(key, [r])
      }
      const targets = [...byTable].map(([key, records]) => {
        const table = tables.get(key)
        if (table === undefined)
          throw new PgMirrorError(
            'internal_error',
            `batch ${batch.batchId} has changes for unmapped table "${key}"`,
          )
        return { target: targetOf(table), records }
      })
      await withClient(async (client) => {
        await client.query('BEGIN')
        try {
          // A batch the stored checkpoint covers (by LSN) was applied already.
          const stored = await bk.lockedCheckpoint(client)
          if (stored !== undefined && stored.lsn >= batch.endLsn) {
            await client.query('ROLLBACK')
            return
          }
          let stages = 0
          const scope = { client, nextStage: () => `_pgmirror_stage_${++stages}` }
          for (const { target, records } of targets) await applyTable(scope, target, records)
          await bk.saveCheckpoint(client, { batchId: batch.batchId, lsn: batch.endLsn })
          await client.query('COMMIT')
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw e
        }
      })
    },

    async lastCheckpoint(): Promise<Checkpoint | undefined> {
      await ready()
      return withClient((c) => bk.lastCheckpoint(c))
    },

    async applySchemaChange(table) {
      await withClient((c) => addMissingColumns(c, targetOf(table)))
    },

    async swapTables(pairs) {
      await ready()
      await withClient((c) =>
        inTransaction(c, async () => {
          for (const { from, to } of pairs) {
            const f = targetOf(from)
            const t = targetOf(to)
            if (f.name.schema !== t.name.schema) {
              throw new PgMirrorError(
                'internal_error',
                `cannot swap tables across schemas (${f.display}, ${t.display})`,
              )
            }
            await c.query(`DROP TABLE IF EXISTS ${t.sql}`)
            await c.query(`ALTER TABLE ${f.sql} RENAME TO ${quoteIdent(t.name.table)}`)
          }
        }),
      )
    },

    async resetTables(tables) {
      await ready()
      const targets = tables.map(targetOf)
      await withClient((c) =>
        inTransaction(c, async () => {
          // One batch id lock as writeBatch takes, so a reset never interleaves with a batch of this mirror.
          await bk.lockedCheckpoint(c)
          for (const t of targets) {
            if (await tableExists(c, t)) await c.query(`TRUNCATE ${t.sql}`)
          }
          await bk.forgetTables(
            c,
            targets.map((t) => t.sql),
          )
        }),
      )
    },

    async teardown() {
      await ready()
      await withClient((c) => bk.forget(c))
    },

    async close() {
      await pool.end()
    },
  }
}
