import type pg from 'pg'
import { PgMirrorError } from '../../errors.ts'
import type { TableName } from '../../model/record.ts'
import type { CopyFormat, PartitionRead, SnapshotPartition, SnapshotPlan } from '../source.ts'
import { CopyOutStream } from './copy-out.ts'
import { quoteIdent, quoteLiteral, quoteTable } from './quote.ts'

type Queryable = Pick<pg.ClientBase, 'query'>

/** PeerDB's cap: past this, per-partition overhead outweighs parallelism. */
export const MAX_PARTITIONS = 1000

/**
 * Splits `totalBlocks` heap blocks into contiguous ranges of roughly `rowsPerPartition` rows each, assuming rows
 * spread evenly over blocks. The first range starts at block 0 and the last is open-ended, so together they cover
 * every tuple, including pages added after planning. Always at least one partition.
 */
export function splitBlocks(
  totalBlocks: number,
  estimatedRows: number,
  rowsPerPartition: number,
): SnapshotPartition[] {
  if (!(rowsPerPartition > 0))
    throw new RangeError(`rowsPerPartition must be positive, got ${rowsPerPartition}`)
  const wanted = Math.ceil(Math.max(0, estimatedRows) / rowsPerPartition)
  const count = Math.max(1, Math.min(wanted, MAX_PARTITIONS, totalBlocks))
  const parts: SnapshotPartition[] = []
  for (let i = 0; i < count; i++) {
    const startBlock = Math.floor((i * totalBlocks) / count)
    const endBlock = i === count - 1 ? undefined : Math.floor(((i + 1) * totalBlocks) / count)
    parts.push({ index: i, startBlock, endBlock })
  }
  return parts
}

// For a partitioned table the ctid predicate applies to each leaf separately, so the block range must span the
// largest leaf; rows add up over the leaves (pg_partition_tree lists nothing for a plain table, hence the UNION).
// reltuples < 0 means "never analyzed".
const SIZE_SQL = `
WITH leaves AS (
  SELECT l.relid FROM pg_partition_tree($1::regclass) l WHERE l.isleaf
  UNION
  SELECT c.oid FROM pg_class c WHERE c.oid = $1::regclass AND c.relkind <> 'p'
)
SELECT coalesce(max(pg_relation_size(l.relid)), 0)::int8 / current_setting('block_size')::int8 AS blocks,
       coalesce(sum(CASE WHEN c.relpages > 0 AND c.reltuples >= 0
                         THEN c.reltuples / c.relpages * (pg_relation_size(l.relid) / current_setting('block_size')::int8)
                         ELSE 0 END), 0)::int8 AS rows,
       bool_or(c.reltuples < 0 OR (c.relpages = 0 AND pg_relation_size(l.relid) > 0)) AS unknown
FROM leaves l
JOIN pg_class c ON c.oid = l.relid`

/**
 * Plans CTID block-range partitions. Rows are estimated as reltuples per page times the current page count
 * (statistics go stale as a table grows); a table never analyzed is counted exactly.
 */
export async function planPartitions(
  client: Queryable,
  table: TableName,
  opts: { readonly rowsPerPartition: number },
): Promise<SnapshotPlan> {
  const res = await client.query<{ blocks: string; rows: string; unknown: string | null }>(SIZE_SQL, [
    quoteTable(table),
  ])
  const row = res.rows[0]
  if (!row) throw new PgMirrorError('internal_error', 'partition size query returned no row')
  let estimatedRows = Number(row.rows)
  if (row.unknown === 't') {
    const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTable(table)}`)
    estimatedRows = Number(count.rows[0]?.n ?? 0)
  }
  return { partitions: splitBlocks(Number(row.blocks), estimatedRows, opts.rowsPerPartition), estimatedRows }
}

/** The WHERE clause selecting one partition's blocks; PG 14+ answers it with a TID range scan. */
export function partitionPredicate(p: SnapshotPartition): string {
  const conds: string[] = []
  if (p.startBlock > 0) conds.push(`ctid >= '(${p.startBlock},0)'::tid`)
  if (p.endBlock !== undefined) conds.push(`ctid < '(${p.endBlock},0)'::tid`)
  return conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''
}

export function partitionCopySql(
  table: TableName,
  columns: readonly string[],
  partition: SnapshotPartition,
  format: CopyFormat,
): string {
  if (columns.length === 0)
    throw new PgMirrorError('invalid_parameter_value', 'a partition read needs columns')
  const select = `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteTable(table)}${partitionPredicate(partition)}`
  return `COPY (${select}) TO STDOUT (FORMAT ${format})`
}

/**
 * Streams one partition as COPY output inside a REPEATABLE READ READ ONLY transaction, importing the slot's
 * exported snapshot when given, so every partition sees exactly the state at the slot's consistent point. The
 * client is dedicated to this read until finish().
 */
export async function copyPartitionOut(
  client: pg.Client,
  table: TableName,
  columns: readonly string[],
  partition: SnapshotPartition,
  opts: { readonly snapshotName?: string | undefined; readonly format?: CopyFormat } = {},
): Promise<PartitionRead> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    if (opts.snapshotName !== undefined) {
      await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(opts.snapshotName)}`)
    }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  }
  const stream = client.query(
    new CopyOutStream(partitionCopySql(table, columns, partition, opts.format ?? 'binary')),
  )
  let failure: unknown
  let ended = false
  const settled = new Promise<void>((resolve) => {
    stream.once('end', () => {
      ended = true
      resolve()
    })
    stream.once('error', (e) => {
      failure = e
      resolve()
    })
    stream.once('close', () => resolve())
  })
  let finished = false
  const finish = async (): Promise<void> => {
    if (finished) return
    finished = true
    if (!ended && failure === undefined) stream.destroy()
    await settled
    if (ended && failure === undefined) {
      await client.query('COMMIT')
      return
    }
    await client.end().catch(() => undefined)
    if (failure !== undefined) throw failure
  }
  // After a clean end: commit, the client is free again. Otherwise (copy failed, or abandoned early) the
  // connection is stuck mid-COPY, so it is closed, and the copy's error, if any, is rethrown.
  return { stream, finish }
}
