import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { quoteIdent, quoteLiteral, quoteTable } from '../../../src/sources/postgres/quote.ts'
import { startReplicationSql } from '../../../src/sources/postgres/replication-stream.ts'
import { defaultObjectNames, validateSlotName } from '../../../src/sources/postgres/slot.ts'

describe('quoting', () => {
  it('doubles embedded quotes', () => {
    assert.equal(quoteIdent('a"b'), '"a""b"')
    assert.equal(quoteTable({ schema: 'S', table: 't t' }), '"S"."t t"')
    assert.equal(quoteLiteral("it's"), "'it''s'")
  })

  it('refuses literals it cannot quote safely', () => {
    assert.throws(() => quoteLiteral('a\\b'))
  })
})

describe('replication commands', () => {
  it('starts from a formatted LSN with quoted publication names', () => {
    assert.equal(
      startReplicationSql({ slotName: 's1', publicationNames: ['pub', "My 'Pub"], startLsn: 0x1_0000_00a0n }),
      `START_REPLICATION SLOT "s1" LOGICAL 1/A0 (proto_version '1', publication_names '"pub","My ''Pub"')`,
    )
  })

  it('derives slot and publication names from the mirror and validates slot names', () => {
    assert.deepEqual(defaultObjectNames('orders'), {
      slotName: 'pgmirror_slot_orders',
      publicationName: 'pgmirror_pub_orders',
    })
    assert.throws(
      () => defaultObjectNames('Orders'),
      (e: unknown) => (e as { sqlState?: string }).sqlState === '22023',
    )
    assert.throws(() => validateSlotName('x'.repeat(64)))
    validateSlotName('x'.repeat(63))
  })
})
