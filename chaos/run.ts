// The long reliability run, `npm run chaos`: ≥ 100k wire-fuzz inputs, the bad-SQL and bad-REST catalogues, every fault scenario
// with many more repetitions than CI, and ≥ 20 SIGKILL trials each during snapshot and streaming. It writes the
// figures to RELIABILITY.md and exits non-zero if anything failed. RELIABILITY_SEED=<n> replays a run's choices.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPgmirror } from '../test/support/pgmirror-process.ts'
import { createTestDatabase } from '../test/support/services.ts'
import { runBadRest } from '../test/reliability/support/bad-rest.ts'
import { prepareBadSql, runBadSql } from '../test/reliability/support/bad-sql.ts'
import * as net from '../test/reliability/support/network-faults.ts'
import { runSeed } from '../test/reliability/support/prng.ts'
import * as queue from '../test/reliability/support/queue-faults.ts'
import { createRig } from '../test/reliability/support/rig.ts'
import type { Figures } from '../test/reliability/support/scenario-kit.ts'
import * as sigkill from '../test/reliability/support/sigkill-faults.ts'
import { runWireFuzz } from '../test/reliability/support/wire-fuzz.ts'
import { renderReport, type ChaosRun, type ScenarioResult } from './report.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The test services, started if needed, and their settings in this process's environment (as `npm test` does). */
function ensureServices(): void {
  if (process.env.PGMIRROR_TEST_PG_URL) return
  execFileSync('bash', ['scripts/services.sh', 'start'], { cwd: ROOT, stdio: 'inherit' })
  const file = `${process.env.PGMIRROR_SERVICES_DIR ?? '/tmp/pgmirror-services'}/services.env`
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line)
    if (m) process.env[m[1]!] = m[2]!
  }
}

const { values: args } = parseArgs({
  options: {
    'fuzz-inputs': { type: 'string', default: '100000' },
    trials: { type: 'string', default: '20' },
    only: { type: 'string', default: 'fuzz,sql,faults,sigkill' },
  },
})

ensureServices()

const seed = runSeed()
const only = new Set(args.only.split(','))
const fuzzInputs = Number(args['fuzz-inputs'])
const trials = Number(args.trials)
const started = Date.now()
const say = (text: string) =>
  process.stdout.write(`[chaos ${Math.round((Date.now() - started) / 1000)}s] ${text}\n`)
say(`seed ${seed}`)

const fuzz: ChaosRun['fuzz'][number][] = []
if (only.has('fuzz')) {
  for (const password of [undefined, 'chaos-fuzz-pw']) {
    const label = password ? 'gateway with PEERDB_PASSWORD (SCRAM)' : 'gateway without a password'
    const catalog = await createTestDatabase('cat')
    const server = await startPgmirror({
      env: { PGMIRROR_CATALOG_URL: catalog.url, ...(password ? { PEERDB_PASSWORD: password } : {}) },
      args: ['--host', '127.0.0.1', '--role', 'gateway'],
    })
    const t = Date.now()
    try {
      const report = await runWireFuzz(
        { port: server.port, pid: server.child.pid!, ...(password ? { password } : {}) },
        {
          seed: seed + (password ? 1 : 0),
          inputs: Math.ceil(fuzzInputs / 2),
          concurrency: 16,
          checkEvery: 500,
          onCheck: (done, rss) => {
            if (done % 10_000 === 0) say(`${label}: ${done} inputs, RSS ${Math.round(rss / 1048576)} MB`)
          },
        },
      )
      fuzz.push({ label, report, seconds: (Date.now() - t) / 1000 })
      say(`${label}: ${report.inputs} inputs, ${report.failures.length} failures`)
    } finally {
      await server.stop()
      await catalog.drop()
    }
  }
}

let badSql: ChaosRun['badSql'] = { inputs: 0, refusedAsExpected: 0, failures: [] }
let badRest: ChaosRun['badRest'] = { inputs: 0, refusedAsExpected: 0, failures: [] }
if (only.has('sql')) {
  const password = 'chaos-sql-pw'
  const rig = await createRig({ env: { PEERDB_PASSWORD: password }, role: 'gateway' })
  try {
    badSql = await runBadSql(rig, await prepareBadSql(rig))
    say(`bad SQL: ${badSql.refusedAsExpected}/${badSql.inputs} refused as expected`)
    // The REST catalogue expects the same catalog (p1, p2, m1), through an API process of its own.
    const api = await startPgmirror({
      env: { PGMIRROR_CATALOG_URL: rig.catalog.url, PEERDB_PASSWORD: password },
      args: ['--host', '127.0.0.1', '--role', 'api'],
    })
    try {
      const auth = { authorization: `Basic ${Buffer.from(`chaos:${password}`).toString('base64')}` }
      badRest = await runBadRest(`http://127.0.0.1:${api.httpPort}`, auth, rig.catalog.url)
      say(`bad REST: ${badRest.refusedAsExpected}/${badRest.inputs} refused as expected`)
    } finally {
      await api.stop()
    }
  } finally {
    await rig.close()
  }
}

const scenarios: ScenarioResult[] = []
const scenario = async (name: string, fn: () => Promise<Figures>) => {
  const t = Date.now()
  say(`${name} …`)
  try {
    const figures = await fn()
    scenarios.push({ figures, seconds: (Date.now() - t) / 1000 })
    say(
      `${name}: ${figures.trials} trials, ${figures.faults} faults, ${figures.rowsCompared} rows compared, ${figures.lost} lost`,
    )
  } catch (e) {
    const figures: Figures = { scenario: name, trials: 0, faults: 0, rowsCompared: 0, lost: 0, notes: [] }
    const lost = /(\d+) missing, (\d+) extra, (\d+) differing/.exec((e as Error).message)
    if (lost) figures.lost = Number(lost[1]) + Number(lost[2]) + Number(lost[3])
    scenarios.push({ figures, seconds: (Date.now() - t) / 1000, error: (e as Error).message })
    say(`${name}: FAILED ${(e as Error).message.split('\n')[0]}`)
  }
}

if (only.has('faults')) {
  await scenario('target Postgres restarted mid-stream', () => net.targetRestart({ restarts: 5, seed }))
  await scenario('walsender terminated; paused mirror retains WAL', () =>
    net.walsenderKill({ kills: 10, seed }),
  )
  await scenario('exported snapshot lost mid-snapshot', () => net.snapshotHolderKilled({ seed }))
  await scenario('target connection broken mid-batch', () => net.targetDroppedMidBatch({ rounds: 10, seed }))
  await scenario('TCP proxy drops and stalls', () => net.proxyFaults({ faults: 30, seed }))
  await scenario('Redis restarted empty', () => queue.redisRestart({ restarts: 3, seed }))
  await scenario('catalog Postgres (queue) restarted', () => queue.catalogRestart({ restarts: 3, seed }))
}
if (only.has('sigkill')) {
  await scenario('SIGKILL during the snapshot', () => sigkill.sigkillDuringSnapshot({ trials, seed }))
  await scenario('SIGKILL while streaming', () => sigkill.sigkillDuringStreaming({ trials, seed }))
}

const run: ChaosRun = {
  command: 'npm run chaos',
  seed,
  startedAt: new Date(started),
  seconds: (Date.now() - started) / 1000,
  machine: `${cpus().length} CPU (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`,
  fuzz,
  badSql,
  badRest,
  scenarios,
}
writeFileSync(`${ROOT}/RELIABILITY.md`, renderReport(run))
const failed =
  scenarios.some((s) => s.error !== undefined) ||
  fuzz.some((f) => f.report.failures.length > 0) ||
  badSql.failures.length > 0 ||
  badRest.failures.length > 0
say(`RELIABILITY.md written; ${failed ? 'FAILURES' : 'all passed'}`)
process.exit(failed ? 1 : 0)
