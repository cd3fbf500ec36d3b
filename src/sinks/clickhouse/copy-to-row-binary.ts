/**
 * Converts `COPY … TO STDOUT (FORMAT text)` output into RowBinary for a snapshot insert, as a stream: lines are cut
 * on raw bytes (a UTF-8 character split across chunks is never mangled), converted, and pushed in chunks of about
 * a megabyte, so a partition of any size passes through in bounded memory.
 */
import { Transform, type TransformCallback } from 'node:stream'
import type { Value } from '../../model/record.ts'
import { copyFieldWriter, type CopyFieldWriter } from './copy-field.ts'
import { RowWriter } from './row-binary.ts'
import type { ChTarget } from './target.ts'

const CHUNK_BYTES = 1 << 20
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/**
 * Undoes COPY text escaping for one field (`\N` is the caller's). COPY TO only writes the six control escapes and
 * a backslash before itself; octal and hex escapes are input-only.
 */
export function unescapeCopyField(field: string): string {
  if (!field.includes('\\')) return field
  let out = ''
  for (let i = 0; i < field.length; i++) {
    const ch = field[i] as string
    if (ch !== '\\' || i === field.length - 1) {
      out += ch
      continue
    }
    const next = field[++i] as string
    out += ESCAPES[next] ?? next
  }
  return out
}

/** One line of COPY text output (no newline) as values; `\N` is NULL. */
export function parseCopyLine(line: string): Value[] {
  return line.split('\t').map((f) => (f === '\\N' ? null : unescapeCopyField(f)))
}

export class CopyToRowBinary extends Transform {
  rows = 0
  private rest: Buffer | undefined
  private readonly w = new RowWriter(CHUNK_BYTES + (CHUNK_BYTES >> 2))
  private readonly fields: readonly CopyFieldWriter[]
  private readonly nulls: string[] = []

  constructor(private readonly target: ChTarget) {
    super()
    this.fields = target.columns.map(copyFieldWriter)
  }

  /** Converts the row in buf[start, end) (no newline). */
  private line(buf: Buffer, start: number, end: number): void {
    const { w, target, fields, nulls } = this
    const last = fields.length - 1
    let at = start
    for (let i = 0; i <= last; i++) {
      let stop: number
      // `\N` alone is NULL; the writers only ever see values.
      if (buf[at] === 0x5c && buf[at + 1] === 0x4e && (at + 2 === end || buf[at + 2] === 9)) {
        const c = target.columns[i]!
        c.codec.write(w, null)
        if (c.type.array) nulls.push(c.name)
        stop = at + 2
      } else stop = fields[i]!(w, buf, at, end)
      if (stop === end ? i !== last : i === last) {
        const got = buf.toString('utf8', start, end).split('\t').length
        throw new Error(`COPY row has ${got} fields, table "${target.display}" has ${fields.length} columns`)
      }
      at = stop + 1
    }
    if (target.nullArrays !== undefined) {
      w.varint(nulls.length)
      for (const name of nulls) w.utf8(name)
      nulls.length = 0
    }
    this.rows++
    if (w.length >= CHUNK_BYTES) this.push(w.take())
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      let start = 0
      if (this.rest !== undefined) {
        // Only the partial line is joined with the new chunk, never the whole chunk.
        const nl = chunk.indexOf(10)
        if (nl < 0) {
          this.rest = Buffer.concat([this.rest, chunk])
          done()
          return
        }
        const joined = Buffer.concat([this.rest, chunk.subarray(0, nl)])
        this.rest = undefined
        this.line(joined, 0, joined.length)
        start = nl + 1
      }
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        this.line(chunk, start, nl)
        start = nl + 1
      }
      if (start < chunk.length) this.rest = chunk.subarray(start)
      done()
    } catch (e) {
      done(e as Error)
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.rest !== undefined) this.line(this.rest, 0, this.rest.length)
      if (this.w.length > 0) this.push(this.w.take())
      done()
    } catch (e) {
      done(e as Error)
    }
  }
}
