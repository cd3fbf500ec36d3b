/**
 * The ClickHouse target (peerdb-spec.md §5.14, without the raw table and S3 staging: rows go straight into the
 * target tables over HTTP in RowBinary).
 *
 * Contract (src/sinks/sink.ts), and how this sink keeps it without transactions:
 * - writeBatch is idempotent: a batch ending at or below the stored checkpoint's LSN is skipped, and a batch
 *   that was written but not checkpointed (crash in between) is written again with the same rows and versions
 *   (commit LSNs), which ReplacingMergeTree collapses: `FINAL` shows no duplicates. The checkpoint row is inserted
 *   only after ClickHouse acknowledged every row of the batch.
 * - writeSnapshotPartition is idempotent per partition: rows carry version 0 and a retried partition writes the
 *   very same rows, which collapse too; the partition is recorded as done after its insert was acknowledged.
 * - The server version is read at connect and picks the DDL dialect (server-version.ts).
 */
import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import { PgMirrorError, type ErrorKind } from '../../errors.ts'
import type { ClickhouseConfig } from '../../model/peer.ts'
import { tableKey, type ChangeRecord, type Checkpoint, type RecordBatch } from '../../model/record.ts'
import type { Sink, SinkSettings, SinkTable, SnapshotPartitionInput } from '../sink.ts'
import { applyTable } from './apply-batch.ts'
import { Bookkeeping } from './bookkeeping.ts'
import { queryRows } from './client-io.ts'
import { clickhouseClient } from './connect.ts'
import { dialectFor, parseServerVersion, type Dialect } from './server-version.ts'
import { loadPartition } from './snapshot-load.ts'
import { addMissingColumns, ensureTable, swapTable, tableExists } from './tables.ts'
import { resolveTarget, type ChTarget } from './target.ts'

/**
 * Socket idle limit per request. Generous, because ClickHouse sends nothing while it works: a FINAL lookup or a
 * recovery copy (INSERT … SELECT over a big table) can be silent for minutes.
 */
const REQUEST_TIMEOUT_MS = 300_000

/** ClickHouse error codes that no retry can fix. */
const SERVER_ERRORS: Readonly<Record<string, ErrorKind>> = {
  '81': 'undefined_object', // UNKNOWN_DATABASE
  '164': 'insufficient_privilege', // READONLY
  '192': 'invalid_password', // UNKNOWN_USER
  '193': 'invalid_password', // WRONG_PASSWORD
  '497': 'insufficient_privilege', // ACCESS_DENIED
  '516': 'invalid_password', // AUTHENTICATION_FAILED
}

/**
 * Socket errors become a connection failure; known server errors keep their meaning; anything else is an
 * internal error, which the engine retries.
 */
function translate(e: unknown, cfg: ClickhouseConfig): PgMirrorError {
  if (e instanceof PgMirrorError) return e
  const code = (e as { code?: unknown } | null)?.code
  const message = e instanceof Error ? e.message : String(e)
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
    return new PgMirrorError(
      'connection_failure',
      `could not reach clickhouse peer at "${cfg.host}:${cfg.port}": ${message}`,
    )
  const kind = typeof code === 'string' ? SERVER_ERRORS[code] : undefined
  return new PgMirrorError(kind ?? 'internal_error', `clickhouse: ${message}`)
}

export function createClickhouseSink(cfg: ClickhouseConfig, settings: SinkSettings): Sink {
  const client = clickhouseClient(cfg, { requestTimeoutMs: REQUEST_TIMEOUT_MS })
  let session: ClickHouseClient | undefined
  const bk = new Bookkeeping(client, cfg.database, settings.mirror)
  let prepared: Promise<Dialect> | undefined

  /** Reads the server version and creates the bookkeeping tables, once per sink; a failure is retried later. */
  function ready(): Promise<Dialect> {
    prepared ??= (async () => {
      if (cfg.cluster)
        throw new PgMirrorError(
          'feature_not_supported',
          'clickhouse clusters are not supported as mirror targets yet',
          {
            hint: 'create the peer without the cluster option',
          },
        )
      const rows = await queryRows<{ v: string }>(client, 'SELECT version() AS v')
      const dialect = dialectFor(parseServerVersion(rows[0]?.v ?? ''))
      await bk.create()
      return dialect
    })().catch((e: unknown) => {
      prepared = undefined
      throw e
    })
    return prepared
  }

  async function run<T>(fn: (dialect: Dialect) => Promise<T>): Promise<T> {
    try {
      return await fn(await ready())
    } catch (e) {
      throw translate(e, cfg)
    }
  }

  const targetOf = (table: SinkTable, dialect: Dialect): ChTarget =>
    resolveTarget(table, settings, dialect, cfg.database)

  return {
    snapshotFormat: 'text',

    ensureTables: (tables) =>
      run(async (dialect) => {
        for (const table of tables) await ensureTable(client, targetOf(table, dialect))
      }),

    hasRows: (table) =>
      run(async (dialect) => {
        const t = targetOf(table, dialect)
        if (!(await tableExists(client, t))) return false
        return (await queryRows(client, `SELECT 1 AS one FROM ${t.sql} LIMIT 1`)).length > 0
      }),

    donePartitions: (table) => run((dialect) => bk.donePartitions(targetOf(table, dialect).display)),

    async writeSnapshotPartition(input: SnapshotPartitionInput) {
      try {
        return await run((dialect) =>
          loadPartition(client, bk, settings.mirror, targetOf(input.table, dialect), input),
        )
      } catch (e) {
        // Consumed or destroyed whatever failed, so the source side can always finish its read.
        input.data.destroy()
        throw e
      }
    },

    writeBatch: (batch: RecordBatch, tables: ReadonlyMap<string, SinkTable>) =>
      run(async (dialect) => {
        // Skipped only when the stored checkpoint covers the whole batch. Batch ids alone are not enough: a
        // process killed right after sending its checkpoint may have it land after its successor read the older
        // one, and the successor's batch of the same id can reach further than the dead process's did.
        const stored = await bk.lastCheckpoint()
        if (stored !== undefined && stored.lsn >= batch.endLsn) return
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
          return { target: targetOf(table, dialect), records }
        })
        const io = {
          client,
          session: () =>
            (session ??= clickhouseClient(cfg, {
              requestTimeoutMs: REQUEST_TIMEOUT_MS,
              sessionId: randomUUID(),
            })),
        }
        for (const { target, records } of targets) await applyTable(io, target, records)
        await bk.saveCheckpoint({ batchId: batch.batchId, lsn: batch.endLsn })
      }),

    lastCheckpoint: (): Promise<Checkpoint | undefined> => run(() => bk.lastCheckpoint()),

    applySchemaChange: (table) => run((dialect) => addMissingColumns(client, targetOf(table, dialect))),

    resetTables: (tables) =>
      run(async (dialect) => {
        const targets = tables.map((t) => targetOf(t, dialect))
        for (const t of targets) {
          if (await tableExists(client, t)) await client.command({ query: `TRUNCATE TABLE ${t.sql}` })
        }
        await bk.forgetTables(targets.map((t) => t.display))
      }),

    swapTables: (pairs) =>
      run(async (dialect) => {
        for (const { from, to } of pairs)
          await swapTable(client, targetOf(from, dialect), targetOf(to, dialect))
      }),

    teardown: () => run(() => bk.forget()),

    async close() {
      await Promise.allSettled([client.close(), session?.close()])
    },
  }
}
