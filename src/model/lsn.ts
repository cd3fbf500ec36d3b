/** A Postgres WAL position. Always a bigint: LSNs are 64-bit and must never pass through a JS number. */
export type Lsn = bigint

/** Parses `16/B374D848` (also the zero-padded `00000016/B374D848` form pg-logical-replication emits). */
export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim())
  if (!m) throw new Error(`invalid LSN "${text}"`)
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`)
}

export function formatLsn(lsn: Lsn): string {
  const hi = (lsn >> 32n) & 0xffffffffn
  const lo = lsn & 0xffffffffn
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`
}

export const maxLsn = (a: Lsn, b: Lsn): Lsn => (a > b ? a : b)
