/**
 * The one place the ClickHouse sink turns names and strings into SQL. ClickHouse 18.16 has no query parameters,
 * so the few values that reach SQL text (mirror and destination names in the bookkeeping tables) are quoted here;
 * row data never is: it travels as RowBinary in request bodies.
 */

const IDENT_ESCAPES = /[\\`]/g
const STRING_ESCAPES = /[\\']/g

/** `` `name` ``, backslash and backquote escaped; every identifier is quoted, so case and keywords round-trip. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier may not contain a NUL character')
  return `\`${name.replace(IDENT_ESCAPES, (c) => `\\${c}`)}\``
}

export const quoteList = (names: readonly string[]): string => names.map(quoteIdent).join(', ')

/** `'text'`, backslash and single quote escaped (ClickHouse string literals treat backslash as an escape). */
export function quoteString(text: string): string {
  return `'${text.replace(STRING_ESCAPES, (c) => `\\${c}`)}'`
}
