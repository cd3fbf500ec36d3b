/**
 * What every request value (body, query string, path) must be before a route's schema sees it. JSON may nest
 * deeper than the recursive walks after this one can follow (100,000 `[` overflowed the stack: a 500), and JSON
 * text may hold characters no Postgres text can (`\u0000`, a lone surrogate `\ud800`), which the catalog refused
 * with an error of its own (a 500 again). Both are the client's fault and get a 400 here, naming the field.
 */
import { PgMirrorError } from '../errors.ts'

/** Far deeper than any request needs (a column setting sits at depth 5), far shallower than the stack. */
export const MAX_DEPTH = 32

/** A NUL, or a UTF-16 surrogate not part of a pair (with the u flag, a well-formed pair is one code point). */
const UNSTORABLE = /[\0\p{Cs}]/u

const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key

function badText(path: string, where: string): PgMirrorError {
  const what = path === '' ? where : `field "${path}"`
  return new PgMirrorError(
    'character_not_in_repertoire',
    `${what} contains a NUL character or an unpaired surrogate`,
    {
      ...(path === '' ? {} : { field: path }),
      hint: 'text values must be valid Unicode without \\u0000',
    },
  )
}

/** Throws 22021 for text Postgres cannot store and 22023 for nesting deeper than MAX_DEPTH. Iterative: no stack. */
export function checkRequestValue(value: unknown, where: string): void {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: v, path, depth } = next
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) throw badText(path, where)
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (depth >= MAX_DEPTH) {
      throw new PgMirrorError(
        'invalid_parameter_value',
        `${where} is nested more than ${MAX_DEPTH} levels deep`,
      )
    }
    const entries: [string | number, unknown][] = Array.isArray(v) ? [...v.entries()] : Object.entries(v)
    for (const [key, child] of entries) {
      if (typeof key === 'string' && UNSTORABLE.test(key)) throw badText(path, where)
      pending.push({ value: child, path: at(path, key), depth: depth + 1 })
    }
  }
}
