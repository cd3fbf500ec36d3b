/**
 * The catalog is the truth about which mirrors should run; the queue only carries the work. A queue can lose jobs
 * (a Redis without persistence restarts empty) and a job can end without its mirror being done (it lost its
 * catalog connection). So every worker, at start and then periodically, queues the job of each mirror whose state
 * wants one and that has none. Job ids are deterministic, so a job that exists is never doubled.
 */
import type { EngineContext } from './context.ts'
import { isActive, type MirrorState } from './mirror-state.ts'
import type { JobData } from './queue.ts'

const INTERVAL_MS = 15_000

/** The job a mirror in this state needs, if any. */
function jobFor(name: string, status: MirrorState): JobData | undefined {
  if (isActive(status) || status === 'STATUS_PAUSING') return { kind: 'mirror', mirror: name }
  if (status === 'STATUS_TERMINATING') return { kind: 'drop', mirror: name }
  return undefined
}

/** One pass; returns the names of the mirrors whose job was queued again. */
export async function reconcileJobs(ctx: EngineContext): Promise<string[]> {
  const requeued: string[] = []
  for (const m of await ctx.mirrors.list()) {
    const job = jobFor(m.name, m.status as MirrorState)
    if (!job) continue
    const s = await ctx.queue.state(job)
    if (s !== undefined && s.state !== 'failed' && s.state !== 'completed') continue
    await ctx.queue.removeFailed(job)
    await ctx.queue.add(job)
    requeued.push(m.name)
  }
  return requeued
}

/** Runs reconcileJobs now and every INTERVAL_MS until stopped; a failed pass (catalog or queue down) waits for the next. */
export function startReconciler(ctx: EngineContext): { stop(): void } {
  const pass = () =>
    reconcileJobs(ctx).then(
      (requeued) => {
        if (requeued.length) ctx.log.warn({ mirrors: requeued }, 'queued the missing jobs of active mirrors')
      },
      (e: Error) => ctx.log.debug({ err: e.message }, 'job reconciliation failed; retrying later'),
    )
  void pass()
  const timer = setInterval(() => void pass(), INTERVAL_MS).unref()
  return { stop: () => clearInterval(timer) }
}
