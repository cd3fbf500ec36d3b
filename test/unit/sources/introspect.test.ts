import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ensurePullable, validateSourceInfo } from '../../../src/sources/postgres/introspect.ts'
import type { SourceInfo } from '../../../src/sources/postgres/introspect.ts'
import type { TableSchema } from '../../../src/model/record.ts'

const good: SourceInfo = {
  walLevel: 'logical',
  isSuperuser: false,
  hasReplication: true,
  serverVersionNum: 150018,
}
const kindOf = (state: string) => (e: unknown) => (e as { sqlState?: string }).sqlState === state

describe('validateSourceInfo', () => {
  it('accepts a logical-WAL server with a replication role', () => {
    validateSourceInfo(good)
    validateSourceInfo({ ...good, hasReplication: false, isSuperuser: true })
  })

  it('rejects wal_level replica with 55000 and says how to fix it', () => {
    assert.throws(
      () => validateSourceInfo({ ...good, walLevel: 'replica' }),
      (e: unknown) => kindOf('55000')(e) && /wal_level = logical/.test((e as { hint: string }).hint),
    )
  })

  it('rejects a user without replication privilege with 42501', () => {
    assert.throws(() => validateSourceInfo({ ...good, hasReplication: false }), kindOf('42501'))
  })

  it('rejects servers older than 13 with 0A000', () => {
    assert.throws(() => validateSourceInfo({ ...good, serverVersionNum: 120010 }), kindOf('0A000'))
  })
})

const schema = (over: Partial<TableSchema>): TableSchema => ({
  name: { schema: 'public', table: 't' },
  columns: [],
  primaryKey: ['id'],
  replicaIdentity: 'd',
  ...over,
})

describe('ensurePullable', () => {
  it('accepts a primary key, or REPLICA IDENTITY FULL without one', () => {
    ensurePullable([schema({}), schema({ primaryKey: [], replicaIdentity: 'f' })])
  })

  it('rejects a keyless table with 55000 and hints at REPLICA IDENTITY FULL', () => {
    assert.throws(
      () => ensurePullable([schema({ primaryKey: [] })]),
      (e: unknown) =>
        kindOf('55000')(e) &&
        (e as Error).message === 'table "public.t" has no primary key and its replica identity is not FULL' &&
        (e as { hint: string }).hint.includes('ALTER TABLE "public"."t" REPLICA IDENTITY FULL'),
    )
  })

  it('rejects REPLICA IDENTITY NOTHING even with a key', () => {
    assert.throws(() => ensurePullable([schema({ replicaIdentity: 'n' })]), kindOf('55000'))
  })
})
