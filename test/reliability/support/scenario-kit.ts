// What every fault scenario shares: a loaded source table, a mirror on it, waits on its progress, and the final
// comparison (md5 over ordered rows) that turns into counts of missing, extra and differing rows when it fails.
import { waitFor } from '../../support/services.ts'
import { once, peerSql, type Rig } from './rig.ts'
import { LOAD_COLS, loadTableSql, seedRowsSql, startWriteLoad, type WriteLoad } from './write-load.ts'

export const LOAD_TABLE = 'public.load'

/** The figures one scenario reports to RELIABILITY.md. */
export interface Figures {
  readonly scenario: string
  trials: number
  /** Faults injected: kills, restarts, dropped connections, stalls. */
  faults: number
  /** Rows on each side at each successful comparison, summed. */
  rowsCompared: number
  /** Rows missing, extra or different on the target at a failed comparison (must stay 0). */
  lost: number
  readonly notes: string[]
}

export const newFigures = (scenario: string): Figures => ({
  scenario,
  trials: 0,
  faults: 0,
  rowsCompared: 0,
  lost: 0,
  notes: [],
})

export interface MirrorSetup {
  readonly mirror: string
  /** Rows in the source table before the mirror starts. */
  readonly rows: number
  /** Reach the source or target through another port (a proxy). */
  readonly sourcePort?: number
  readonly targetPort?: number
  /** Extra mirror options, e.g. `snapshot_num_rows_per_partition = 5000`. */
  readonly options?: string
  /** Wait for STATUS_RUNNING (default true). */
  readonly waitRunning?: boolean
}

/** Creates the load table with `rows` rows, both peers and the mirror; waits until it streams. */
export async function setupMirror(rig: Rig, s: MirrorSetup): Promise<void> {
  await rig.src(loadTableSql(LOAD_TABLE))
  if (s.rows > 0) await rig.src(seedRowsSql(LOAD_TABLE, 1, s.rows))
  await rig.sql(peerSql('src', rig.source, s.sourcePort ? { port: s.sourcePort } : {}))
  await rig.sql(peerSql('dst', rig.target, s.targetPort ? { port: s.targetPort } : {}))
  const options = ['sync_interval = 1', 'max_batch_size = 2000', s.options].filter(Boolean).join(', ')
  await rig.sql(
    `CREATE MIRROR ${s.mirror} FROM src TO dst WITH TABLE MAPPING (${LOAD_TABLE}:${LOAD_TABLE}) WITH (${options})`,
  )
  if (s.waitRunning ?? true) await rig.waitForStatus(s.mirror, 'STATUS_RUNNING', 120_000)
}

export function startLoad(
  rig: Rig,
  seed: number,
  firstId: number,
  maxExistingId: number,
  txPerSecond?: number,
): WriteLoad {
  return startWriteLoad(rig.source.url, LOAD_TABLE, {
    firstId,
    seed,
    maxExistingId,
    ...(txPerSecond !== undefined ? { txPerSecond } : {}),
  })
}

export async function lastBatchId(rig: Rig, mirror: string): Promise<bigint> {
  const r = await rig.cat('SELECT last_batch_id FROM mirrors WHERE name = $1', [mirror])
  return BigInt(r.rows[0]?.last_batch_id ?? 0)
}

/** Waits until the mirror has written `n` more batches than `after`; returns the new batch id. */
export async function waitForBatches(
  rig: Rig,
  mirror: string,
  after: bigint,
  n = 1,
  timeoutMs = 90_000,
): Promise<bigint> {
  let last = after
  return waitFor(
    async () => {
      rig.assertAlive()
      last = await lastBatchId(rig, mirror)
      return last >= after + BigInt(n) ? last : undefined
    },
    { timeoutMs, intervalMs: 100, message: `mirror ${mirror} to write ${n} batch(es) after batch ${after}` },
  ).catch(async (e: Error) => {
    const r = await rig.cat('SELECT status, last_error FROM mirrors WHERE name = $1', [mirror])
    throw new Error(
      `${e.message} (at batch ${last}; ${r.rows[0]?.status}: ${r.rows[0]?.last_error ?? 'no error'})\n${rig.server.logs().slice(-3000)}`,
    )
  })
}

/** Waits until the writer has committed `n` more transactions: a wait that lets a fault last a while. */
export async function waitForWrites(load: WriteLoad, n: number, timeoutMs = 60_000): Promise<void> {
  const target = load.txs + n
  await waitFor(() => load.txs >= target, {
    timeoutMs,
    intervalMs: 20,
    message: `${n} more source transactions`,
  })
}

/** Row by row: how many rows the target lacks, has in excess, or holds with other values. */
export async function diffRows(
  rig: Rig,
  target = LOAD_TABLE,
): Promise<{ missing: number; extra: number; differing: number }> {
  const sql = (t: string) => `SELECT id::text AS id, md5(x::text) AS h FROM (SELECT ${LOAD_COLS} FROM ${t}) x`
  const [a, b] = await Promise.all([once(rig.source.url, sql(LOAD_TABLE)), once(rig.target.url, sql(target))])
  const onTarget = new Map(b.rows.map((r: { id: string; h: string }) => [r.id, r.h]))
  let missing = 0
  let differing = 0
  for (const r of a.rows as { id: string; h: string }[]) {
    const h = onTarget.get(r.id)
    if (h === undefined) missing++
    else if (h !== r.h) differing++
    onTarget.delete(r.id)
  }
  return { missing, extra: onTarget.size, differing }
}

/**
 * The end of every trial: the writer stops, then the target must reach the source's md5. On success the row count
 * is added to the figures; on failure the row-level difference is counted as lost and reported.
 */
export async function compareTables(
  rig: Rig,
  figures: Figures,
  { target = LOAD_TABLE, timeoutMs = 120_000 }: { target?: string; timeoutMs?: number } = {},
): Promise<void> {
  try {
    const same = await rig.waitForSameRows(LOAD_TABLE, LOAD_COLS, 'id', { timeoutMs, target })
    figures.rowsCompared += Number(same.split(':')[0])
  } catch (e) {
    const d = await diffRows(rig, target)
    figures.lost += d.missing + d.extra + d.differing
    throw new Error(
      `${figures.scenario}: target differs: ${d.missing} missing, ${d.extra} extra, ${d.differing} differing rows\n${(e as Error).message}`,
    )
  }
}
