import type { TableName } from '../../model/record.ts'

/** Double-quotes an identifier the way `quote_ident` does, so any name (mixed case, spaces, quotes) round-trips. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** `"schema"."table"` */
export const quoteTable = (t: TableName): string => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`

/**
 * A single-quoted literal for the few places that take no bind parameters (replication commands, SET TRANSACTION
 * SNAPSHOT). Servers run with standard_conforming_strings on, so doubling quotes is the whole escape; a backslash
 * would need E'' syntax, and none of our literals may contain one.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\\') || value.includes('\0'))
    throw new Error(`literal may not contain a backslash or NUL: ${value}`)
  return `'${value.replaceAll("'", "''")}'`
}
