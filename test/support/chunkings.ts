// Ways to cut one byte stream into chunks, for tests holding a stream parser to "the same output however the
// input arrives": every cut into two, and seeded random cuts (down to single bytes).

/** `buf` cut before each of the (ascending) offsets in `cuts`. */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = []
  let from = 0
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(from, c))
    from = c
  }
  return out
}

/** Every way of cutting `buf` in two (including the empty first or last piece). */
export function* everySplit(buf: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= buf.length; i++) yield splitAt(buf, [i])
}

/** mulberry32: small, seeded, good enough to pick cut points. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `count` random chunkings of `buf` (seeded, so a failure reproduces), with pieces of 1 to `maxPiece` bytes;
 * the first is always one byte at a time.
 */
export function* randomChunkings(buf: Buffer, count: number, maxPiece = 64, seed = 1): Generator<Buffer[]> {
  yield [...buf].map((b) => Buffer.from([b]))
  const rand = prng(seed)
  for (let k = 1; k < count; k++) {
    const cuts: number[] = []
    for (let at = 1 + Math.floor(rand() * maxPiece); at < buf.length; at += 1 + Math.floor(rand() * maxPiece))
      cuts.push(at)
    yield splitAt(buf, cuts)
  }
}
