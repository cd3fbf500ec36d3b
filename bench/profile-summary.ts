// Summarises a V8 CPU profile (.cpuprofile, as written by `node --cpu-prof` or BENCH_CPU_PROF) by self time:
// the functions and the source files where pgmirror's own CPU went.
//
//   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number }
  readonly children?: readonly number[]
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export function summarise(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const fns = new Map<string, number>()
  const files = new Map<string, number>()
  for (const [id, us] of self) {
    const f = byId.get(id)?.callFrame
    if (!f) continue
    const file = f.url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/') || '(native)'
    const fn = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`
    fns.set(fn, (fns.get(fn) ?? 0) + us)
    files.set(file, (files.get(file) ?? 0) + us)
  }
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`,
      )
      .join('\n')
  return `total sampled ${(total / 1e6).toFixed(2)} s\n\nby function (self time):\n${list(fns)}\n\nby file:\n${list(files)}`
}

const file = process.argv[2]
if (file === undefined) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? 25)))
