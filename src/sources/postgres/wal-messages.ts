import { PgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'
import { ByteReader } from './byte-reader.ts'

/**
 * The walsender's CopyData payloads during START_REPLICATION, and our reply.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 */
export type WalMessage =
  | {
      readonly kind: 'xlogdata'
      readonly walStart: Lsn
      /** The server's current end of WAL. */
      readonly walEnd: Lsn
      readonly payload: Buffer
    }
  | {
      readonly kind: 'keepalive'
      /** The server's current end of WAL (for a logical slot: how far decoding has read). */
      readonly walEnd: Lsn
      /** The server wants a status update now, or it will time the connection out. */
      readonly replyRequested: boolean
    }

const XLOG_DATA = 0x77 // 'w'
const PRIMARY_KEEPALIVE = 0x6b // 'k'
const STANDBY_STATUS_UPDATE = 0x72 // 'r'

/** The payload of an XLogData message is a view into `buf`: decode it before the next network read. */
export function decodeWalMessage(buf: Buffer): WalMessage {
  const r = new ByteReader(buf)
  const tag = r.u8()
  switch (tag) {
    case XLOG_DATA: {
      const walStart = r.lsn()
      const walEnd = r.lsn()
      r.i64() // send time: not needed
      return { kind: 'xlogdata', walStart, walEnd, payload: buf.subarray(25) }
    }
    case PRIMARY_KEEPALIVE: {
      const walEnd = r.lsn()
      r.i64()
      return { kind: 'keepalive', walEnd, replyRequested: r.u8() === 1 }
    }
    default:
      throw new PgMirrorError(
        'protocol_violation',
        `unexpected replication message type 0x${tag.toString(16)}`,
      )
  }
}

/** Microseconds between the Unix epoch and Postgres' epoch (2000-01-01 UTC). */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n

export interface StandbyStatus {
  /** Last WAL position received. */
  readonly written: Lsn
  /** Position durably handled: the slot's confirmed_flush_lsn moves here. 0 leaves it alone. */
  readonly flushed: Lsn
  readonly applied: Lsn
  /** Now, in microseconds since the Unix epoch. */
  readonly nowMicros: bigint
  readonly replyRequested: boolean
}

/** Standby Status Update payload (34 bytes), positions written exactly as given. */
export function encodeStandbyStatus(s: StandbyStatus): Buffer {
  const out = Buffer.alloc(34)
  out[0] = STANDBY_STATUS_UPDATE
  out.writeBigUInt64BE(s.written, 1)
  out.writeBigUInt64BE(s.flushed, 9)
  out.writeBigUInt64BE(s.applied, 17)
  out.writeBigInt64BE(s.nowMicros - PG_EPOCH_OFFSET_MICROS, 25)
  out[33] = s.replyRequested ? 1 : 0
  return out
}
