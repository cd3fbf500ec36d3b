/**
 * Postgres date/time text (DateStyle ISO, the server default) → ISO-8601, exactly: calendar arithmetic on integers,
 * the fraction carried as its digits, never a JS Date (which would drop microseconds and cannot hold year 0 or
 * years past 275760). Text in another DateStyle, and `infinity`/`-infinity`, is returned unchanged.
 *
 * - timestamptz `2024-01-02 03:04:05.5+05:30` → `2024-01-01T21:34:05.500000Z` (UTC, always six fraction digits)
 * - timestamp   `2024-01-02 03:04:05`          → `2024-01-02T03:04:05.000000` (no zone: it has none)
 * - date        `2024-01-02`                   → `2024-01-02`
 * BC years become astronomical years (1 BC = 0000, 2 BC = -0001); years outside 0000–9999 use the expanded
 * six-digit form with a sign (`+010000`, `-000043`), as JavaScript's toISOString does.
 */

const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?$/
const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/
/** The shape nearly every value has (a four-digit AD year, no zone or UTC): rewritten by slicing alone. */
const COMMON = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.(\d{1,6}))?(\+00)?$/

const sixDigits = (frac: string | undefined): string =>
  frac === undefined ? '.000000' : frac.length === 6 ? `.${frac}` : `.${frac.padEnd(6, '0')}`

const SECONDS_PER_DAY = 86_400

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n))

function isoYear(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0')
  return `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`
}

const astronomical = (digits: string, bc: boolean): number => (bc ? 1 - Number(digits) : Number(digits))

/** timestamp or timestamptz text → ISO-8601 (UTC with `Z` when the text carries an offset). */
export function isoTimestamp(text: string): string {
  const c = COMMON.exec(text)
  if (c !== null)
    return `${text.slice(0, 10)}T${text.slice(11, 19)}${sixDigits(c[1])}${c[2] === undefined ? '' : 'Z'}`
  const m = TIMESTAMP.exec(text)
  if (m === null) return text
  const y = m[1] as string
  const fraction = sixDigits(m[7])
  const sign = m[8]
  const bc = m[12] !== undefined
  if (sign === undefined)
    return `${isoYear(astronomical(y, bc))}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}`
  const offset =
    (sign === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0))
  const local =
    daysFromCivil(astronomical(y, bc), Number(m[2]), Number(m[3])) * SECONDS_PER_DAY +
    Number(m[4]) * 3600 +
    Number(m[5]) * 60 +
    Number(m[6])
  const utc = local - offset
  const days = Math.floor(utc / SECONDS_PER_DAY)
  let rest = utc - days * SECONDS_PER_DAY
  const hour = Math.floor(rest / 3600)
  rest -= hour * 3600
  const minute = Math.floor(rest / 60)
  const second = rest - minute * 60
  const date = civilFromDays(days)
  return `${isoYear(date.year)}-${two(date.month)}-${two(date.day)}T${two(hour)}:${two(minute)}:${two(second)}${fraction}Z`
}

/** date text → ISO-8601 calendar date. */
export function isoDate(text: string): string {
  const m = DATE.exec(text)
  if (m === null) return text
  return `${isoYear(astronomical(m[1] as string, m[4] !== undefined))}-${m[2]}-${m[3]}`
}
