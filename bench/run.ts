// Runs every benchmark in turn (snapshot, CDC catch-up, lag); each prints its table and updates its section of
// BENCHMARKS.md on a full-size run. BENCH_ONLY=snapshot,cdc,lag picks some; BENCH_QUICK=1 is a smoke run.
//
//   npm run bench            (node --import tsx bench/run.ts)
import { main as cdc } from './cdc-catchup.ts'
import { main as lag } from './lag.ts'
import { runIfMain } from './harness/report.ts'
import { main as snapshot } from './snapshot.ts'

const ALL: readonly [string, () => Promise<unknown>][] = [
  ['snapshot', snapshot],
  ['cdc', cdc],
  ['lag', lag],
]

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim())
  const unknown = only?.filter((name) => !ALL.some(([n]) => n === name)) ?? []
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown benchmark ${unknown.join(', ')} (snapshot, cdc, lag)`)
  for (const [name, run] of ALL) {
    if (only && !only.includes(name)) continue
    const t0 = Date.now()
    console.log(`\n=== ${name} ===`)
    await run()
    console.log(`=== ${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s ===`)
  }
}

runIfMain(import.meta.url, main)
