/**
 * Which DDL a ClickHouse server gets, decided from `SELECT version()` at connect.
 * - legacy (18.16 up to 23.1): no DateTime64, Bool, Date32 or is_deleted engine argument, so temporal values are
 *   kept as the exact Postgres text in String columns and booleans as UInt8;
 * - modern (23.2 and later, when `ReplacingMergeTree(ver, is_deleted)` appeared): DateTime64(6), Date32, Bool and
 *   the engine's own delete flag.
 * Anything older than 18.16 (the oldest server this sink was tested against) is refused.
 */
import { PgMirrorError } from '../../errors.ts'

export type Dialect = 'legacy' | 'modern'

export interface ServerVersion {
  readonly major: number
  readonly minor: number
  readonly text: string
}

export const MINIMUM_VERSION = { major: 18, minor: 16 } as const
export const MODERN_FROM = { major: 23, minor: 2 } as const

export function parseServerVersion(text: string): ServerVersion {
  const m = /^\s*(\d+)\.(\d+)/.exec(text)
  if (!m) throw new PgMirrorError('internal_error', `unrecognised clickhouse version "${text}"`)
  return { major: Number(m[1]), minor: Number(m[2]), text: text.trim() }
}

const atLeast = (v: ServerVersion, w: { major: number; minor: number }): boolean =>
  v.major > w.major || (v.major === w.major && v.minor >= w.minor)

export function dialectFor(v: ServerVersion): Dialect {
  if (!atLeast(v, MINIMUM_VERSION))
    throw new PgMirrorError('feature_not_supported', `clickhouse ${v.text} is too old for a mirror target`, {
      hint: `pgmirror needs clickhouse ${MINIMUM_VERSION.major}.${MINIMUM_VERSION.minor} or later`,
    })
  return atLeast(v, MODERN_FROM) ? 'modern' : 'legacy'
}
