import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePgoutput, UNCHANGED_TOAST } from '../../../src/sources/postgres/pgoutput.ts'
import { decodeWalMessage, encodeStandbyStatus } from '../../../src/sources/postgres/wal-messages.ts'
import * as f from './pgoutput-fixtures.ts'

describe('decodePgoutput', () => {
  it('decodes begin and commit with 64-bit LSNs and microsecond times', () => {
    assert.deepEqual(decodePgoutput(f.begin(0x1_0000_0010n, 7n, 0xfffffffe)), {
      tag: 'begin',
      finalLsn: 0x1_0000_0010n,
      commitTime: 7n,
      xid: 0xfffffffe,
    })
    assert.deepEqual(decodePgoutput(f.commit(0x20n, 0x48n, 9n)), {
      tag: 'commit',
      commitLsn: 0x20n,
      endLsn: 0x48n,
      commitTime: 9n,
    })
  })

  it('decodes a relation with key flags, type oids and typmods', () => {
    const msg = decodePgoutput(
      f.relation(16384, 'public', 'Tëst', 'd', [
        { name: 'id', key: true, typeOid: 20 },
        { name: 'amount', typeOid: 1700, typeMod: 1310729 },
      ]),
    )
    assert.deepEqual(msg, {
      tag: 'relation',
      relationOid: 16384,
      schema: 'public',
      name: 'Tëst',
      replicaIdentity: 'd',
      columns: [
        { isKey: true, name: 'id', typeOid: 20, typeMod: -1 },
        { isKey: false, name: 'amount', typeOid: 1700, typeMod: 1310729 },
      ],
    })
  })

  it('keeps text values verbatim, NULL as null and unchanged TOAST as the marker', () => {
    const msg = decodePgoutput(f.update(1, ['1', null, f.U, '12345678901234567890.12345', 'é\t\n']))
    assert.equal(msg.tag, 'update')
    if (msg.tag !== 'update') return
    assert.deepEqual(msg.newTuple, ['1', null, UNCHANGED_TOAST, '12345678901234567890.12345', 'é\t\n'])
    assert.equal(msg.oldKind, undefined)
    assert.equal(msg.oldTuple, undefined)
  })

  it('reads the optional old key (K) and old row (O) of an update', () => {
    const k = decodePgoutput(f.update(1, ['2', 'x'], { kind: 'K', cols: ['1', null] }))
    assert.ok(k.tag === 'update' && k.oldKind === 'key')
    assert.deepEqual(k.oldTuple, ['1', null])
    const o = decodePgoutput(f.update(1, ['2', 'y'], { kind: 'O', cols: ['2', 'x'] }))
    assert.ok(o.tag === 'update' && o.oldKind === 'old')
    assert.deepEqual(o.oldTuple, ['2', 'x'])
    assert.deepEqual(o.newTuple, ['2', 'y'])
  })

  it('decodes deletes, truncate flags, origin, type and message', () => {
    assert.deepEqual(decodePgoutput(f.del(5, 'K', ['9', null])), {
      tag: 'delete',
      relationOid: 5,
      oldKind: 'key',
      oldTuple: ['9', null],
    })
    assert.deepEqual(decodePgoutput(f.truncate([5, 6], 3)), {
      tag: 'truncate',
      relationOids: [5, 6],
      cascade: true,
      restartIdentity: true,
    })
    assert.deepEqual(decodePgoutput(f.origin(0x99n, 'node1')), {
      tag: 'origin',
      originLsn: 0x99n,
      name: 'node1',
    })
    assert.deepEqual(decodePgoutput(f.type(70000, 'public', 'mood')), {
      tag: 'type',
      typeOid: 70000,
      schema: 'public',
      name: 'mood',
    })
    const m = decodePgoutput(f.message(true, 0x10n, 'pfx', 'hello'))
    assert.ok(m.tag === 'message')
    assert.equal(m.transactional, true)
    assert.equal(m.content.toString(), 'hello')
  })

  it('rejects streaming messages, binary columns and truncated input with 08P01', () => {
    for (const bad of [
      Buffer.from('S'),
      Buffer.concat([
        Buffer.from('I'),
        Buffer.from([0, 0, 0, 1]),
        Buffer.from('N'),
        Buffer.from([0, 1]),
        Buffer.from('b'),
      ]),
      f.begin(1n, 2n, 3).subarray(0, 10),
    ]) {
      assert.throws(
        () => decodePgoutput(bad),
        (e: unknown) => (e as { sqlState?: string }).sqlState === '08P01',
      )
    }
  })
})

describe('walsender messages', () => {
  it('splits XLogData into positions and payload', () => {
    const payload = f.begin(1n, 2n, 3)
    const msg = decodeWalMessage(f.xlogData(0x10n, 0x1_0000_0000n, payload))
    assert.ok(msg.kind === 'xlogdata')
    assert.equal(msg.walStart, 0x10n)
    assert.equal(msg.walEnd, 0x1_0000_0000n)
    assert.deepEqual(msg.payload, payload)
  })

  it('reads a keepalive and its reply flag', () => {
    assert.deepEqual(decodeWalMessage(f.keepalive(0xabcdn, true)), {
      kind: 'keepalive',
      walEnd: 0xabcdn,
      replyRequested: true,
    })
    assert.equal(
      (decodeWalMessage(f.keepalive(1n, false)) as { replyRequested: boolean }).replyRequested,
      false,
    )
  })

  it('encodes a standby status update with exact positions and a Postgres-epoch clock', () => {
    const b = encodeStandbyStatus({
      written: 0x2_0000_0001n,
      flushed: 0x1_ffff_ffffn,
      applied: 0x1_ffff_ffffn,
      nowMicros: 946_684_800_000_000n + 5n,
      replyRequested: true,
    })
    assert.equal(b.length, 34)
    assert.equal(b[0], 0x72)
    assert.equal(b.readBigUInt64BE(1), 0x2_0000_0001n)
    assert.equal(b.readBigUInt64BE(9), 0x1_ffff_ffffn)
    assert.equal(b.readBigUInt64BE(17), 0x1_ffff_ffffn)
    assert.equal(b.readBigInt64BE(25), 5n)
    assert.equal(b[33], 1)
  })
})
