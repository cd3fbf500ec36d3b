/**
 * Reads Postgres array output (`{1,NULL,"a \"b\""}`) into its elements. ClickHouse columns have a fixed number of
 * dimensions and Postgres type names do not tell it, so every array maps to Array(T) and nested arrays are read
 * flat, in storage order; a non-default lower bound (`[0:1]={…}`) is dropped the same way. Both are documented
 * losses. Elements stay Postgres text; NULL is null.
 */
import { PgMirrorError } from '../../errors.ts'

const bad = (text: string, why: string): PgMirrorError =>
  new PgMirrorError('internal_error', `malformed array value: ${why}`, { detail: text.slice(0, 200) })

export function parsePgArray(text: string): (string | null)[] {
  let i = 0
  if (text.startsWith('[')) {
    // Dimension decoration: `[lo:hi][lo:hi]=`.
    i = text.indexOf('=')
    if (i < 0) throw bad(text, 'dimension decoration without "="')
    i++
  }
  if (text[i] !== '{') throw bad(text, 'no opening brace')
  const out: (string | null)[] = []
  let depth = 0
  while (i < text.length) {
    const ch = text[i]
    if (ch === '{') {
      depth++
      i++
    } else if (ch === '}') {
      depth--
      i++
      if (depth === 0) break
    } else if (ch === ',') {
      i++
    } else if (ch === '"') {
      let value = ''
      i++
      for (;;) {
        const c = text[i]
        if (c === undefined) throw bad(text, 'unterminated quoted element')
        if (c === '"') break
        if (c === '\\') {
          i++
          value += text[i] ?? ''
        } else value += c
        i++
      }
      i++
      out.push(value)
    } else {
      let end = i
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++
      const raw = text.slice(i, end)
      // array_out quotes any element spelled NULL, so a bare NULL is always SQL NULL.
      out.push(raw.toUpperCase() === 'NULL' ? null : raw)
      i = end
    }
  }
  if (depth !== 0) throw bad(text, 'unbalanced braces')
  return out
}
