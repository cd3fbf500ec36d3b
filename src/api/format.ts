/**
 * Response value formats, as protobuf JSON writes them: RFC 3339 timestamps, 64-bit integers as decimal strings,
 * enums by name.
 */
import { parseLsn } from '../model/lsn.ts'
import { FLOW_STATUS, type FlowStatusName } from './schemas.ts'

/** Postgres' text form of a timestamptz (`2024-05-01 12:00:00.123456+00`) → RFC 3339 (`2024-05-01T12:00:00.123456+00:00`). */
export function rfc3339(pgText: string): string {
  return pgText.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')
}

export const rfc3339OrNull = (pgText: string | null): string | null =>
  pgText === null ? null : rfc3339(pgText)

export const epochMs = (pgText: string): number => Date.parse(rfc3339(pgText))

/** An LSN (`16/B374D848`) as PeerDB sends it: the 64-bit position as a decimal string. */
export const lsnDecimal = (text: string): string => parseLsn(text).toString()

export const flowStatus = (status: string): FlowStatusName =>
  status in FLOW_STATUS ? (status as FlowStatusName) : 'STATUS_UNKNOWN'

/** A name part as SQL would need it written: double-quoted unless it reads the same folded to lower case. */
export const sqlNamePart = (part: string): string =>
  /^[a-z_][a-z0-9_$]*$/.test(part) ? part : `"${part.replace(/"/g, '""')}"`
