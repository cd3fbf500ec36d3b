// When each snapshot partition started being read: pgmirror logs only when partitions finish (done_at in the
// catalog), so the start is taken from the source, where each partition is one `COPY (SELECT … ctid …)`.
import type pg from 'pg'
import { connect, testPgUrl } from './pg.ts'

export class CopyWatcher {
  /** start block → epoch ms the partition's COPY began. */
  private readonly starts = new Map<number, number>()
  private timer: NodeJS.Timeout | undefined
  private client: pg.Client | undefined
  private busy = false

  constructor(private readonly sourceDb: string) {}

  async start(intervalMs = 50): Promise<void> {
    this.client = await connect(testPgUrl())
    this.timer = setInterval(() => void this.sample(), intervalMs)
  }

  private async sample(): Promise<void> {
    if (this.busy || this.client === undefined) return
    this.busy = true
    try {
      const r = await this.client.query<{ query: string; started: string }>(
        `SELECT query, (extract(epoch FROM query_start) * 1000)::float8::text AS started FROM pg_stat_activity
         WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY (SELECT%'`,
        [this.sourceDb],
      )
      for (const row of r.rows) {
        const block = Number(/ctid >= '\((\d+),0\)'/.exec(row.query)?.[1] ?? 0)
        if (!this.starts.has(block)) this.starts.set(block, Number(row.started))
      }
    } finally {
      this.busy = false
    }
  }

  async stop(): Promise<Map<number, number>> {
    clearInterval(this.timer)
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 10))
    await this.client?.end()
    return this.starts
  }
}
