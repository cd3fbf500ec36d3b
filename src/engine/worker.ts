/**
 * The worker role: takes jobs off the queue and runs them. Many workers on many machines can share one queue.
 */
import type { Job } from 'bullmq'
import { startAlertChecker } from './alerting/alert-loop.ts'
import type { EngineContext } from './context.ts'
import { runDropJob, runMirrorJob } from './jobs/mirror-job.ts'
import { openSink, openSource } from './jobs/job-context.ts'
import { runPartition } from './jobs/snapshot.ts'
import { startReconciler } from './reconcile.ts'
import { startWorker, type JobData, type QueueBackend, type WorkerHandle } from './queue.ts'

export function startJobWorker(ctx: EngineContext, backend: QueueBackend, concurrency: number): WorkerHandle {
  const reconciler = startReconciler(ctx)
  const alerts = startAlertChecker(ctx)
  const worker = startWorker(backend, concurrency, async (job: Job<JobData>, signal) => {
    const d = job.data
    switch (d.kind) {
      case 'mirror':
        return runMirrorJob(ctx, d.mirror, signal)
      case 'partition':
        return runPartition(
          ctx,
          d,
          async (m) => ({ source: await openSource(ctx, m), sink: await openSink(ctx, m) }),
          signal,
        )
      case 'drop':
        return runDropJob(ctx, d.mirror, signal)
    }
  })
  return {
    async close() {
      reconciler.stop()
      await alerts.stop()
      await worker.close()
    },
  }
}
