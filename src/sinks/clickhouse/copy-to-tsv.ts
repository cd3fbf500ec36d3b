/**
 * The snapshot's fast path: for tables whose every column ClickHouse reads exactly from Postgres' own COPY text,
 * the COPY stream goes to ClickHouse as TabSeparated, nearly untouched. The two formats share their escapes
 * (`\b \f \n \r \t \v \\`, and `\N` for NULL), integers, decimals, uuids and text read back exactly, and only two
 * things are rewritten: booleans (`t`/`f` → `1`/`0`, in place) and numeric NaN / ±Infinity, which a Decimal
 * cannot hold (NULL, or 0 in a column that cannot be NULL, as in value-codec.ts).
 *
 * Floats are not eligible: ClickHouse 18.16 parses Float64 text inexactly (about one value in five is off by an
 * ulp), so tables with floats, bytea, arrays or the modern temporal types take the RowBinary path.
 * The stream is consumed as it comes; its chunks are rewritten in place (the sink owns them) and passed on as
 * they are, so the TabSeparated body is the source's own buffers.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { RowWriter } from './row-binary.ts'
import type { ChTarget } from './target.ts'

type Rewrite = 'bool' | 'decimal' | 'none'

/** Whether the table can take the COPY text as TabSeparated (see above). */
export function tsvEligible(t: ChTarget): boolean {
  return (
    t.nullArrays === undefined &&
    t.columns.every((c) => !c.type.array && rewriteOf(c.type.scalar.kind) !== undefined)
  )
}

function rewriteOf(kind: string): Rewrite | undefined {
  switch (kind) {
    case 'int':
    case 'string':
    case 'uuid':
      return 'none'
    case 'bool':
      return 'bool'
    case 'decimal':
      return 'decimal'
    default:
      return undefined
  }
}

/** Runs shorter than this are gathered before they go on. */
const CHUNK_BYTES = 8 << 10
const TAB = 9
const NL = 10
const NULL_FIELD = Buffer.from('\\N')
const ZERO_FIELD = Buffer.from('0')

export class CopyToTsv extends Transform {
  rows = 0
  private rest: Buffer | undefined
  private readonly out = new RowWriter(4 * CHUNK_BYTES)
  private readonly rewrites: readonly Rewrite[]
  /** Columns reached from the line's start (0 … frontLast) and from its end (backFirst … last). */
  private readonly frontLast: number
  private readonly backFirst: number
  private readonly nullable: readonly boolean[]
  /** Field bounds of the current line, by column (only those scanned are set). */
  private readonly starts: number[]
  private readonly stops: number[]

  constructor(t: ChTarget) {
    super()
    this.rewrites = t.columns.map((c) => rewriteOf(c.type.scalar.kind) ?? 'none')
    this.nullable = t.columns.map((c) => c.type.nullable)
    const n = this.rewrites.length
    // Raw tabs only ever separate fields, so a column near the end is found faster by scanning backwards.
    const half = n >> 1
    const wanted = this.rewrites.flatMap((r, i) => (r === 'none' ? [] : [i]))
    this.frontLast = Math.max(-1, ...wanted.filter((i) => i < half))
    this.backFirst = Math.min(n, ...wanted.filter((i) => i >= half))
    this.starts = new Array<number>(n).fill(0)
    this.stops = new Array<number>(n).fill(0)
  }

  /**
   * Queues buf[from, to) for the request body. The source's chunks (one per socket read, many rows each) go on
   * as they are, rewritten in place: copying them into new buffers would only add garbage. Short runs (the
   * pieces around a replaced line) are gathered first, so the body is not made of tiny writes.
   */
  private queue(buf: Buffer, from: number, to: number): void {
    if (to <= from) return
    if (to - from >= CHUNK_BYTES) {
      if (this.out.length > 0) this.push(this.out.take())
      this.push(buf.subarray(from, to))
      return
    }
    this.out.copy(buf, from, to)
    if (this.out.length >= CHUNK_BYTES) this.push(this.out.take())
  }

  private get passThrough(): boolean {
    return this.frontLast < 0 && this.backFirst >= this.rewrites.length
  }

  /** Finds the bounds of the columns that may need a rewrite; false when the line has too few fields. */
  private bounds(buf: Buffer, start: number, end: number): boolean {
    let at = start
    for (let i = 0; i <= this.frontLast; i++) {
      let stop = at
      while (stop < end && buf[stop] !== TAB) stop++
      this.starts[i] = at
      this.stops[i] = stop
      at = stop + 1
    }
    let stop = end
    for (let i = this.rewrites.length - 1; i >= this.backFirst; i--) {
      let from = stop
      while (from > start && buf[from - 1] !== TAB) from--
      this.starts[i] = from
      this.stops[i] = stop
      stop = from - 1
    }
    return at <= end + 1 && stop >= start - 1
  }

  /**
   * Rewrites one line in place where the length stays; returns a replacement line (newline excluded) when a
   * numeric NaN or infinity changes it.
   */
  private line(buf: Buffer, start: number, end: number): Buffer | undefined {
    if (!this.bounds(buf, start, end)) throw new Error('COPY row has fewer fields than the table has columns')
    let replaced: Buffer[] | undefined
    let copied = start
    for (let i = 0; i < this.rewrites.length; i++) {
      const kind = this.rewrites[i]
      if (kind === 'none') continue
      const at = this.starts[i]!
      const stop = this.stops[i]!
      if (kind === 'bool' && stop - at === 1) {
        if (buf[at] === 0x74) buf[at] = 0x31
        else if (buf[at] === 0x66) buf[at] = 0x30
      } else if (kind === 'decimal') {
        const first = buf[at]
        // Digits and `\N` pass; N(aN), I(nfinity) and -I(nfinity) do not fit a Decimal.
        if (first === 0x4e || first === 0x49 || (first === 0x2d && buf[at + 1] === 0x49)) {
          replaced ??= []
          replaced.push(buf.subarray(copied, at), this.nullable[i] ? NULL_FIELD : ZERO_FIELD)
          copied = stop
        }
      }
    }
    if (replaced === undefined) return undefined
    replaced.push(buf.subarray(copied, end))
    return Buffer.concat(replaced)
  }

  /** Processes the complete lines of buf[start, …) and pushes them; returns where the unfinished line starts. */
  private lines(buf: Buffer, start: number): number {
    let emitFrom = start
    let lineStart = start
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, lineStart)) {
      this.rows++
      if (!this.passThrough) {
        const replacement = this.line(buf, lineStart, nl)
        if (replacement !== undefined) {
          this.queue(buf, emitFrom, lineStart)
          this.out.raw(replacement)
          this.out.u8(NL)
          emitFrom = nl + 1
        }
      }
      lineStart = nl + 1
    }
    this.queue(buf, emitFrom, lineStart)
    return lineStart
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      let start = 0
      if (this.rest !== undefined) {
        // Only the unfinished line is joined with the new chunk, never the whole chunk.
        const nl = chunk.indexOf(NL)
        if (nl < 0) {
          this.rest = Buffer.concat([this.rest, chunk])
          done()
          return
        }
        const joined = Buffer.concat([this.rest, chunk.subarray(0, nl + 1)])
        this.rest = undefined
        this.lines(joined, 0)
        start = nl + 1
      }
      const tail = this.lines(chunk, start)
      if (tail < chunk.length) this.rest = chunk.subarray(tail)
      done()
    } catch (e) {
      done(e as Error)
    }
  }

  override _flush(done: TransformCallback): void {
    // COPY ends every row with a newline; a tail without one is still a row.
    if (this.rest !== undefined) this.lines(Buffer.concat([this.rest, Buffer.from([NL])]), 0)
    if (this.out.length > 0) this.push(this.out.take())
    done()
  }
}
