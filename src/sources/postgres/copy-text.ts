import type { Readable } from 'node:stream'
import type { Row, Value } from '../../model/record.ts'
import { setColumn } from './row.ts'

const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/**
 * Undoes COPY text escaping for one field (`\N` is handled by the caller). COPY TO only ever writes the six
 * control escapes plus a backslash before itself or the delimiter; octal and hex escapes are input-only.
 */
function unescapeField(field: string): string {
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

/**
 * Splits one line of `COPY … TO STDOUT (FORMAT text)` output (without its newline) into values; `\N` is NULL.
 * Tabs and newlines inside values are always escaped by the server, so a raw tab is always a separator.
 */
export function parseCopyTextLine(line: string): Value[] {
  return line.split('\t').map((f) => (f === '\\N' ? null : unescapeField(f)))
}

/**
 * Reads COPY text output and yields rows in chunks of at most `chunkRows`, named by `columns` (the column list of
 * the COPY, in order). Lines are cut on raw bytes before UTF-8 decoding, so a character split across network
 * chunks is never mangled.
 */
export async function* copyTextRows(
  stream: Readable,
  columns: readonly string[],
  chunkRows: number,
): AsyncGenerator<Row[]> {
  let rest: Buffer = Buffer.alloc(0)
  let batch: Row[] = []
  const toRow = (line: string): Row => {
    const values = parseCopyTextLine(line)
    const row: Record<string, Value> = {}
    columns.forEach((c, i) => setColumn(row, c, values[i] ?? null))
    return row
  }
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let start = 0
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      batch.push(toRow(buf.toString('utf8', start, nl)))
      start = nl + 1
      if (batch.length >= chunkRows) {
        yield batch
        batch = []
      }
    }
    rest = buf.subarray(start)
  }
  if (rest.length > 0) batch.push(toRow(rest.toString('utf8')))
  if (batch.length > 0) yield batch
}
