/**
 * Quoting for SQL we write: rendering our own statements, and any SQL other layers build from names.
 * The one place that decides when an identifier needs double quotes.
 */

/**
 * Postgres' fully reserved key words (and the ones reserved except as function or type names); these
 * cannot be used as bare column or table names. Source: the "Key Words" appendix of the Postgres manual.
 */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate ' +
    'collation column concurrently constraint create cross current_catalog current_date current_role ' +
    'current_schema current_time current_timestamp current_user default deferrable desc distinct do else end ' +
    'except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into ' +
    'is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on ' +
    'only or order outer overlaps placing primary references returning right select session_user similar some ' +
    'symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when ' +
    'where window with'
  ).split(' '),
)

const PLAIN_IDENT = /^[a-z_][a-z0-9_$]*$/

/**
 * Double-quotes `name` unless it reads back unchanged as a bare identifier. Reserved words are quoted too, unless
 * `reservedOk` says the name sits where our grammar takes any word (option keys: `user = 'x'`).
 * (An options object, not a boolean, so `names.map(quoteIdent)` cannot pass the index as a flag.)
 */
export function quoteIdent(name: string, opts: { readonly reservedOk?: boolean } = {}): string {
  if (PLAIN_IDENT.test(name) && (opts.reservedOk === true || !RESERVED.has(name))) return name
  return `"${name.replace(/"/g, '""')}"`
}

/** Dotted name, each part quoted as needed: `public."My Table"`. */
export const quoteQualified = (parts: readonly string[]): string => parts.map((p) => quoteIdent(p)).join('.')

/**
 * A standard string literal. Backslashes need no escaping: we always write for standard_conforming_strings = on,
 * the only setting Postgres has defaulted to since 9.1.
 */
export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`
