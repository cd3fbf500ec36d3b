// Printing results and keeping BENCHMARKS.md current. Each benchmark owns one generated section between
// `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the prose around the sections is written by hand.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { clusterDescription, withBenchCluster } from './cluster.ts'
import { serverVersion } from './pg.ts'

const DOC = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
const OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url))

/** An integer from the environment (underscores allowed: 2_000_000). */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw.replaceAll('_', ''))
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return n
}

export function envIntList(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return [...fallback]
  return raw.split(',').map((part, i) => {
    const n = Number(part.trim().replaceAll('_', ''))
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${name}[${i}] must be a positive integer, got "${part}"`)
    return n
  })
}

/** BENCH_QUICK=1 shrinks every default to a smoke run of a few seconds. */
export const quick = process.env.BENCH_QUICK === '1'

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

export const seconds = (ms: number): string => (ms / 1000).toFixed(2)
export const ratio = (x: number): string => `${x.toFixed(2)}×`
export const mb = (x: number): string => x.toFixed(0)

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

export async function machine(): Promise<string> {
  const cpu = os.cpus()
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}, PostgreSQL ${await serverVersion()} on ${clusterDescription()}`
}

/** The command that reproduces this run: the BENCH_* variables that were set, then the script that ran. */
export function commandLine(): string {
  const vars = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_DOC')
    .map(([k, v]) => `${k}=${v}`)
  const script = path.relative(process.cwd(), process.argv[1] ?? 'bench/run.ts')
  return [...vars, `node --import tsx ${script}`].join(' ')
}

/**
 * Writes a section into BENCHMARKS.md when the run used the full default sizes (or BENCH_DOC=1); a smoke run
 * (or BENCH_DOC=0) only prints and leaves its section in bench/out/NAME.md, so it never overwrites real numbers.
 */
export function publish(name: string, body: string, fullSize: boolean): void {
  console.log(`\n${body}\n`)
  mkdirSync(OUT_DIR, { recursive: true })
  writeFileSync(`${OUT_DIR}${name}.md`, `${body}\n`)
  const wanted = process.env.BENCH_DOC === '1' || (process.env.BENCH_DOC !== '0' && fullSize)
  if (!wanted) {
    console.log(`(BENCHMARKS.md left alone: not a full-size run; set BENCH_DOC=1 to write it anyway)`)
    return
  }
  const open = `<!-- bench:${name} -->`
  const close = `<!-- /bench:${name} -->`
  let doc = ''
  try {
    doc = readFileSync(DOC, 'utf8')
  } catch {
    doc = '# Benchmarks\n'
  }
  const section = `${open}\n${body}\n${close}`
  const a = doc.indexOf(open)
  const b = doc.indexOf(close)
  doc =
    a >= 0 && b > a
      ? doc.slice(0, a) + section + doc.slice(b + close.length)
      : `${doc.trimEnd()}\n\n${section}\n`
  writeFileSync(DOC, doc)
  console.log(`BENCHMARKS.md: section "${name}" updated`)
}

/** Runs `main` on the benchmark cluster when the file is executed directly (not imported by bench/run.ts). */
export function runIfMain(url: string, main: () => Promise<unknown>): void {
  if (process.argv[1] && fileURLToPath(url) === process.argv[1]) {
    // Interrupted: exit normally, so the 'exit' hooks stop the pgmirror processes and the private cluster.
    process.once('SIGINT', () => process.exit(130))
    process.once('SIGTERM', () => process.exit(143))
    withBenchCluster(main).then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e)
        process.exit(1)
      },
    )
  }
}
