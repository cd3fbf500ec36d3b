/**
 * Postgres date and timestamp text (DateStyle ISO) to the numbers Date32 and DateTime64(6, 'UTC') store: days and
 * microseconds since 1970-01-01 UTC. Calendar arithmetic is done on integers (no JS Date), and values outside
 * ClickHouse's range (1900-01-01 … 2299-12-31, which includes ±infinity and BC dates) are clamped to its ends,
 * as PeerDB does. Only modern servers use these types; older ones keep the Postgres text (type-map.ts).
 */
import { PgMirrorError } from '../../errors.ts'

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering: 1 BC is year 0). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

export const MIN_DAY = daysFromCivil(1900, 1, 1)
export const MAX_DAY = daysFromCivil(2299, 12, 31)
const MICROS_PER_DAY = 86_400_000_000n
export const MIN_MICROS = BigInt(MIN_DAY) * MICROS_PER_DAY
export const MAX_MICROS = (BigInt(MAX_DAY) + 1n) * MICROS_PER_DAY - 1n

const DATE = /^(\d{4,})-(\d\d)-(\d\d)/
const TIME = /^ (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?/

const malformed = (what: string, text: string): PgMirrorError =>
  new PgMirrorError('internal_error', `cannot read ${what} value "${text}"`, {
    hint: 'the source database must use DateStyle ISO',
  })

/** [days, rest of the text] of a value starting with an ISO date; BC is read from the end of the whole text. */
function readDate(text: string, what: string): [number, string] {
  const m = DATE.exec(text)
  if (!m) throw malformed(what, text)
  const bc = text.endsWith(' BC')
  const year = Number(m[1])
  return [daysFromCivil(bc ? 1 - year : year, Number(m[2]), Number(m[3])), text.slice(m[0].length)]
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v)

/** A `date` value as Date32 days, clamped. */
export function dateDays(text: string): number {
  if (text === 'infinity') return MAX_DAY
  if (text === '-infinity') return MIN_DAY
  return clamp(readDate(text, 'date')[0], MIN_DAY, MAX_DAY)
}

/** A `timestamp` / `timestamptz` value as DateTime64(6) microseconds since the epoch in UTC, clamped. */
export function timestampMicros(text: string): bigint {
  if (text === 'infinity') return MAX_MICROS
  if (text === '-infinity') return MIN_MICROS
  const [days, rest] = readDate(text, 'timestamp')
  const t = TIME.exec(rest)
  if (!t) throw malformed('timestamp', text)
  let seconds = Number(t[1]) * 3600 + Number(t[2]) * 60 + Number(t[3])
  if (t[5] !== undefined) {
    const offset = Number(t[6]) * 3600 + Number(t[7] ?? 0) * 60 + Number(t[8] ?? 0)
    seconds -= t[5] === '-' ? -offset : offset
  }
  const fraction = BigInt((t[4] ?? '').padEnd(6, '0'))
  const micros = (BigInt(days) * 86_400n + BigInt(seconds)) * 1_000_000n + fraction
  return micros < MIN_MICROS ? MIN_MICROS : micros > MAX_MICROS ? MAX_MICROS : micros
}
