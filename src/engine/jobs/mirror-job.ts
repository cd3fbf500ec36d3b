/**
 * The one long job per mirror. It follows the catalog status: SETUP → SNAPSHOT → RUNNING, and it stops when the
 * status says PAUSING (→ PAUSED), TERMINATING or anything else it does not own. A session advisory lock on the
 * catalog, keyed by the mirror id, makes sure only one process ever reads a mirror's slot, even when BullMQ
 * misjudges a stall and hands the job to a second worker.
 */
import pg from 'pg'
import type { MirrorRow } from '../../catalog/mirror-store.ts'
import { PgMirrorError, q, toPgMirrorError } from '../../errors.ts'
import type { Sink } from '../../sinks/sink.ts'
import type { SetupResult, Source } from '../../sources/source.ts'
import type { EngineContext } from '../context.ts'
import { transition, type MirrorState } from '../mirror-state.ts'
import { runCdc } from './cdc-loop.ts'
import {
  backoffMs,
  describeSinkTables,
  openSink,
  openSource,
  shadowTable,
  sleep,
  snapshotTarget,
} from './job-context.ts'
import { coordinateSnapshot } from './snapshot.ts'

const LOCK_CLASS = 7_431

/**
 * Holds the per-mirror advisory lock on a dedicated catalog connection for as long as the job runs. The lock dies
 * with that connection (a catalog restart), so `fn` gets a signal that aborts then too: it must stop, and the
 * job is queued again (see reconcile.ts) to take the lock anew.
 */
export async function withMirrorLock<T>(
  ctx: EngineContext,
  mirrorId: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
  opts: { waitMs?: number } = {},
): Promise<T | undefined> {
  const c = new pg.Client({ connectionString: ctx.catalogUrl, application_name: 'pgmirror_mirror_lock' })
  const lost = new AbortController()
  c.on('error', () => lost.abort())
  c.on('end', () => lost.abort())
  await c.connect()
  try {
    const deadline = Date.now() + (opts.waitMs ?? Number.POSITIVE_INFINITY)
    while (true) {
      const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LOCK_CLASS,
        mirrorId,
      ])
      if (r.rows[0]?.ok) break
      if (signal.aborted || Date.now() > deadline) return undefined
      await sleep(1000, signal)
    }
    return await fn(AbortSignal.any([signal, lost.signal]))
  } finally {
    await c.end().catch(() => undefined)
  }
}

async function setStatus(ctx: EngineContext, m: MirrorRow, next: MirrorState): Promise<void> {
  await ctx.mirrors.setStatus(m.id, next, m.status)
}

/** Setup: validate both ends, create the target tables, then the publication and the slot. */
async function setup(
  ctx: EngineContext,
  m: MirrorRow,
  source: Source,
  sink: Sink,
): Promise<SetupResult | undefined> {
  const log = ctx.log.child({ mirror: m.name })
  await source.validate()
  const tables = await describeSinkTables(source, m.spec.mappings)
  source.ensurePullable([...tables.values()].map((t) => t.schema))
  const objects = { slotName: m.slotName!, publicationName: m.publicationName! }
  const loadInto = [...tables.values()].map((t) => snapshotTarget(m, sink, t))
  if (m.generation > 1 || (await source.slotInfo(objects.slotName)).exists) {
    // A resync, or a setup that died after creating the slot but before recording it: start both ends over.
    // A resync on a sink that can swap loads shadow tables; the targets keep their rows until the swap.
    await source.teardown(objects)
    await sink.resetTables(loadInto)
  }
  await sink.ensureTables(loadInto)
  const copy = m.spec.options.do_initial_copy
  if (copy) {
    for (const t of loadInto) {
      if (await sink.hasRows(t)) {
        throw new PgMirrorError(
          'object_not_in_prerequisite_state',
          `target table ${q(t.destination)} is not empty`,
          {
            hint: 'an initial copy needs empty target tables; empty it, or create the mirror with do_initial_copy = false',
          },
        )
      }
    }
  }
  const result = await source.setup(
    objects,
    m.spec.mappings.map((x) => x.source),
    { exportSnapshot: copy },
  )
  await ctx.mirrors.setupDone(m.id, result.consistentPoint, result.snapshotName)
  if (!copy) {
    for (const t of await ctx.mirrors.tables(m.id))
      await ctx.mirrors.setTableSnapshotState(m.id, t.sourceTable, 'skipped')
  }
  log.info(
    { slot: objects.slotName, consistentPoint: result.consistentPoint.toString(16) },
    'mirror setup done',
  )
  return result
}

/** Runs a mirror until it is paused, dropped, completed or failed. Never throws: failures go to the catalog. */
export async function runMirrorJob(ctx: EngineContext, name: string, signal: AbortSignal): Promise<void> {
  const first = await ctx.mirrors.find(name)
  if (!first) return
  const log = ctx.log.child({ mirror: name })
  await withMirrorLock(ctx, first.id, signal, async (signal) => {
    let held: SetupResult | undefined
    let attempt = 0
    try {
      while (!signal.aborted) {
        let m: MirrorRow | undefined
        try {
          m = await ctx.mirrors.find(name)
        } catch (e) {
          // The catalog is unreachable: wait for it, as for any other failed step.
          log.warn({ err: toPgMirrorError(e).message }, 'reading the mirror from the catalog failed')
          await sleep(backoffMs(attempt++), signal)
          continue
        }
        if (!m) return
        let source: Source | undefined
        let sink: Sink | undefined
        try {
          source = await openSource(ctx, m)
          sink = await openSink(ctx, m)
          switch (m.status) {
            case 'STATUS_SETUP': {
              await held?.release()
              held = await setup(ctx, m, source, sink)
              await setStatus(ctx, m, transition('STATUS_SETUP', { kind: 'setup_done' }))
              break
            }
            case 'STATUS_SNAPSHOT': {
              let outcome
              try {
                outcome = await coordinateSnapshot(ctx, m, source, held?.snapshotName, signal)
              } finally {
                // Also after a failure: the connection holding the exported snapshot may be what failed, and the
                // retry must read the rest under a fresh snapshot rather than ask for a dead one forever.
                await held?.release().catch(() => undefined)
                held = undefined
              }
              if (outcome === 'done') {
                if (m.resyncPending) {
                  const tables = [...(await describeSinkTables(source, m.spec.mappings)).values()]
                  if (sink.swapTables)
                    await sink.swapTables(tables.map((t) => ({ from: shadowTable(t), to: t })))
                  await ctx.mirrors.resyncDone(m.id)
                  log.info('resync: the fresh copies replaced the target tables')
                }
                const next = transition('STATUS_SNAPSHOT', {
                  kind: 'snapshot_done',
                  initialSnapshotOnly: m.spec.options.initial_snapshot_only,
                })
                if (next === 'STATUS_COMPLETED') {
                  // Nothing will ever read the slot again: leave nothing behind on the source.
                  await source.teardown({
                    slotName: m.ownsSlot ? m.slotName! : '',
                    publicationName: m.ownsPublication ? m.publicationName! : '',
                  })
                }
                await setStatus(ctx, m, next)
                log.info({ next }, 'snapshot done')
              }
              break
            }
            case 'STATUS_RUNNING':
              await runCdc(ctx, m, source, sink, signal)
              break
            case 'STATUS_PAUSING':
              await setStatus(ctx, m, 'STATUS_PAUSED')
              log.info('mirror paused')
              return
            default:
              return
          }
          attempt = 0
          await ctx.mirrors.setError(m.id, null)
        } catch (e) {
          const err = toPgMirrorError(e)
          log.warn({ err: err.message, code: err.sqlState, status: m.status }, 'mirror step failed')
          // With the catalog down the error cannot be recorded; the step is retried all the same.
          await ctx.mirrors
            .setError(m.id, err.hint ? `${err.message} (hint: ${err.hint})` : err.message)
            .catch(() => undefined)
          // Configuration faults during setup need the user; everything else is retried with backoff.
          if (!err.retryable && m.status === 'STATUS_SETUP') {
            await setStatus(ctx, m, 'STATUS_FAILED')
            return
          }
          await sleep(backoffMs(attempt++), signal)
        } finally {
          await Promise.allSettled([source?.close(), sink?.close()])
        }
      }
    } finally {
      await held?.release()
    }
  })
}

/** Drop: wait for the mirror job to let go of the slot, then remove slot, publication, bookkeeping and the row. */
export async function runDropJob(ctx: EngineContext, name: string, signal: AbortSignal): Promise<void> {
  const m = await ctx.mirrors.find(name)
  if (!m) return
  const done = await withMirrorLock(
    ctx,
    m.id,
    signal,
    async () => {
      const source = await openSource(ctx, m)
      const sink = await openSink(ctx, m)
      try {
        if (m.slotName && m.publicationName) {
          await source.teardown({
            slotName: m.ownsSlot ? m.slotName : '',
            publicationName: m.ownsPublication ? m.publicationName : '',
          })
        }
        await sink.teardown()
      } finally {
        await Promise.allSettled([source.close(), sink.close()])
      }
      await ctx.mirrors.delete(m.id)
      ctx.log.info({ mirror: name }, 'mirror dropped')
      return true
    },
    { waitMs: 60_000 },
  )
  if (!done) throw new Error(`mirror "${name}" is still held by a running job; the drop will be retried`)
}
