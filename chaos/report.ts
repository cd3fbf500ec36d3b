// Renders the figures of a chaos run as RELIABILITY.md: what was tried, what survived, what was compared, and
// what was lost (which must be nothing).
import type { FuzzReport } from '../test/reliability/support/wire-fuzz.ts'
import type { Figures } from '../test/reliability/support/scenario-kit.ts'

export interface ScenarioResult {
  readonly figures: Figures
  readonly seconds: number
  /** The error, when the scenario failed. */
  readonly error?: string
}

export interface BadInputFigures {
  readonly inputs: number
  readonly refusedAsExpected: number
  readonly failures: readonly string[]
}

export interface ChaosRun {
  readonly command: string
  readonly seed: number
  readonly startedAt: Date
  readonly seconds: number
  readonly machine: string
  readonly fuzz: readonly { readonly label: string; readonly report: FuzzReport; readonly seconds: number }[]
  readonly badSql: BadInputFigures
  readonly badRest: BadInputFigures
  readonly scenarios: readonly ScenarioResult[]
}

const n = (x: number) => x.toLocaleString('en-US')
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`

export function renderReport(run: ChaosRun): string {
  const fuzzInputs = run.fuzz.reduce((s, f) => s + f.report.inputs, 0)
  const fuzzFailures = run.fuzz.reduce((s, f) => s + f.report.failures.length, 0)
  const trials = run.scenarios.reduce((s, r) => s + r.figures.trials, 0)
  const faults = run.scenarios.reduce((s, r) => s + r.figures.faults, 0)
  const rows = run.scenarios.reduce((s, r) => s + r.figures.rowsCompared, 0)
  const lost = run.scenarios.reduce((s, r) => s + r.figures.lost, 0)
  const failed = run.scenarios.filter((r) => r.error !== undefined)
  const ok =
    failed.length === 0 &&
    fuzzFailures === 0 &&
    run.badSql.failures.length === 0 &&
    run.badRest.failures.length === 0

  const lines = [
    '# Reliability',
    '',
    'pgmirror moves production data, so this file records what its reliability and security suite threw at it and',
    'what came out. The figures below are from the last long run; CI runs a short version of every part on each',
    'change (`test/reliability/*.test.ts`, about two minutes on two CPUs).',
    '',
    '## How to reproduce',
    '',
    '```sh',
    run.command,
    `RELIABILITY_SEED=${run.seed} ${run.command}   # the same random choices as this run`,
    '```',
    '',
    'It starts the test services if needed (`scripts/services.sh`), starts its own throwaway Postgres clusters and',
    'Redis servers for the faults that restart them, and rewrites this file at the end. Options: `--fuzz-inputs N`,',
    '`--trials N` (per SIGKILL phase), `--only fuzz,sql,faults,sigkill`.',
    '',
    '## Last run',
    '',
    `- **Result: ${ok ? 'everything survived, nothing lost' : 'FAILURES, see below'}**`,
    `- Started ${run.startedAt.toISOString()}, took ${Math.round(run.seconds / 60)} min, seed ${run.seed}`,
    `- Machine: ${run.machine}`,
    `- Fault trials run: **${n(trials)}**; faults injected: **${n(faults)}**; scenarios failed: **${failed.length}** of ${run.scenarios.length}`,
    `- Wire-protocol inputs tried: **${n(fuzzInputs)}**; bad inputs tried: **${n(run.badSql.inputs + run.badRest.inputs)}** (${n(run.badSql.inputs)} SQL statements, ${n(run.badRest.inputs)} REST requests)`,
    `- Rows compared source ≡ target (md5 of ordered rows): **${n(rows)}**`,
    `- Rows lost, doubled or different on a target: **${n(lost)}**`,
    '',
    '## Faults',
    '',
    'Every trial runs under a write load on the source (inserts, updates, deletes) and ends with the target equal to',
    'the source by md5 of the ordered rows; every scenario ends with DROP MIRROR and a check that the source keeps no',
    'slot, publication or `pgmirror%` backend of the mirror.',
    '',
    '| scenario | trials | faults | rows compared | lost | time | result |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...run.scenarios.map(
      (r) =>
        `| ${r.figures.scenario} | ${n(r.figures.trials)} | ${n(r.figures.faults)} | ${n(r.figures.rowsCompared)} | ${n(r.figures.lost)} | ${Math.round(r.seconds)} s | ${r.error === undefined ? 'ok' : '**failed**'} |`,
    ),
    '',
    ...failed.flatMap((r) => [
      `**${r.figures.scenario} failed:**`,
      '',
      '```',
      r.error!.slice(0, 3000),
      '```',
      '',
    ]),
    '## Wire-protocol fuzzing',
    '',
    'Mutated valid frames (startup, SSL and cancel requests, query, parse/bind/describe/execute, SASL) with flipped',
    'bytes, wrong and huge lengths, truncation, inserted junk, bad UTF-8 and swapped message types, plus random',
    'bytes, each on its own connection, 16 at a time. Between inputs the server must answer on a long-lived',
    'connection and on a new one, never report an internal error, close every connection it is done with, and keep',
    'its memory (VmRSS) bounded.',
    '',
    '| server | inputs | checks | RSS at start | peak RSS (1st half / 2nd half) | failures | time |',
    '|---|---:|---:|---:|---|---:|---:|',
    ...run.fuzz.map(
      (f) =>
        `| ${f.label} | ${n(f.report.inputs)} | ${n(f.report.checks)} | ${mb(f.report.baseRss)} | ${mb(f.report.peakRssFirstHalf)} / ${mb(f.report.peakRssSecondHalf)} | ${f.report.failures.length} | ${Math.round(f.seconds)} s |`,
    ),
    '',
    'ErrorResponses the server sent, by SQLSTATE (XX000 here is only Postgres\'s own "cache lookup failed for type',
    'N" for a Parse naming a type OID that does not exist, forwarded as Postgres sends it; any other XX000 fails the',
    'run):',
    '',
    ...run.fuzz.map(
      (f) =>
        `- ${f.label}: ${Object.entries(f.report.sqlStates)
          .sort((a, b) => b[1] - a[1])
          .map(([code, count]) => `${code} × ${n(count)}`)
          .join(', ')}`,
    ),
    '',
    ...run.fuzz
      .filter((f) => f.report.failures.length > 0)
      .flatMap((f) => [`**${f.label} failures:**`, '', '```', ...f.report.failures.slice(0, 20), '```', '']),
    '## Bad SQL',
    '',
    `${n(run.badSql.inputs)} statements from \`test/reliability/support/bad-sql.ts\` (unknown peers, options and`,
    'mirrors, wrong types, identifiers with quotes, semicolons and Unicode, injection in names and option values,',
    'hidden and catalog tables, the catalog host, two peers in one query): ' +
      `${n(run.badSql.refusedAsExpected)} refused with the expected SQLSTATE and the catalog unchanged.`,
    '',
    ...(run.badSql.failures.length ? ['```', ...run.badSql.failures, '```', ''] : []),
    '## Bad REST requests',
    '',
    `${n(run.badRest.inputs)} requests from \`test/reliability/support/bad-rest.ts\` to every route family (peers,`,
    'browsing a peer, mirror create, validate, status, list, batches and state changes, alert configs): missing and',
    'wrong credentials, malformed, empty, non-object, deeply nested and oversized bodies, wrong content types, NUL',
    'characters, unknown peers, mirrors, options and query parameters, wrong JSON types, hostile names and injection',
    'in names and option values, conflicts and forbidden state changes: ' +
      `${n(run.badRest.refusedAsExpected)} answered with the expected HTTP status and a JSON error (no stack trace,`,
    'no secret), with the catalog unchanged and the server still live afterwards.',
    '',
    ...(run.badRest.failures.length ? ['```', ...run.badRest.failures, '```', ''] : []),
    '## Not covered here',
    '',
    '- Kafka and ClickHouse targets: their fault scenarios are not written yet (only Postgres → Postgres mirrors).',
    '',
  ]
  return `${lines.join('\n')}\n`
}
