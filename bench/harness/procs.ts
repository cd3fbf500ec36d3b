// Where the CPU time goes: per-process CPU seconds from /proc, for pgmirror and for the Postgres backends that
// serve it, plus pgmirror's resident memory. Linux only, which is what the benchmarks run on.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { query, testPgUrl } from './pg.ts'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** utime + stime of a live process in seconds; undefined once it has exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return undefined
  }
}

/** VmRSS and VmHWM (peak) in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}

interface Tracked {
  readonly label: string
  readonly start: number
  last: number
}

/**
 * Samples CPU time of labelled processes while a measurement runs. `discover` names the Postgres backends of
 * interest (they come and go, so it is asked on every tick); a backend first seen during the run counts from 0
 * because it started during the run. A process that exits between ticks loses at most one interval of CPU.
 */
export class CpuTracker {
  private readonly procs = new Map<number, Tracked>()
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> = Promise.resolve()
  private started = 0

  constructor(
    private readonly discover: () => Promise<readonly { pid: number; label: string }[]>,
    private readonly fixed: readonly { pid: number; label: string }[] = [],
  ) {}

  async start(intervalMs = 200): Promise<void> {
    this.started = Date.now()
    for (const p of this.fixed) this.track(p.pid, p.label, false)
    for (const p of await this.discover()) this.track(p.pid, p.label, false)
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick()).catch(() => undefined)
    }, intervalMs)
  }

  private track(pid: number, label: string, fresh: boolean): void {
    const now = cpuSeconds(pid)
    if (now === undefined) return
    const t = this.procs.get(pid)
    if (t) t.last = now
    else this.procs.set(pid, { label, start: fresh ? 0 : now, last: now })
  }

  private async tick(): Promise<void> {
    for (const [pid, t] of this.procs) t.last = cpuSeconds(pid) ?? t.last
    for (const p of await this.discover()) this.track(p.pid, p.label, true)
  }

  /** CPU seconds per label, and the wall time, since start(). */
  async stop(): Promise<{ wallS: number; cpu: Map<string, number> }> {
    clearInterval(this.timer)
    await this.ticking
    await this.tick().catch(() => undefined)
    const cpu = new Map<string, number>()
    for (const t of this.procs.values()) cpu.set(t.label, (cpu.get(t.label) ?? 0) + (t.last - t.start))
    return { wallS: (Date.now() - this.started) / 1000, cpu }
  }
}

/** The backends connected to the given databases, labelled by `label(database, backend_type)`. */
export function backendsOf(
  dbs: Readonly<Record<string, string>>,
): () => Promise<{ pid: number; label: string }[]> {
  return async () => {
    const r = await query<{ pid: string; datname: string; backend_type: string }>(
      testPgUrl(),
      `SELECT pid::text, datname, backend_type FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()`,
      [Object.keys(dbs)],
    )
    return r.rows.map((row) => ({
      pid: Number(row.pid),
      label: row.backend_type === 'walsender' ? 'walsender' : (dbs[row.datname] ?? row.datname),
    }))
  }
}

/** Samples a process's memory every `intervalMs`; `peak()` is the highest VmHWM seen. */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined
  private peakHwm = 0
  private peakRss = 0

  constructor(private readonly pid: number) {}

  start(intervalMs = 100): this {
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
    return this
  }

  sample(): { rss: number; hwm: number } | undefined {
    const m = memoryMb(this.pid)
    if (m) {
      this.peakHwm = Math.max(this.peakHwm, m.hwm)
      this.peakRss = Math.max(this.peakRss, m.rss)
    }
    return m
  }

  stop(): { peakRssMb: number; hwmMb: number } {
    clearInterval(this.timer)
    this.sample()
    return { peakRssMb: this.peakRss, hwmMb: this.peakHwm }
  }
}
