/**
 * The one place the Postgres sink turns names into SQL. Every identifier it writes goes through quoteIdent, always
 * double-quoted (so case, spaces, quotes, reserved words and non-ASCII all round-trip); every value goes through a
 * bind parameter or COPY data, never through SQL text. Type names are the one thing spliced in as written: they are
 * `format_type` output from the source, checked by the target's own type-name parser first (see typeSql).
 */
import type { TableName } from '../../model/record.ts'

/** `"name"`, with embedded double quotes doubled, exactly as Postgres' quote_ident would force-quote it. */
export function quoteIdent(name: string): string {
  // A NUL cannot be part of any Postgres name; refusing it here keeps a truncated identifier out of the SQL.
  if (name.includes('\0')) throw new Error('identifier may not contain a NUL character')
  return `"${name.replaceAll('"', '""')}"`
}

/** `"schema"."table"` */
export const quoteQualified = (t: TableName): string => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`

/** A comma-separated, quoted column list. */
export const quoteList = (names: readonly string[]): string => names.map(quoteIdent).join(', ')

/**
 * A mapping destination (`schema.table`, or `table` meaning schema `public`) as a table name. Name parts arrive
 * already normalised and joined with `.`, so the first dot separates the schema; a schema name containing a dot
 * cannot be told apart and is not supported.
 */
export function parseDestination(destination: string): TableName {
  const dot = destination.indexOf('.')
  if (dot < 0) return { schema: 'public', table: destination }
  return { schema: destination.slice(0, dot), table: destination.slice(dot + 1) }
}

/**
 * A source type name (`numeric(20,5)`, `timestamp with time zone`, `"My Type"[]`) for use in DDL and casts.
 * Callers must have checked it with the target's `to_regtype` first (tables.ts does so before any DDL), which
 * accepts a single type name and nothing else; this guard only keeps statement separators and comments out.
 */
export function typeSql(typeName: string): string {
  const unquoted = typeName.replace(/"(?:[^"]|"")*"/g, '""')
  if (/[;']|--|\/\*/.test(unquoted) || typeName.includes('\0'))
    throw new Error(`refusing suspicious type name: ${typeName}`)
  return typeName
}
