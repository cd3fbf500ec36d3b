/**
 * Reading `COPY … TO STDOUT (FORMAT text)` output as rows of Postgres text values. Written here rather than shared
 * with the source because sinks may not import sources (ARCHITECTURE.md, Layout).
 *
 * The format: one row per newline-terminated line, fields separated by tabs, `\N` alone is NULL, and a backslash
 * escapes the next character (`\b \f \n \r \t \v` are control characters; octal `\NNN` and hex `\xHH` are accepted
 * too, although COPY TO never writes them). Raw tabs and newlines never occur inside a value.
 */
import type { Readable } from 'node:stream'
import type { Value } from '../../model/record.ts'

const CONTROL: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }
const OCTAL = /^[0-7]{1,3}/
const HEX = /^x[0-9a-fA-F]{1,2}/

function unescapeField(field: string): string {
  let out = ''
  let from = 0
  for (let i = field.indexOf('\\'); i !== -1 && i < field.length - 1; i = field.indexOf('\\', from)) {
    out += field.slice(from, i)
    const next = field[i + 1] as string
    const rest = field.slice(i + 1, i + 4)
    let octal: RegExpExecArray | null
    let hex: RegExpExecArray | null
    if (CONTROL[next] !== undefined) {
      out += CONTROL[next]
      from = i + 2
    } else if ((octal = OCTAL.exec(rest)) !== null) {
      out += String.fromCharCode(parseInt(octal[0], 8))
      from = i + 1 + octal[0].length
    } else if ((hex = HEX.exec(rest)) !== null) {
      out += String.fromCharCode(parseInt(hex[0].slice(1), 16))
      from = i + 1 + hex[0].length
    } else {
      out += next
      from = i + 2
    }
  }
  return out + field.slice(from)
}

/** One line (without its newline) as values. */
export function parseCopyLine(line: string): Value[] {
  const fields = line.split('\t')
  const out: Value[] = new Array<Value>(fields.length)
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as string
    out[i] = f === '\\N' ? null : f.includes('\\') ? unescapeField(f) : f
  }
  return out
}

/**
 * The rows of a COPY text stream, yielded in groups (one group per network chunk) so the caller's per-row work
 * is not interleaved with an await per row. Lines are cut on raw bytes before decoding, so a multi-byte character
 * split across chunks stays whole. A trailing line without its newline is still a row.
 */
export async function* copyTextRows(stream: Readable): AsyncGenerator<Value[][]> {
  let carry: Buffer | undefined
  for await (const data of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk])
    const rows: Value[][] = []
    let start = 0
    let nl = buf.indexOf(10)
    while (nl !== -1) {
      rows.push(parseCopyLine(buf.toString('utf8', start, nl)))
      start = nl + 1
      nl = buf.indexOf(10, start)
    }
    carry = start < buf.length ? buf.subarray(start) : undefined
    if (rows.length > 0) yield rows
  }
  if (carry !== undefined) yield [parseCopyLine(carry.toString('utf8'))]
}
