import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readerPassword, readerRoleName, readerUrl } from '../../../src/catalog/reader-role.ts'

test('the reader role name is valid, short and distinct per catalog database', () => {
  const a = readerRoleName('pgmirror')
  assert.match(a, /^pgmirror_reader_[0-9a-f]{12}$/)
  assert.equal(readerRoleName('pgmirror'), a)
  assert.notEqual(readerRoleName('other "db"; --'), a)
})

test('the reader password is derived from the catalog credentials: same URL, same password; nothing else leaks', () => {
  const url = 'postgres://pgm:s%40cret@db.example:5432/catalog'
  const p = readerPassword(url)
  assert.match(p, /^[0-9a-f]{64}$/)
  assert.equal(readerPassword(url), p)
  assert.notEqual(readerPassword('postgres://pgm:other@db.example:5432/catalog'), p)
  assert.notEqual(readerPassword('postgres://pgm:s%40cret@db.example:5432/catalog2'), p)
  assert.ok(!p.includes('s@cret'))
})

test('readerUrl swaps in the reader credentials and keeps host, database and parameters', () => {
  const out = new URL(
    readerUrl('postgres://pgm:pw@db.example:6543/catalog?sslmode=require', { user: 'r', password: 'p@ss/w' }),
  )
  assert.equal(decodeURIComponent(out.username), 'r')
  assert.equal(decodeURIComponent(out.password), 'p@ss/w')
  assert.equal(out.host, 'db.example:6543')
  assert.equal(out.pathname, '/catalog')
  assert.equal(out.searchParams.get('sslmode'), 'require')
})
