// A small seeded PRNG (mulberry32): every random choice of the suite comes from one, so a failure names the seed
// that reproduces it.

export interface Prng {
  readonly seed: number
  /** [0, 1) */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
  bytes(n: number): Buffer
}

export function prng(seed: number): Prng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    seed,
    next,
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    chance: (p) => next() < p,
    bytes: (n) => {
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i++) b[i] = int(256)
      return b
    },
  }
}

/** The seed for this run: RELIABILITY_SEED when set (to replay a failure), else a fresh one. */
export function runSeed(): number {
  const fixed = process.env.RELIABILITY_SEED
  if (fixed !== undefined && fixed !== '') return Number(fixed) >>> 0
  return (Date.now() ^ (process.pid << 16)) >>> 0
}
