import assert from 'node:assert/strict'
import { test } from 'node:test'
import { refuseWritesIntoSources } from '../../../src/engine/self-mirror.ts'
import type { TableMapping } from '../../../src/model/mirror.ts'
import type { PeerConfig } from '../../../src/model/peer.ts'

const pg = (host: string, database: string): PeerConfig => ({
  type: 'POSTGRES',
  config: { host, port: 5432, user: 'u', password: '', database },
})
const map = (source: string, destination: string): TableMapping => ({
  source: { schema: 'public', table: source },
  destination,
  exclude: [],
  columns: [],
})

test('regression: a mirror from a table into itself was accepted', () => {
  const src = pg('db', 'app')
  for (const destination of ['t', 'public.t']) {
    assert.throws(
      () => refuseWritesIntoSources(src, src, [map('t', destination)]),
      /source table of this mirror/,
    )
  }
  // Another peer on the same database, and a loop through a second table, are the same thing.
  assert.throws(
    () => refuseWritesIntoSources(src, pg('DB', 'app'), [map('t', 'u'), map('u', 't')]),
    /writes into/,
  )
})

test('copies into other tables of the same database, and any table of another database, are fine', () => {
  const src = pg('db', 'app')
  assert.doesNotThrow(() => refuseWritesIntoSources(src, src, [map('t', 'public.t_copy')]))
  assert.doesNotThrow(() => refuseWritesIntoSources(src, pg('db', 'other'), [map('t', 'public.t')]))
  const kafka: PeerConfig = { type: 'KAFKA', config: { servers: ['k:9092'] } }
  assert.doesNotThrow(() => refuseWritesIntoSources(src, kafka, [map('t', 'public.t')]))
})
