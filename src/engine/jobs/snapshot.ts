/**
 * The initial snapshot. The mirror job coordinates: it plans CTID partitions per table, records them in the
 * catalog and queues one job per partition (any worker runs them, in parallel), keeping at most
 * snapshot_max_parallel_workers partitions of a table in flight. It holds the exported snapshot open until every
 * partition is done. Finished partitions are recorded, so a restart or a resume queues only the rest.
 *
 * After a crash or a pause the slot's exported snapshot is gone. The remaining partitions are then read under a
 * fresh exported snapshot and loaded with upserts (keys already present are left alone); streaming afterwards
 * replays the slot from its consistent point, and since every change after that point is applied again, in
 * order, by key, the target converges to the source.
 */
import type { MirrorRow } from '../../catalog/mirror-store.ts'
import { PgMirrorError, toPgMirrorError } from '../../errors.ts'
import { tableKey } from '../../model/record.ts'
import type { Sink } from '../../sinks/sink.ts'
import type { Source } from '../../sources/source.ts'
import type { EngineContext } from '../context.ts'
import { describeSinkTables, snapshotTarget } from './job-context.ts'
import { Wakeups } from './wakeups.ts'

const POLL_MS = 250
const MAX_PARTITION_FAILURES = 5
/** Postgres's answer to SET TRANSACTION SNAPSHOT once the exporting transaction has ended. */
const DEAD_SNAPSHOT = /invalid snapshot identifier/

/**
 * A partition that finishes in this process wakes its table's coordinator at once, so the next partition is
 * queued without waiting for the poll (up to POLL_MS per partition, and again at the end of every table).
 * Partitions run by other workers are still seen by the poll.
 */
const partitionsFinished = new Wakeups(POLL_MS)
const wakeKey = (mirror: string, table: string): string => `${mirror}\0${table}`

export type SnapshotOutcome = 'done' | 'interrupted'

/** Runs the snapshot of every pending table. `snapshotName` is the slot's exported snapshot, when still held. */
export async function coordinateSnapshot(
  ctx: EngineContext,
  m: MirrorRow,
  source: Source,
  heldSnapshot: string | undefined,
  signal: AbortSignal,
): Promise<SnapshotOutcome> {
  const log = ctx.log.child({ mirror: m.name })
  const tables = await ctx.mirrors.tables(m.id)
  const pending = tables.filter((t) => t.snapshotState === 'pending' || t.snapshotState === 'running')
  if (pending.length === 0) return 'done'

  let release: (() => Promise<void>) | undefined
  let snapshotName = heldSnapshot
  if (heldSnapshot === undefined) {
    // The slot's snapshot is gone (crash, pause, or tables added later): make sure the publication has every
    // table, then read what remains under a fresh snapshot and load it with upserts.
    await source.addTables(
      m.publicationName!,
      m.spec.mappings.map((x) => x.source),
    )
    const fresh = await source.exportSnapshot()
    release = fresh.release
    snapshotName = fresh.snapshotName
    await ctx.mirrors.setSnapshotName(m.id, fresh.snapshotName, true)
    log.info('snapshot continues under a fresh exported snapshot')
  }
  try {
    const opts = m.spec.options
    const queue = [...pending]
    const running = new Set<Promise<SnapshotOutcome>>()
    let outcome: SnapshotOutcome = 'done'
    const runTable = async (sourceTable: string): Promise<SnapshotOutcome> => {
      // The key joins schema and table with a dot, which either may contain: take the name from the mapping.
      const table = m.spec.mappings.find((x) => tableKey(x.source) === sourceTable)?.source
      if (!table)
        throw new PgMirrorError('undefined_table', `table ${sourceTable} is not mapped in this mirror`)
      let parts = await ctx.mirrors.partitions(m.id, m.generation, sourceTable)
      if (parts.length === 0) {
        const plan = await source.planSnapshot(table, {
          rowsPerPartition: opts.snapshot_num_rows_per_partition,
        })
        await ctx.mirrors.planPartitions(m.id, m.generation, sourceTable, plan.partitions)
        parts = await ctx.mirrors.partitions(m.id, m.generation, sourceTable)
        log.info(
          { table: sourceTable, partitions: parts.length, estimatedRows: plan.estimatedRows },
          'snapshot planned',
        )
      }
      const failures = new Map<number, number>()
      while (true) {
        if (signal.aborted) return 'interrupted'
        const status = await ctx.mirrors.status(m.id)
        if (status !== 'STATUS_SNAPSHOT') return 'interrupted'
        parts = await ctx.mirrors.partitions(m.id, m.generation, sourceTable)
        const todo = parts.filter((p) => p.state === 'pending')
        if (todo.length === 0) break
        let inFlight = 0
        for (const p of todo) {
          const job = {
            kind: 'partition',
            mirror: m.name,
            generation: m.generation,
            table: sourceTable,
            index: p.index,
          } as const
          const st = await ctx.queue.state(job)
          if (st?.state === 'failed') {
            const reason = st.failedReason ?? ''
            // The exported snapshot is gone (the connection holding it broke): no retry of this partition can
            // succeed, so give up now and let the mirror job go on under a fresh snapshot. A failure that names
            // an earlier snapshot says nothing about this one: the partition is simply queued again.
            const dead = DEAD_SNAPSHOT.test(reason)
            const stale = dead && snapshotName !== undefined && !reason.includes(snapshotName)
            const n = (failures.get(p.index) ?? 0) + (stale ? 0 : 1)
            failures.set(p.index, n)
            if (n >= MAX_PARTITION_FAILURES || (dead && !stale)) {
              await ctx.queue.removeFailed(job)
              throw new PgMirrorError(
                'internal_error',
                `snapshot of ${sourceTable} partition ${p.index} failed: ${st.failedReason}`,
              )
            }
            await ctx.queue.removeFailed(job)
          } else if (st !== undefined) {
            inFlight++
            continue
          }
          if (inFlight >= opts.snapshot_max_parallel_workers) continue
          await ctx.queue.add(job)
          inFlight++
        }
        await partitionsFinished.wait(wakeKey(m.name, sourceTable), signal)
      }
      await ctx.mirrors.setTableSnapshotState(m.id, sourceTable, 'done')
      log.info({ table: sourceTable }, 'table snapshot done')
      return 'done'
    }
    while (queue.length > 0 || running.size > 0) {
      while (queue.length > 0 && running.size < opts.snapshot_num_tables_in_parallel) {
        const t = queue.shift()!
        const p: Promise<SnapshotOutcome> = runTable(t.sourceTable).finally(() => running.delete(p))
        running.add(p)
      }
      const r = await Promise.race(running)
      if (r === 'interrupted') outcome = 'interrupted'
      if (outcome === 'interrupted') {
        await Promise.allSettled(running)
        return outcome
      }
    }
    return outcome
  } finally {
    await release?.()
  }
}

/** One partition: read it from the source under the mirror's snapshot and load it into the target. */
export async function runPartition(
  ctx: EngineContext,
  data: { mirror: string; generation: number; table: string; index: number },
  connect: (m: MirrorRow) => Promise<{ source: Source; sink: Sink }>,
  signal: AbortSignal,
): Promise<void> {
  const m = await ctx.mirrors.find(data.mirror)
  if (!m || m.generation !== data.generation || m.status !== 'STATUS_SNAPSHOT') return
  const part = (await ctx.mirrors.partitions(m.id, m.generation, data.table)).find(
    (p) => p.index === data.index,
  )
  if (!part || part.state === 'done') return
  const { source, sink } = await connect(m)
  try {
    const mapping = m.spec.mappings.find((x) => tableKey(x.source) === data.table)
    if (!mapping) return
    const sinkTable = snapshotTarget(m, sink, (await describeSinkTables(source, [mapping])).get(data.table)!)
    const columns = sinkTable.schema.columns.map((c) => c.name)
    const read = await source.readPartition(mapping.source, columns, part, {
      snapshotName: m.snapshotName ?? undefined,
      format: sink.snapshotFormat,
    })
    // Pause and drop reach a running partition here: its transaction is rolled back and it is redone later.
    let stopped = false
    const watch = setInterval(() => {
      void ctx.mirrors.status(m.id).then((s) => {
        if (s !== 'STATUS_SNAPSHOT' || signal.aborted) {
          stopped = true
          read.stream.destroy(new Error('partition stopped: the mirror is no longer snapshotting'))
        }
      })
    }, 1000)
    try {
      const { rows } = await sink.writeSnapshotPartition({
        table: sinkTable,
        partitionId: `${m.generation}/${data.index}`,
        data: read.stream,
        format: sink.snapshotFormat,
        mode: m.snapshotRecovered ? 'upsert' : 'copy',
      })
      await read.finish()
      await ctx.mirrors.partitionDone(m.id, m.generation, data.table, data.index, rows)
      partitionsFinished.notify(wakeKey(m.name, data.table))
    } catch (e) {
      await read.finish().catch(() => undefined)
      if (stopped) return
      throw toPgMirrorError(e)
    } finally {
      clearInterval(watch)
    }
  } finally {
    await Promise.allSettled([source.close(), sink.close()])
  }
}
