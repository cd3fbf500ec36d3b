// Benchmark 2: CDC catch-up. About 1M row changes (50 % inserts, 35 % updates, 15 % deletes, in transactions of
// BENCH_CDC_TX_SIZE changes) are made on the source while a pgmirror mirror is PAUSED and a native subscription
// is disabled; each is then timed from RESUME MIRROR / ALTER SUBSCRIPTION … ENABLE until the marker row written
// after all changes is on its target, and the target is checked equal to the source (md5 over ordered rows).
//
//   node --import tsx bench/cdc-catchup.ts     (BENCH_CDC_CHANGES=1000000 by default; BENCH_QUICK=1: 50000)
import { performance } from 'node:perf_hooks'
import { assertSameRows, createDatabase, dropDatabases, query, type TestDatabase } from './harness/pg.ts'
import { peerSql, startMirrorServer, type MirrorServer } from './harness/pgmirror.ts'
import { backendsOf, cleanRun, CpuTracker, MemorySampler, waitForQuietMachine } from './harness/procs.ts'
import {
  commandLine,
  envInt,
  machine,
  mb,
  publish,
  quick,
  ratio,
  runIfMain,
  seconds,
  table,
} from './harness/report.ts'
import { WaitSampler } from './harness/waits.ts'
import {
  changesSql,
  COLS,
  createSourceTable,
  createTargetTable,
  fillRows,
  insertMarker,
  MARKER_ID,
  planChanges,
  planTotal,
  TABLE,
  type ChangePlan,
} from './harness/workload.ts'

const FULL_CHANGES = 1_000_000
const SUB = 'bench_native_sub'
const PUB = 'bench_native_pub'

interface CatchUp {
  readonly ms: number
  readonly machineS: number
  readonly foreignS: number
  readonly cpu: Map<string, number>
  readonly waits: Map<string, string>
}

export interface CdcResult {
  readonly plan: ChangePlan
  readonly changes: number
  readonly walMb: number
  readonly produceMs: number
  readonly native: CatchUp
  readonly pgmirror: CatchUp & {
    readonly peakHwmMb: number
    readonly batches: number
    /** ms from RESUME until the first batch started being written. */
    readonly firstBatchAt: number
    /** ms spent in writing batches to the target (sum of cdc_batches finished_at - started_at). */
    readonly writeMs: number
    readonly maxBatchRows: number
  }
  readonly maxBatchSize: number
}

/** Polls the target (every 20 ms) until the marker row is there; returns when it was seen. */
async function waitForMarker(db: TestDatabase, timeoutMs: number, what: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const r = await query(db.url, `SELECT 1 FROM ${TABLE} WHERE id = $1`, [MARKER_ID])
    if (r.rows.length > 0) return performance.now()
    if (Date.now() > deadline) throw new Error(`the marker row did not reach ${db.name}: ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function measured<T>(
  dbs: Record<string, string>,
  fixed: { pid: number; label: string }[],
  fn: () => Promise<T>,
): Promise<{
  value: T
  machineS: number
  foreignS: number
  cpu: Map<string, number>
  waits: Map<string, string>
}> {
  const cpu = new CpuTracker(backendsOf(dbs), fixed)
  const waits = new WaitSampler(dbs)
  await waitForQuietMachine()
  await Promise.all([cpu.start(), waits.start()])
  const value = await fn()
  const [c, w] = await Promise.all([cpu.stop(), waits.stop()])
  return { value, machineS: c.machineS, foreignS: c.foreignS, cpu: c.cpu, waits: w }
}

export async function main(): Promise<CdcResult> {
  const r = await cleanRun('cdc catch-up', runOnce, (x) =>
    Math.max(x.native.foreignS / (x.native.ms / 1000), x.pgmirror.foreignS / (x.pgmirror.ms / 1000)),
  )
  return report(r)
}

async function runOnce(): Promise<CdcResult> {
  const changes = envInt('BENCH_CDC_CHANGES', quick ? 50_000 : FULL_CHANGES)
  const txSize = envInt('BENCH_CDC_TX_SIZE', 1000)
  const maxBatchSize = envInt('BENCH_CDC_BATCH', 100_000)
  const timeoutMs = envInt('BENCH_TIMEOUT_MS', 1_800_000)
  const plan = planChanges(changes, txSize)
  const src = await createDatabase('cdc_src')
  const nat = await createDatabase('cdc_native')
  const dst = await createDatabase('cdc_pgm')
  let server: MirrorServer | undefined
  let subscribed = false
  try {
    console.log(`cdc catch-up: ${planTotal(plan)} changes on ${plan.baseRows} base rows, loading…`)
    await query(src.url, createSourceTable())
    await query(nat.url, createTargetTable())
    await query(dst.url, createTargetTable())
    for (const db of [src, nat, dst]) {
      await fillRows((sql) => query(db.url, sql), plan.baseRows)
      await query(db.url, `VACUUM (FREEZE, ANALYZE) ${TABLE}`)
    }

    // Native logical replication. The slot is made by hand: CREATE SUBSCRIPTION cannot create one in its own
    // cluster (it would wait for itself).
    const u = new URL(src.url)
    await query(src.url, `CREATE PUBLICATION ${PUB} FOR TABLE ${TABLE}`)
    await query(src.url, `SELECT pg_create_logical_replication_slot('${SUB}_${src.name}', 'pgoutput')`)
    await query(
      nat.url,
      `CREATE SUBSCRIPTION ${SUB} CONNECTION 'host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${src.name}'
       PUBLICATION ${PUB} WITH (create_slot = false, slot_name = '${SUB}_${src.name}', copy_data = false, enabled = false)`,
    )
    subscribed = true

    // pgmirror, streaming, then paused before any change is made.
    server = await startMirrorServer()
    await server.sql(peerSql('src', src))
    await server.sql(peerSql('dst', dst))
    await server.sql(`CREATE MIRROR cdc FROM src TO dst WITH TABLE MAPPING (${TABLE}:${TABLE})
      WITH (do_initial_copy = false, max_batch_size = ${maxBatchSize}, sync_interval = 1)`)
    await server.waitForStatus('cdc', 'STATUS_RUNNING', 120_000)
    await server.sql('PAUSE MIRROR cdc')
    await server.waitForStatus('cdc', 'STATUS_PAUSED', 120_000)

    console.log(`  producing the changes…`)
    const lsn0 = (await query(src.url, 'SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l
    const p0 = performance.now()
    await query(src.url, changesSql(plan))
    await query(src.url, insertMarker())
    const produceMs = performance.now() - p0
    const wal = await query(src.url, `SELECT (pg_current_wal_lsn() - $1::pg_lsn)::text AS b`, [lsn0])
    const walMb = Number(wal.rows[0]!.b) / 2 ** 20
    // Now, rather than by autovacuum in the middle of one contestant's run.
    await query(src.url, `VACUUM (ANALYZE) ${TABLE}`)
    console.log(`  ${seconds(produceMs)} s, ${walMb.toFixed(0)} MB of WAL`)

    console.log(`  native subscription: ENABLE…`)
    const nativeRun = await measured(
      { [src.name]: 'source', [nat.name]: 'target backends' },
      [],
      async () => {
        const t0 = performance.now()
        await query(nat.url, `ALTER SUBSCRIPTION ${SUB} ENABLE`)
        return (await waitForMarker(nat, timeoutMs, () => 'native subscription')) - t0
      },
    )
    await query(nat.url, `ALTER SUBSCRIPTION ${SUB} DISABLE`)
    console.log(
      `  native: ${seconds(nativeRun.value)} s; ${await assertSameRows(src.url, nat.url, TABLE, COLS)}`,
    )

    console.log(`  pgmirror: RESUME MIRROR…`)
    const mem = new MemorySampler(server.pid).start()
    const mirror = server
    const dbs = {
      [src.name]: 'source',
      [dst.name]: 'target backends',
      [server.catalog.name]: 'catalog backends',
    }
    let resumedAt = 0
    const pgmRun = await measured(dbs, [{ pid: server.pid, label: 'pgmirror (node)' }], async () => {
      const t0 = performance.now()
      resumedAt = Date.now()
      await mirror.sql('RESUME MIRROR cdc')
      return (await waitForMarker(dst, timeoutMs, () => mirror.process.logs().slice(-3000))) - t0
    })
    const peakHwmMb = mem.stop().hwmMb
    console.log(
      `  pgmirror: ${seconds(pgmRun.value)} s; ${await assertSameRows(src.url, dst.url, TABLE, COLS)}`,
    )
    const b = await query<{ n: string; first: string; write_ms: string; max_rows: string }>(
      server.catalog.url,
      `SELECT count(*)::text AS n, (extract(epoch FROM min(started_at)) * 1000)::bigint::text AS first,
              (sum(extract(epoch FROM finished_at - started_at)) * 1000)::bigint::text AS write_ms,
              max(rows)::text AS max_rows
       FROM cdc_batches WHERE started_at >= to_timestamp($1 / 1000.0)`,
      [resumedAt],
    )
    const batch = b.rows[0]!
    return {
      plan,
      changes: planTotal(plan),
      walMb,
      produceMs,
      maxBatchSize,
      native: {
        ms: nativeRun.value,
        machineS: nativeRun.machineS,
        foreignS: nativeRun.foreignS,
        cpu: nativeRun.cpu,
        waits: nativeRun.waits,
      },
      pgmirror: {
        ms: pgmRun.value,
        machineS: pgmRun.machineS,
        foreignS: pgmRun.foreignS,
        cpu: pgmRun.cpu,
        waits: pgmRun.waits,
        peakHwmMb,
        batches: Number(batch.n),
        firstBatchAt: Number(batch.first) - resumedAt,
        writeMs: Number(batch.write_ms),
        maxBatchRows: Number(batch.max_rows),
      },
    }
  } finally {
    if (server) {
      await server.sql('DROP MIRROR IF EXISTS cdc').catch(() => undefined)
      await server.close()
    }
    if (subscribed) {
      // Detach the slot first, so DROP SUBSCRIPTION does not try to drop it over a connection of its own.
      await query(nat.url, `ALTER SUBSCRIPTION ${SUB} DISABLE`).catch(() => undefined)
      await query(nat.url, `ALTER SUBSCRIPTION ${SUB} SET (slot_name = NONE)`).catch(() => undefined)
      await query(nat.url, `DROP SUBSCRIPTION ${SUB}`).catch(() => undefined)
    }
    await dropDatabases(src, nat, dst)
  }
}

const cpuText = (cpu: Map<string, number>): string =>
  [...cpu]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([label, s]) => `${label} ${s.toFixed(1)}`)
    .join(', ')

const waitText = (waits: Map<string, string>): string =>
  [...waits].map(([label, w]) => `${label}: ${w}`).join('; ')

async function report(r: CdcResult): Promise<CdcResult> {
  const p = r.pgmirror
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
  const body = [
    `### Results: CDC catch-up (generated ${when} UTC)`,
    '',
    `Machine: ${await machine()}.`,
    '',
    `Command: \`${commandLine()}\`. ${r.changes.toLocaleString('en-US')} changes on ` +
      `${r.plan.baseRows.toLocaleString('en-US')} base rows in ${r.plan.transactions} transactions of ` +
      `${r.plan.insertsPerTx} inserts + ${r.plan.updatesPerTx} updates + ${r.plan.deletesPerTx} deletes ` +
      `(${r.walMb.toFixed(0)} MB of WAL, produced in ${seconds(r.produceMs)} s); pgmirror max_batch_size = ` +
      `${r.maxBatchSize}, sync_interval = 1.`,
    '',
    table(
      ['', 'native subscription', 'pgmirror'],
      [
        ['catch-up s (ENABLE / RESUME → marker row on target)', seconds(r.native.ms), seconds(p.ms)],
        [
          'changes/s',
          Math.round(r.changes / (r.native.ms / 1000)).toLocaleString('en-US'),
          Math.round(r.changes / (p.ms / 1000)).toLocaleString('en-US'),
        ],
        ['pgmirror speed vs native', '1.00×', ratio(r.native.ms / p.ms)],
        ['machine CPU-s (all processes)', r.native.machineS.toFixed(1), p.machineS.toFixed(1)],
        ["of which others' load", r.native.foreignS.toFixed(1), p.foreignS.toFixed(1)],
        [
          'CPU-s used by the run (the rest)',
          (r.native.machineS - r.native.foreignS).toFixed(1),
          (p.machineS - p.foreignS).toFixed(1),
        ],
        ['CPU seconds by process group', cpuText(r.native.cpu), cpuText(p.cpu)],
        ['backend states sampled', waitText(r.native.waits), waitText(p.waits)],
      ],
    ),
    '',
    `pgmirror: ${p.batches} batches (largest ${p.maxBatchRows.toLocaleString('en-US')} changes); first batch ` +
      `started ${seconds(p.firstBatchAt)} s after RESUME; writing batches to the target took ` +
      `${seconds(p.writeMs)} s in all (${Math.round((100 * p.writeMs) / p.ms)} % of the catch-up); peak RSS ` +
      `${mb(p.peakHwmMb)} MB.`,
  ].join('\n')
  publish(
    'cdc',
    body,
    r.changes === FULL_CHANGES &&
      process.env.BENCH_CDC_TX_SIZE === undefined &&
      process.env.BENCH_CDC_BATCH === undefined,
  )
  return r
}

runIfMain(import.meta.url, main)
