/**
 * Jobs, on BullMQ. By default the queue lives in the catalog Postgres (BullMQ's PostgreSQL backend, schema
 * `bullmq`); with REDIS_URL it lives in Redis. Job ids are deterministic, so adding a job twice is harmless.
 *
 *   mirror-<name>                           one long job per mirror: setup, snapshot coordination, then streaming
 *   snapshot-<name>-<gen>-<table>-<index>   one snapshot partition (many run in parallel, on any worker)
 *   drop-<name>                             teardown of slot, publication and catalog rows
 */
import { createPostgresBackend, Queue, Worker, type Job, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'

export const QUEUE_NAME = 'pgmirror'

export type JobData =
  | { readonly kind: 'mirror'; readonly mirror: string }
  | {
      readonly kind: 'partition'
      readonly mirror: string
      readonly generation: number
      readonly table: string
      readonly index: number
    }
  | { readonly kind: 'drop'; readonly mirror: string }

export interface QueueBackend {
  readonly catalogUrl: string
  readonly redisUrl: string | undefined
  /** Redis key prefix, so several pgmirror deployments can share one Redis. */
  readonly redisPrefix?: string
}

const jobIdOf = (d: JobData): string => {
  switch (d.kind) {
    case 'mirror':
      return `mirror-${d.mirror}`
    case 'partition':
      return `snapshot-${d.mirror}-${d.generation}-${encodeURIComponent(d.table).replace(/[%:]/g, '_')}-${d.index}`
    case 'drop':
      return `drop-${d.mirror}`
  }
}

const jobOptions = (d: JobData): JobsOptions => ({
  jobId: jobIdOf(d),
  removeOnComplete: true,
  removeOnFail: d.kind === 'partition' ? false : true,
  attempts: d.kind === 'partition' ? 3 : d.kind === 'drop' ? 10 : 1,
  backoff: { type: 'exponential', delay: 1000 },
})

/* eslint-disable @typescript-eslint/no-explicit-any -- BullMQ's backend generics do not unify across backends */
function connectionArgs(b: QueueBackend): [any, any] {
  if (b.redisUrl) {
    return [
      {
        connection: new Redis(b.redisUrl, { maxRetriesPerRequest: null }),
        prefix: b.redisPrefix ?? 'pgmirror',
      },
      undefined,
    ]
  }
  return [{ connection: { connectionString: b.catalogUrl, migrate: true, max: 10 } }, createPostgresBackend]
}

export class JobQueue {
  private readonly queue: Queue

  constructor(backend: QueueBackend) {
    const [opts, factory] = connectionArgs(backend)
    this.queue = factory ? new (Queue as any)(QUEUE_NAME, opts, factory) : new Queue(QUEUE_NAME, opts)
  }

  async add(data: JobData, opts: { delayMs?: number } = {}): Promise<void> {
    await this.queue.add(data.kind, data, {
      ...jobOptions(data),
      ...(opts.delayMs ? { delay: opts.delayMs } : {}),
    })
  }

  /** The job's state, or undefined when no job with that id exists (finished jobs are removed). */
  async state(data: JobData): Promise<{ state: string; failedReason: string | undefined } | undefined> {
    const job = await this.queue.getJob(jobIdOf(data))
    if (!job) return undefined
    return { state: await job.getState(), failedReason: job.failedReason }
  }

  /** Removes a failed job so the same id can be queued again. */
  async removeFailed(data: JobData): Promise<void> {
    const job = await this.queue.getJob(jobIdOf(data))
    if (job && (await job.getState()) === 'failed') await job.remove()
  }

  async ping(): Promise<void> {
    await this.queue.getJobCounts('active')
  }

  async close(): Promise<void> {
    await this.queue.close()
  }
}

export type Processor = (job: Job<JobData>, signal: AbortSignal) => Promise<void>

export interface WorkerHandle {
  close(): Promise<void>
}

/**
 * A worker. Long mirror jobs keep their lock by BullMQ's renewal; if this process dies, stalled-job detection
 * hands the job to another worker (maxStalledCount is high because a stalled mirror job is normal after a crash).
 */
export function startWorker(backend: QueueBackend, concurrency: number, process: Processor): WorkerHandle {
  const [opts, factory] = connectionArgs(backend)
  const controllers = new Map<string, AbortController>()
  const processor = async (job: Job<JobData>) => {
    const ac = new AbortController()
    controllers.set(job.id ?? '', ac)
    try {
      await process(job, ac.signal)
    } finally {
      controllers.delete(job.id ?? '')
    }
  }
  const workerOpts = {
    ...opts,
    concurrency,
    lockDuration: 20_000,
    stalledInterval: 5_000,
    maxStalledCount: 1_000_000,
  }
  const worker: Worker = factory
    ? new (Worker as any)(QUEUE_NAME, processor, workerOpts, factory)
    : new Worker(QUEUE_NAME, processor, workerOpts)
  worker.on('error', () => undefined)
  return {
    async close() {
      for (const ac of controllers.values()) ac.abort()
      await worker.close()
    },
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
