/**
 * Session-level statements (SET, SHOW, BEGIN, COMMIT, ...) are answered by the gateway itself: pgmirror
 * statements are not transactional, but drivers and tools send these and expect Postgres' answers.
 */
import { PgMirrorError } from '../errors.ts'

export type SessionCommand =
  | { readonly kind: 'begin' }
  | { readonly kind: 'commit' }
  | { readonly kind: 'rollback' }
  | { readonly kind: 'set'; readonly name: string; readonly value: string }
  | { readonly kind: 'reset'; readonly name: string | undefined }
  | { readonly kind: 'show'; readonly name: string }
  | { readonly kind: 'noop'; readonly tag: string }

const strip = (s: string) =>
  s
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .trim()
    .replace(/;+\s*$/, '')
    .trim()

const unquote = (v: string): string => {
  const t = v.trim()
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1).replace(/''/g, "'")
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1)
  return t
}

/** Recognises a session statement; undefined when the statement is something else. Pure. */
export function parseSessionCommand(sql: string): SessionCommand | undefined {
  const s = strip(sql)
  const lower = s.toLowerCase()
  if (/^(begin|start\s+transaction)\b/.test(lower)) return { kind: 'begin' }
  if (/^(commit|end)\b/.test(lower) && !/^end\s*\(/.test(lower)) return { kind: 'commit' }
  if (/^(rollback|abort)\b/.test(lower) && !/^rollback\s+to\b/.test(lower)) return { kind: 'rollback' }
  if (/^(savepoint|release)\b/.test(lower))
    return { kind: 'noop', tag: lower.startsWith('savepoint') ? 'SAVEPOINT' : 'RELEASE' }
  if (/^rollback\s+to\b/.test(lower)) return { kind: 'noop', tag: 'ROLLBACK' }
  if (/^discard\b/.test(lower))
    return { kind: 'noop', tag: `DISCARD ${s.split(/\s+/)[1]?.toUpperCase() ?? 'ALL'}` }
  if (/^deallocate\b/.test(lower)) return { kind: 'noop', tag: 'DEALLOCATE' }
  if (/^(listen|unlisten)\b/.test(lower))
    return { kind: 'noop', tag: lower.startsWith('listen') ? 'LISTEN' : 'UNLISTEN' }
  const reset = /^reset\s+(all|[a-z_][a-z0-9_.]*)$/i.exec(s)
  if (reset)
    return { kind: 'reset', name: reset[1]!.toLowerCase() === 'all' ? undefined : reset[1]!.toLowerCase() }
  if (/^set\s+(session\s+characteristics|transaction)\b/i.test(s)) return { kind: 'noop', tag: 'SET' }
  const tz = /^set\s+(?:session\s+|local\s+)?time\s+zone\s+(.+)$/i.exec(s)
  if (tz) return { kind: 'set', name: 'timezone', value: unquote(tz[1]!) }
  const set = /^set\s+(?:session\s+|local\s+)?([a-z_][a-z0-9_.]*)\s*(?:=|\bto\b)\s*([\s\S]+)$/i.exec(s)
  if (set) {
    const value = set[2]!
      .split(',')
      .map((v) => unquote(v))
      .join(', ')
    return { kind: 'set', name: set[1]!.toLowerCase(), value }
  }
  if (/^set\b/i.test(s))
    throw new PgMirrorError('syntax_error', `syntax error in SET statement`, { position: 1 })
  const show = /^show\s+(all|transaction\s+isolation\s+level|time\s+zone|[a-z_][a-z0-9_.]*)$/i.exec(s)
  if (show) {
    const name = show[1]!.toLowerCase().replace(/\s+/g, ' ')
    const canonical =
      name === 'transaction isolation level'
        ? 'transaction_isolation'
        : name === 'time zone'
          ? 'timezone'
          : name
    return { kind: 'show', name: canonical }
  }
  return undefined
}

/** Parameters a client may read with SHOW; SET changes the session's copy. */
export const defaultSettings: Readonly<Record<string, string>> = {
  server_version: '15.0',
  server_version_num: '150000',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  datestyle: 'ISO, MDY',
  intervalstyle: 'postgres',
  timezone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  transaction_isolation: 'read committed',
  transaction_read_only: 'off',
  default_transaction_isolation: 'read committed',
  application_name: '',
  search_path: '"$user", public',
  extra_float_digits: '1',
  statement_timeout: '0',
  lock_timeout: '0',
  max_identifier_length: '63',
}
