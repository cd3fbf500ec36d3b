import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  parseDestination,
  quoteIdent,
  quoteList,
  quoteQualified,
  typeSql,
} from '../../../../src/sinks/postgres/quote.ts'

/** How Postgres reads a double-quoted identifier back: strip the outer quotes, undouble the inner ones. */
function readQuoted(sql: string): string {
  assert.match(sql, /^"(?:[^"]|"")*"$/s, `not a single quoted identifier: ${sql}`)
  return sql.slice(1, -1).replaceAll('""', '"')
}

describe('quoteIdent', () => {
  const hostile = [
    'we"ird',
    'sp ace',
    'Ünïcode',
    'semi;colon',
    'select',
    'user',
    'Weird "Tab"',
    '"',
    '""x""',
    'a.b',
    '$1',
    "it's",
    '--x',
    '',
  ]

  for (const name of hostile) {
    it(`round-trips ${JSON.stringify(name)}`, () => {
      assert.equal(readQuoted(quoteIdent(name)), name)
    })
  }

  it('always quotes, so case and reserved words survive', () => {
    assert.equal(quoteIdent('MixedCase'), '"MixedCase"')
    assert.equal(quoteIdent('select'), '"select"')
    assert.equal(quoteIdent('we"ird'), '"we""ird"')
  })

  it('refuses a NUL character', () => {
    assert.throws(() => quoteIdent('a\0b'), /NUL/)
  })
})

describe('quoteQualified and quoteList', () => {
  it('quotes each part separately', () => {
    assert.equal(quoteQualified({ schema: 'my schema', table: 'Weird "Tab"' }), '"my schema"."Weird ""Tab"""')
    assert.equal(quoteList(['a', 'sp ace', 'x"y']), '"a", "sp ace", "x""y"')
  })
})

describe('parseDestination', () => {
  it('defaults the schema to public and splits at the first dot', () => {
    assert.deepEqual(parseDestination('t'), { schema: 'public', table: 't' })
    assert.deepEqual(parseDestination('s.t'), { schema: 's', table: 't' })
    assert.deepEqual(parseDestination('s.t.with.dots'), { schema: 's', table: 't.with.dots' })
    assert.deepEqual(parseDestination('My Schema.Weird "Tab"'), { schema: 'My Schema', table: 'Weird "Tab"' })
  })
})

describe('typeSql', () => {
  it('passes format_type output through', () => {
    for (const t of [
      'numeric(20,5)',
      'timestamp with time zone',
      'text[]',
      '"My Type"',
      's."x;y"[]',
      'character varying(10)',
    ])
      assert.equal(typeSql(t), t)
  })

  it('refuses statement separators, quotes and comments outside double quotes', () => {
    for (const t of ['int; DROP TABLE x', "text'", 'int -- x', 'int /* x */', 'a\0'])
      assert.throws(() => typeSql(t), /suspicious type name/)
  })
})
