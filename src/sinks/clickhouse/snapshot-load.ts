/**
 * Loading one snapshot partition: the source's COPY text is converted on the fly (to RowBinary, or passed as
 * TabSeparated where that is exact) and streamed into one INSERT, so nothing is held whole. The partition is recorded as done only after ClickHouse acknowledged the
 * insert. A run that failed half way may have left some of its rows (ClickHouse commits an insert block by
 * block); the retry writes them again, identical and with version 0, and ReplacingMergeTree keeps one row per
 * ORDER BY key, so the partition is idempotent without a transaction.
 *
 * `upsert` (recovery under a fresh snapshot) must leave rows already present alone; equal versions would let
 * the newer insert win, so those rows go through a staging table and only identities the target lacks are copied.
 */
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream'
import type { ClickHouseClient } from '@clickhouse/client'
import { PgMirrorError } from '../../errors.ts'
import type { SnapshotPartitionInput } from '../sink.ts'
import type { Bookkeeping } from './bookkeeping.ts'
import { insertRowBinary } from './client-io.ts'
import { CopyToRowBinary } from './copy-to-row-binary.ts'
import { CopyToTsv, tsvEligible } from './copy-to-tsv.ts'
import { quoteIdent, quoteList } from './quote.ts'
import { snapshotColumns, type ChTarget } from './target.ts'

/**
 * Streams the partition's rows into `tableSql`; resolves with the row count once ClickHouse acknowledged them.
 * Tables ClickHouse reads exactly from COPY text go as TabSeparated (copy-to-tsv.ts), the rest as RowBinary.
 */
async function streamInto(
  client: ClickHouseClient,
  tableSql: string,
  t: ChTarget,
  input: SnapshotPartitionInput,
): Promise<number> {
  const tsv = tsvEligible(t)
  const convert = tsv ? new CopyToTsv(t) : new CopyToRowBinary(t)
  // pipeline() carries a source failure (a stopped partition) into the request body, which aborts the insert.
  const body = pipeline(input.data, convert, () => undefined)
  await insertRowBinary(client, tableSql, snapshotColumns(t), body, tsv ? 'TabSeparated' : 'RowBinary')
  return convert.rows
}

export async function loadPartition(
  client: ClickHouseClient,
  bk: Bookkeeping,
  mirror: string,
  t: ChTarget,
  input: SnapshotPartitionInput,
): Promise<{ rows: number }> {
  if (input.format !== 'text')
    throw new PgMirrorError('internal_error', 'the clickhouse sink loads snapshots from COPY text only')
  const recorded = await bk.partitionRows(t.display, input.partitionId)
  if (recorded !== undefined) {
    input.data.destroy()
    return { rows: recorded }
  }
  let rows: number
  if (input.mode === 'copy') {
    rows = await streamInto(client, t.sql, t, input)
  } else {
    // Named after the partition, so a retry after a crash replaces the leftover instead of leaking another.
    const tag = createHash('sha1').update(`${mirror}\0${t.display}\0${input.partitionId}`).digest('hex')
    const stage = `${quoteIdent(t.database)}.${quoteIdent(`_pgmirror_stage_${tag.slice(0, 16)}`)}`
    await client.command({ query: `DROP TABLE IF EXISTS ${stage}` })
    await client.command({ query: `CREATE TABLE ${stage} AS ${t.sql} ENGINE = MergeTree ORDER BY tuple()` })
    try {
      rows = await streamInto(client, stage, t, input)
      const cols = quoteList(snapshotColumns(t))
      const ids = quoteList(t.identity)
      await client.command({
        query: `INSERT INTO ${t.sql} (${cols}) SELECT ${cols} FROM ${stage} WHERE (${ids}) NOT IN (SELECT ${ids} FROM ${t.sql})`,
      })
    } finally {
      await client.command({ query: `DROP TABLE IF EXISTS ${stage}` }).catch(() => undefined)
    }
  }
  await bk.recordPartition(t.display, input.partitionId, rows)
  return { rows }
}
