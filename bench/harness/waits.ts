// What the Postgres backends of a run are doing, sampled from pg_stat_activity: a poor man's profile that shows
// whether they burn CPU or wait (for a lock, the WAL, the client).
import { connect, testPgUrl } from './pg.ts'
import { backendLabel } from './procs.ts'
import type pg from 'pg'

export class WaitSampler {
  /** label → "wait" → samples. "CPU" is an active backend with no wait event. */
  private readonly counts = new Map<string, Map<string, number>>()
  private timer: NodeJS.Timeout | undefined
  private client: pg.Client | undefined
  private busy = false

  /** `dbs`: database name → label. */
  constructor(private readonly dbs: Readonly<Record<string, string>>) {}

  async start(intervalMs = 50): Promise<void> {
    this.client = await connect(testPgUrl())
    this.timer = setInterval(() => void this.sample(), intervalMs)
  }

  private async sample(): Promise<void> {
    if (this.busy || this.client === undefined) return
    this.busy = true
    try {
      const r = await this.client.query<{
        datname: string
        backend_type: string
        state: string
        wait: string
      }>(
        `SELECT datname, backend_type, coalesce(state, '') AS state,
                coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait
         FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()`,
        [Object.keys(this.dbs)],
      )
      for (const row of r.rows) {
        // An idle session waits for its client by definition; only work in progress says where time goes.
        // Background workers report no state.
        if (row.backend_type === 'client backend' && row.state !== 'active') continue
        const label = backendLabel(row, this.dbs)
        const m = this.counts.get(label) ?? new Map<string, number>()
        m.set(row.wait, (m.get(row.wait) ?? 0) + 1)
        this.counts.set(label, m)
      }
    } finally {
      this.busy = false
    }
  }

  /** Per label, the most frequent states as "wait 63%" (share of that label's active samples). */
  async stop(top = 4): Promise<Map<string, string>> {
    clearInterval(this.timer)
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 10))
    await this.client?.end()
    const out = new Map<string, string>()
    for (const [label, m] of this.counts) {
      const total = [...m.values()].reduce((a, b) => a + b, 0)
      const parts = [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([w, n]) => `${w} ${Math.round((100 * n) / total)}%`)
      out.set(label, parts.join(', '))
    }
    return out
  }
}
