import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../src/errors.ts'
import { GRAMMAR_PEER_TYPES } from '../../../src/sql/ast.ts'
import { parseExtension } from '../../../src/sql/parse.ts'

interface Expect {
  readonly state: string
  readonly message: string | RegExp
  /** 1-based; `at` gives it as the (first) place the substring occurs instead. */
  readonly position?: number
  readonly at?: string
  readonly detail?: RegExp
  readonly hint?: RegExp
}

function fails(sql: string, want: Expect, baseOffset = 0): void {
  let caught: unknown
  try {
    parseExtension(sql, baseOffset)
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof PgMirrorError, `expected a PgMirrorError, got ${String(caught)}`)
  assert.equal(caught.sqlState, want.state)
  if (typeof want.message === 'string') assert.equal(caught.message, want.message)
  else assert.match(caught.message, want.message)
  const position = want.at !== undefined ? baseOffset + sql.indexOf(want.at) + 1 : want.position
  if (want.at !== undefined) assert.ok(sql.includes(want.at), 'test bug: `at` not in sql')
  if (position !== undefined) assert.equal(caught.position, position)
  if (want.detail) assert.match(caught.detail ?? '', want.detail)
  if (want.hint) assert.match(caught.hint ?? '', want.hint)
}

const near = (token: string) => `syntax error at or near "${token}"`
const END = 'syntax error at end of input'

describe('malformed extension statements', () => {
  const cases: [string, Expect][] = [
    ['CREATE PEER', { state: '42601', message: END, position: 12, detail: /identifier/ }],
    ['CREATE PEERS x FROM postgres', { state: '42601', message: near('PEERS'), position: 8, detail: /PEER/ }],
    [
      'CREATE PEER x FROM foo',
      {
        state: '42601',
        message: near('foo'),
        position: 20,
        detail: /peer type/,
        hint: /POSTGRES, CLICKHOUSE/,
      },
    ],
    [
      'CREATE ALERT a FOR pager',
      {
        state: '42601',
        message: near('pager'),
        at: 'pager',
        detail: /alert service type/,
        hint: /SLACK or EMAIL/,
      },
    ],
    [
      "CREATE ALERT a FOR slack WITH (channel_ids = ('C1' 'C2'))",
      { state: '42601', message: near("'C2'"), at: "'C2'" },
    ],
    ["ALTER ALERT a SET (members = (('x')))", { state: '42601', message: near('('), at: "('x" }],
    ['CREATE PEER x FROM postgres WITH (host = )', { state: '42601', message: near(')'), at: ')' }],
    [
      "CREATE PEER x FROM postgres WITH (host 'a')",
      { state: '42601', message: near("'a'"), at: "'a'", detail: /"="/ },
    ],
    ['CREATE PEER x FROM postgres WITH ()', { state: '42601', message: near(')'), at: ')' }],
    [
      "CREATE PEER x FROM postgres WITH (host = 'a', HOST = 'b')",
      { state: '42601', message: 'option "host" specified more than once', at: 'HOST' },
    ],
    ["CREATE PEER x FROM postgres WITH (host = 'a'", { state: '42601', message: END }],
    [
      "CREATE PEER x FROM postgres WITH (host = 'abc)",
      { state: '42601', message: `unterminated quoted string at or near "'abc)"`, at: "'abc" },
    ],
    ['CREATE PEER "" FROM postgres', { state: '42601', message: near('""'), at: '""' }],
    ['CREATE PEER p FROM postgres WITH (port = 54x)', { state: '42601', message: near('54'), at: '54' }],
    [
      'CREATE OR PEER p FROM postgres',
      { state: '42601', message: near('PEER'), at: 'PEER', detail: /REPLACE/ },
    ],
    ['DROP PEER IF EXISTS', { state: '42601', message: END, position: 20 }],
    ['DROP PEER a b', { state: '42601', message: near('b'), position: 13 }],
    ['DROP MIRRORS m', { state: '42601', message: near('MIRRORS'), position: 6 }],
    ['CREATE MIRROR m FROM a TO b', { state: '42601', message: END, detail: /WITH/ }],
    ['CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ()', { state: '42601', message: near(')'), at: ')' }],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (a.b.c:d)',
      { state: '42601', message: near('.'), at: '.c' },
    ],
    ['CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (a:)', { state: '42601', message: near(')'), at: ')' }],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a, FROM: b, to: c})',
      { state: '42601', message: 'field "from" specified more than once in table mapping', at: 'FROM:' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a})',
      { state: '42601', message: 'table mapping requires a "to" field', at: '{' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({to: a})',
      { state: '42601', message: 'table mapping requires a "from" field', at: '{' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a, to: b, bogus: c})',
      { state: '42601', message: near('bogus'), at: 'bogus' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a, to: b, columns: [{name: x}]})',
      { state: '42601', message: 'column requires an "ordering" field', at: '{name' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a, to: b, columns: [{name: x, ordering: one}]})',
      { state: '42601', message: near('one'), at: 'one', detail: /integer/ },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: a, to: b, exclude: x})',
      { state: '42601', message: near('x'), at: 'x}', detail: /"\["/ },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (a:b) WITH (x = 1, x = 2)',
      { state: '42601', message: 'option "x" specified more than once', at: 'x = 2' },
    ],
    [
      'CREATE MIRROR m FROM a TO b WITH SCHEMA MAPPING (s1:s2)',
      { state: '0A000', message: 'schema mapping is not supported', at: 'WITH' },
    ],
    [
      "CREATE MIRROR q FROM a TO b FOR $$select 1$$ WITH (destination_table_name = 't')",
      { state: '0A000', message: /query replication mirrors .* are not supported/, at: 'FOR' },
    ],
    [
      'ALTER MIRROR m DROP TABLE x',
      { state: '42601', message: near('DROP'), at: 'DROP', detail: /ADD.*SET|SET.*ADD/ },
    ],
    ["ALTER PEER p SET host = 'x'", { state: '42601', message: near('host'), at: 'host' }],
    ['ALTER PEER p', { state: '42601', message: END, position: 13 }],
    ['SHOW MIRROR', { state: '42601', message: END }],
    ['SHOW TABLES', { state: '42601', message: near('TABLES'), at: 'TABLES' }],
    ['EXECUTE pg(1)', { state: '42601', message: near('1'), at: '1' }],
    ["EXECUTE pg('select 1'", { state: '42601', message: END }],
    [
      'EXECUTE pg($a$ select 1 $b$)',
      {
        state: '42601',
        message: 'unterminated dollar-quoted string at or near "$a$ select 1 $b$)"',
        at: '$a$',
      },
    ],
    [
      'DROP PEER p /* never closed',
      { state: '42601', message: 'unterminated /* comment at or near "/* never closed"', at: '/*' },
    ],
    ['PAUSE MIRROR m extra', { state: '42601', message: near('extra'), at: 'extra' }],
    ['RESYNC MIRROR m; DROP MIRROR m', { state: '42601', message: near('DROP'), at: 'DROP' }],
    [
      'CREATE PEER p FROM postgres\n  WITH (host = "x")',
      { state: '42601', message: near('"x"'), position: 44, detail: /string.*number.*word/ },
    ],
  ]
  it('has at least 25 cases', () => assert.ok(cases.length >= 25))
  for (const [sql, want] of cases) it(`${want.state}: ${sql}`, () => fails(sql, want))

  it('counts positions from the start of the whole query string', () => {
    fails('DROP PEER a b', { state: '42601', message: near('b'), position: 23 }, 10)
    fails('CREATE PEER', { state: '42601', message: END, position: 22 }, 10)
    fails(
      'CREATE MIRROR m FROM a TO b WITH SCHEMA MAPPING (a:b)',
      { state: '0A000', message: /schema/, position: 39 },
      10,
    )
  })

  it('lets every PeerDB peer type through the grammar, supported or not', () => {
    for (const t of GRAMMAR_PEER_TYPES) {
      assert.deepStrictEqual(parseExtension(`CREATE PEER s FROM ${t.toLowerCase()}`), {
        kind: 'create_peer',
        orReplace: false,
        ifNotExists: false,
        name: 's',
        peerType: t,
        options: [],
      })
    }
  })
})
