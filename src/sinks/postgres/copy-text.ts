/**
 * Writing `COPY … FROM STDIN (FORMAT text)` data. Values are already Postgres text, so encoding is escaping only:
 * the field separator (tab), the row end (newline), carriage return (COPY treats a bare CR as a row end too) and
 * the escape character itself. Everything else, including non-ASCII, passes through unchanged.
 */
import { Readable } from 'node:stream'
import type { Value } from '../../model/record.ts'

const NEEDS_ESCAPE = /[\\\t\n\r]/
const ESCAPE_ALL = /[\\\t\n\r]/g
const ESCAPED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** One field: `\N` for NULL, else the value with `\`, tab, newline and CR escaped. */
export function encodeCopyField(value: Value): string {
  if (value === null) return '\\N'
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPE_ALL, (ch) => ESCAPED[ch] as string) : value
}

/** One row, newline-terminated. */
export const encodeCopyRow = (values: readonly Value[]): string =>
  `${values.map(encodeCopyField).join('\t')}\n`

/** Text per chunk pushed to the server: big enough to amortise CopyData framing, small enough to stay streaming. */
const CHUNK_CHARS = 64 * 1024

/**
 * The rows as a stream of COPY text chunks, encoded lazily as the server consumes them, so a large batch is never
 * held twice in memory.
 */
export function copyTextStream(rows: Iterable<readonly Value[]>): Readable {
  function* chunks(): Generator<string> {
    let chunk = ''
    for (const row of rows) {
      chunk += encodeCopyRow(row)
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk.length > 0) yield chunk
  }
  return Readable.from(chunks(), { objectMode: false })
}
