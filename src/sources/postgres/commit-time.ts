import type { PgMicros } from './pgoutput.ts'
import { PG_EPOCH_OFFSET_MICROS } from './wal-messages.ts'

const MICROS_PER_SECOND = 1_000_000n

/**
 * Formats a server timestamp (µs since 2000-01-01 UTC) as ISO-8601 UTC with all six fractional digits,
 * e.g. `2024-05-01T12:00:00.123456Z`. Only whole seconds go through Date; the fraction stays exact.
 */
export function formatPgTimestamp(micros: PgMicros): string {
  const unix = micros + PG_EPOCH_OFFSET_MICROS
  let seconds = unix / MICROS_PER_SECOND
  let frac = unix % MICROS_PER_SECOND
  if (frac < 0n) {
    // bigint division truncates toward zero; timestamps before 1970 need floor semantics.
    frac += MICROS_PER_SECOND
    seconds -= 1n
  }
  const whole = new Date(Number(seconds) * 1000).toISOString() // always ends in ".000Z"
  return `${whole.slice(0, -5)}.${frac.toString().padStart(6, '0')}Z`
}
