import { PgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'
import { ByteReader } from './byte-reader.ts'

/**
 * Decoder for the pgoutput logical replication protocol, version 1, one message at a time. Pure: values stay
 * in the server's text output form, and relation lookups are the caller's job.
 * @see https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */

/** A TOASTed value the update did not touch; the server leaves it out of the message. */
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged-toast')

/** One column of a tuple: the text output, SQL NULL, or the unchanged-TOAST marker. */
export type Datum = string | null | typeof UNCHANGED_TOAST
export type Tuple = readonly Datum[]

export interface RelationColumn {
  /** Part of the replica identity (flag bit 1). */
  readonly isKey: boolean
  readonly name: string
  readonly typeOid: number
  readonly typeMod: number
}

export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i'

/** Microseconds since 2000-01-01 00:00 UTC, the server's own timestamp form. */
export type PgMicros = bigint

export type PgoutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: Lsn; readonly commitTime: PgMicros; readonly xid: number }
  | {
      readonly tag: 'commit'
      readonly commitLsn: Lsn
      /** End of the commit record: confirming it means "this transaction is done". */
      readonly endLsn: Lsn
      readonly commitTime: PgMicros
    }
  | {
      readonly tag: 'relation'
      readonly relationOid: number
      /** `''` means pg_catalog, per the protocol. */
      readonly schema: string
      readonly name: string
      readonly replicaIdentity: ReplicaIdentity
      readonly columns: readonly RelationColumn[]
    }
  | { readonly tag: 'insert'; readonly relationOid: number; readonly newTuple: Tuple }
  | {
      readonly tag: 'update'
      readonly relationOid: number
      /** 'key': old key (the key changed); 'old': whole old row (REPLICA IDENTITY FULL); absent otherwise. */
      readonly oldKind: 'key' | 'old' | undefined
      readonly oldTuple: Tuple | undefined
      readonly newTuple: Tuple
    }
  | {
      readonly tag: 'delete'
      readonly relationOid: number
      readonly oldKind: 'key' | 'old'
      readonly oldTuple: Tuple
    }
  | {
      readonly tag: 'truncate'
      readonly relationOids: readonly number[]
      readonly cascade: boolean
      readonly restartIdentity: boolean
    }
  | { readonly tag: 'origin'; readonly originLsn: Lsn; readonly name: string }
  | { readonly tag: 'type'; readonly typeOid: number; readonly schema: string; readonly name: string }
  | {
      readonly tag: 'message'
      readonly transactional: boolean
      readonly lsn: Lsn
      readonly prefix: string
      readonly content: Buffer
    }

const IDENTITIES: Readonly<Record<number, ReplicaIdentity>> = { 0x64: 'd', 0x6e: 'n', 0x66: 'f', 0x69: 'i' }

function readTuple(r: ByteReader): Datum[] {
  const n = r.i16()
  const out = new Array<Datum>(n)
  for (let i = 0; i < n; i++) {
    const kind = r.u8()
    switch (kind) {
      case 0x74: // 't'
        out[i] = r.utf8(r.i32())
        break
      case 0x6e: // 'n'
        out[i] = null
        break
      case 0x75: // 'u'
        out[i] = UNCHANGED_TOAST
        break
      default:
        // 'b' (binary) only appears with the `binary` option, which we never request.
        throw new PgMirrorError('protocol_violation', `unexpected tuple column kind 0x${kind.toString(16)}`)
    }
  }
  return out
}

function expect(r: ByteReader, byte: number, what: string): void {
  const got = r.u8()
  if (got !== byte) {
    throw new PgMirrorError(
      'protocol_violation',
      `expected ${String.fromCharCode(byte)} in ${what}, got 0x${got.toString(16)}`,
    )
  }
}

export function decodePgoutput(buf: Buffer): PgoutputMessage {
  const r = new ByteReader(buf)
  const tag = r.u8()
  switch (tag) {
    case 0x42: // 'B'
      return { tag: 'begin', finalLsn: r.lsn(), commitTime: r.i64(), xid: r.u32() }
    case 0x43: {
      // 'C'
      r.u8() // flags: unused
      return { tag: 'commit', commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.i64() }
    }
    case 0x52: {
      // 'R'
      const relationOid = r.u32()
      const schema = r.cstring()
      const name = r.cstring()
      const identByte = r.u8()
      const replicaIdentity = IDENTITIES[identByte]
      if (!replicaIdentity) {
        throw new PgMirrorError('protocol_violation', `unknown replica identity 0x${identByte.toString(16)}`)
      }
      const n = r.i16()
      const columns: RelationColumn[] = []
      for (let i = 0; i < n; i++) {
        const flags = r.u8()
        columns.push({ isKey: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() })
      }
      return { tag: 'relation', relationOid, schema, name, replicaIdentity, columns }
    }
    case 0x49: {
      // 'I'
      const relationOid = r.u32()
      expect(r, 0x4e, 'insert')
      return { tag: 'insert', relationOid, newTuple: readTuple(r) }
    }
    case 0x55: {
      // 'U'
      const relationOid = r.u32()
      let sub = r.u8()
      let oldKind: 'key' | 'old' | undefined
      let oldTuple: Tuple | undefined
      if (sub === 0x4b || sub === 0x4f) {
        oldKind = sub === 0x4b ? 'key' : 'old'
        oldTuple = readTuple(r)
        sub = r.u8()
      }
      if (sub !== 0x4e) {
        throw new PgMirrorError('protocol_violation', `expected N in update, got 0x${sub.toString(16)}`)
      }
      return { tag: 'update', relationOid, oldKind, oldTuple, newTuple: readTuple(r) }
    }
    case 0x44: {
      // 'D'
      const relationOid = r.u32()
      const sub = r.u8()
      if (sub !== 0x4b && sub !== 0x4f) {
        throw new PgMirrorError('protocol_violation', `expected K or O in delete, got 0x${sub.toString(16)}`)
      }
      return { tag: 'delete', relationOid, oldKind: sub === 0x4b ? 'key' : 'old', oldTuple: readTuple(r) }
    }
    case 0x54: {
      // 'T'
      const n = r.i32()
      const options = r.u8()
      const relationOids: number[] = []
      for (let i = 0; i < n; i++) relationOids.push(r.u32())
      return {
        tag: 'truncate',
        relationOids,
        cascade: (options & 1) !== 0,
        restartIdentity: (options & 2) !== 0,
      }
    }
    case 0x4f: // 'O'
      return { tag: 'origin', originLsn: r.lsn(), name: r.cstring() }
    case 0x59: // 'Y'
      return { tag: 'type', typeOid: r.u32(), schema: r.cstring(), name: r.cstring() }
    case 0x4d: {
      // 'M'
      const flags = r.u8()
      const lsn = r.lsn()
      const prefix = r.cstring()
      const content = Buffer.from(r.bytes(r.i32()))
      return { tag: 'message', transactional: (flags & 1) !== 0, lsn, prefix, content }
    }
    default:
      // Stream (S/E/c/A) and two-phase messages need options we never send.
      throw new PgMirrorError('protocol_violation', `unexpected pgoutput message type 0x${tag.toString(16)}`)
  }
}
