/**
 * Loading one snapshot partition: the COPY and the partition's bookkeeping row commit together, so a partition is
 * either wholly on the target and recorded, or neither. A retry of a recorded partition loads nothing.
 */
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { SnapshotPartitionInput } from '../sink.ts'
import type { Bookkeeping } from './bookkeeping.ts'
import { quoteIdent, quoteList } from './quote.ts'
import type { Target } from './tables.ts'

/** Streams `data` into a COPY … FROM STDIN; resolves with the row count the server reports. */
export async function copyIn(client: pg.ClientBase, sql: string, data: Readable): Promise<number> {
  const sink = client.query(copyFrom(sql))
  await pipeline(data, sink)
  return sink.rowCount
}

export async function loadPartition(
  client: pg.ClientBase,
  bk: Bookkeeping,
  t: Target,
  input: SnapshotPartitionInput,
): Promise<{ rows: number }> {
  await client.query('BEGIN')
  try {
    // Waits out a concurrent writer of the same partition (a job retried while the first run is still alive).
    const recorded = await bk.lockedPartitionRows(client, t.sql, input.partitionId)
    if (recorded !== undefined) {
      await client.query('ROLLBACK')
      input.data.destroy()
      return { rows: recorded }
    }
    const cols = quoteList(t.columns)
    const format = input.format === 'binary' ? 'binary' : 'text'
    let rows: number
    if (input.mode === 'copy') {
      rows = await copyIn(client, `COPY ${t.sql} (${cols}) FROM STDIN (FORMAT ${format})`, input.data)
    } else {
      // Built from the target's own columns, so binary COPY data lands in exactly the types it was read from.
      const stage = quoteIdent('_pgmirror_partition_stage')
      await client.query(
        `CREATE TEMP TABLE ${stage} ON COMMIT DROP AS SELECT ${cols} FROM ${t.sql} WITH NO DATA`,
      )
      rows = await copyIn(client, `COPY ${stage} (${cols}) FROM STDIN (FORMAT ${format})`, input.data)
      const conflict = t.primaryKey.length > 0 ? ` ON CONFLICT (${quoteList(t.primaryKey)}) DO NOTHING` : ''
      await client.query(`INSERT INTO ${t.sql} (${cols}) SELECT ${cols} FROM ${stage}${conflict}`)
    }
    await bk.recordPartition(client, t.sql, input.partitionId, rows)
    await client.query('COMMIT')
    return { rows }
  } catch (e) {
    input.data.destroy()
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  }
}
