// Where the CPU time goes: per-process CPU seconds from /proc, for pgmirror and for the Postgres backends that
// serve it, plus pgmirror's resident memory. Linux only, which is what the benchmarks run on.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
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

/** The postmaster's pid, from the server itself. */
async function postmasterPid(): Promise<number> {
  const r = await query<{ dir: string }>(testPgUrl(), `SELECT current_setting('data_directory') AS dir`)
  const pidFile = readFileSync(`${r.rows[0]?.dir}/postmaster.pid`, 'utf8')
  return Number(pidFile.split('\n')[0])
}

/**
 * CPU seconds of the whole Postgres cluster: the postmaster, its live children, and (through the postmaster's
 * cutime/cstime) every child that has exited. Exact even for backends that live less than a sampling interval.
 */
function clusterCpu(postmaster: number): number {
  const stat = readFileSync(`/proc/${postmaster}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const s = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const g = s.slice(s.lastIndexOf(')') + 2).split(' ')
      if (Number(g[1]) === postmaster) total += (Number(g[11]) + Number(g[12])) / CLK_TCK
    } catch {
      // exited while we looked: its time is in the postmaster's cutime now
    }
  }
  return total
}

/** CPU seconds the whole machine has been busy (every process, all cores) since boot. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
  return (total - (v[3] ?? 0) - (v[4] ?? 0)) / CLK_TCK
}

/**
 * Waits until the machine is quiet (less than `maxBusyCores` busy over a second), at most `maxWaitMs`, so a
 * timed run does not start while something else (a test suite, a leftover from the previous run) holds the CPU.
 * Returns the busy level it started at, which the report prints.
 */
export async function waitForQuietMachine(
  maxWaitMs = Number(process.env.BENCH_QUIET_WAIT_MS ?? 300_000),
  maxBusyCores = 0.3,
): Promise<number> {
  const deadline = Date.now() + maxWaitMs
  let warned = false
  while (true) {
    const a = machineBusySeconds()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const busy = machineBusySeconds() - a
    if (busy < maxBusyCores || Date.now() > deadline) {
      if (busy >= maxBusyCores)
        console.log(`  (machine still busy: ${busy.toFixed(2)} cores; measuring anyway)`)
      return busy
    }
    if (!warned) console.log(`  waiting for a quiet machine (${busy.toFixed(2)} cores busy)…`)
    warned = true
  }
}

/** Pids of the processes whose command name (as /proc/PID/comm shows it, at most 15 characters) is `comm`. */
export function pidsNamed(comm: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return out
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

export interface CpuReport {
  readonly wallS: number
  readonly machineS: number
  readonly foreignS: number
  readonly cpu: Map<string, number>
}

const OTHER_BACKENDS = 'other backends'

function childrenOf(parent: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const s = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return out
}

/** `postgres: walwriter` → "walwriter"; client backends (`postgres: user db host state`) → "other backends". */
function postgresTitle(pid: number): string {
  let title = ''
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
  } catch {
    return OTHER_BACKENDS
  }
  const m =
    /^postgres: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|walsender|autovacuum worker)/.exec(
      title,
    )
  if (m?.[1] === 'walsender') return 'walsender'
  if (m?.[1] === 'autovacuum worker') return 'autovacuum'
  return m?.[1] ?? OTHER_BACKENDS
}

/** Runs above this much foreign load (in cores, averaged over the run) are measured again. */
const NOISE_CORES = 0.25

/**
 * Runs a measurement until one is clean: `noiseCores(result)`, the foreign load averaged over the run (see
 * CpuReport.foreignS), at most NOISE_CORES. After BENCH_ATTEMPTS (default 4) tries it keeps the least noisy one
 * and says so; the reports print every kept run's foreign load next to it.
 */
export async function cleanRun<T>(
  what: string,
  fn: () => Promise<T>,
  noiseCores: (r: T) => number,
): Promise<T> {
  const attempts = Number(process.env.BENCH_ATTEMPTS ?? 4)
  let best: { r: T; cores: number } | undefined
  for (let i = 1; ; i++) {
    const r = await fn()
    const cores = noiseCores(r)
    if (best === undefined || cores < best.cores) best = { r, cores }
    if (cores <= NOISE_CORES) return r
    if (i >= attempts) {
      console.log(
        `  ${what}: kept the quietest of ${i} runs, with ${best.cores.toFixed(2)} cores of other load`,
      )
      return best.r
    }
    console.log(`  ${what}: ${cores.toFixed(2)} cores of other load during the run; measuring again`)
  }
}

interface Tracked {
  label: string
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
  private postmaster = 0
  private clusterStart = 0
  private machineStart = 0
  private benchStart: NodeJS.CpuUsage = process.cpuUsage()

  constructor(
    private readonly discover: () => Promise<readonly { pid: number; label: string }[]>,
    private readonly fixed: readonly { pid: number; label: string }[] = [],
  ) {}

  async start(intervalMs = 200): Promise<void> {
    this.started = Date.now()
    this.postmaster = await postmasterPid()
    this.clusterStart = clusterCpu(this.postmaster)
    this.machineStart = machineBusySeconds()
    this.benchStart = process.cpuUsage()
    for (const p of this.fixed) this.track(p.pid, p.label, false)
    for (const p of await this.discover()) this.track(p.pid, p.label, false)
    for (const pid of childrenOf(this.postmaster))
      if (!this.procs.has(pid)) this.track(pid, postgresTitle(pid), false)
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick()).catch(() => undefined)
    }, intervalMs)
  }

  private track(pid: number, label: string, fresh: boolean): void {
    const now = cpuSeconds(pid)
    if (now === undefined) return
    const t = this.procs.get(pid)
    if (t) {
      t.last = now
      // A backend first seen by its title, before pg_stat_activity named its database.
      if (t.label === OTHER_BACKENDS) t.label = label
    } else this.procs.set(pid, { label, start: fresh ? 0 : now, last: now })
  }

  private async tick(): Promise<void> {
    for (const [pid, t] of this.procs) t.last = cpuSeconds(pid) ?? t.last
    for (const p of await this.discover()) this.track(p.pid, p.label, true)
    // The rest of the cluster (WAL writer, checkpointer, backends of other databases) by its process title, so
    // "other postgres" keeps only the time of processes that exited between two samples.
    for (const pid of childrenOf(this.postmaster)) {
      if (!this.procs.has(pid)) this.track(pid, postgresTitle(pid), true)
    }
  }

  /**
   * CPU seconds per label since start(). Postgres time the labels miss (backends that exited between samples,
   * background processes such as the WAL writer and checkpointer, other databases' sessions) is reported as
   * "other postgres"; `machineS` is what every process on the machine used, ours included, and `foreignS` the
   * part of it that was neither Postgres, nor the tracked processes, nor this benchmark process itself:
   * someone else's load, which makes the run's timing suspect.
   */
  async stop(): Promise<CpuReport> {
    clearInterval(this.timer)
    await this.ticking
    await this.tick().catch(() => undefined)
    const cluster = clusterCpu(this.postmaster) - this.clusterStart
    const machineS = machineBusySeconds() - this.machineStart
    const bench = process.cpuUsage(this.benchStart)
    const cpu = new Map<string, number>()
    let labelledPg = 0
    let fixedS = 0
    for (const [pid, t] of this.procs) {
      cpu.set(t.label, (cpu.get(t.label) ?? 0) + (t.last - t.start))
      if (this.fixed.some((f) => f.pid === pid)) fixedS += t.last - t.start
      else labelledPg += t.last - t.start
    }
    cpu.set('other postgres', Math.max(0, cluster - labelledPg))
    const benchS = (bench.user + bench.system) / 1e6
    const wallS = (Date.now() - this.started) / 1000
    return { wallS, machineS, foreignS: Math.max(0, machineS - cluster - fixedS - benchS), cpu }
  }
}

/** Background work gets its own label: it is not the client's work, whichever database it runs in. */
export function backendLabel(
  row: { readonly datname: string; readonly backend_type: string },
  dbs: Readonly<Record<string, string>>,
): string {
  switch (row.backend_type) {
    case 'walsender':
      return 'walsender'
    case 'autovacuum worker':
      return 'autovacuum'
    case 'logical replication worker':
      return 'apply worker'
    default:
      return dbs[row.datname] ?? row.datname
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
    return r.rows.map((row) => ({ pid: Number(row.pid), label: backendLabel(row, dbs) }))
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
