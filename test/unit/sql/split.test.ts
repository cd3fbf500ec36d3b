import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isExtensionStatement } from '../../../src/sql/detect.ts'
import { parseExtension } from '../../../src/sql/parse.ts'
import { splitStatements } from '../../../src/sql/split.ts'

const texts = (sql: string) => splitStatements(sql).map((s) => s.text)

describe('splitStatements', () => {
  it('splits on top-level semicolons and reports offsets', () => {
    const sql = 'select 1;  select 2 ;select 3'
    assert.deepStrictEqual(splitStatements(sql), [
      { text: 'select 1', offset: 0 },
      { text: 'select 2', offset: 11 },
      { text: 'select 3', offset: 21 },
    ])
    for (const s of splitStatements(sql)) assert.equal(sql.slice(s.offset, s.offset + s.text.length), s.text)
  })

  it('returns nothing for empty input, whitespace, bare semicolons and lone comments', () => {
    for (const sql of ['', '   \n\t', ';', ' ; ;; ', '-- just a comment', '/* c */ ; -- d\n;']) {
      assert.deepStrictEqual(splitStatements(sql), [], JSON.stringify(sql))
    }
  })

  it('drops empty statements between real ones', () => {
    assert.deepStrictEqual(texts(';;select 1;;; ;select 2;'), ['select 1', 'select 2'])
  })

  it("keeps semicolons inside '…' strings, with '' escapes", () => {
    assert.deepStrictEqual(texts("select 'a;b', 'it''s;'; select 2"), ["select 'a;b', 'it''s;'", 'select 2'])
  })

  it("treats backslash as an escape only in E'…' strings", () => {
    assert.deepStrictEqual(texts("select E'a\\';b'; select 2"), ["select E'a\\';b'", 'select 2'])
    assert.deepStrictEqual(texts("select e'\\\\'; select 2"), ["select e'\\\\'", 'select 2'])
    // In a standard string the backslash is literal, so the string ends at the first quote.
    assert.deepStrictEqual(texts("select 'a\\'; select 2"), ["select 'a\\'", 'select 2'])
    // A word that merely ends in e is not a prefix.
    assert.deepStrictEqual(texts("select some'a\\'; select 2"), ["select some'a\\'", 'select 2'])
  })

  it('keeps semicolons inside "quoted identifiers"', () => {
    assert.deepStrictEqual(texts('select 1 as "a;""b"; select 2'), ['select 1 as "a;""b"', 'select 2'])
  })

  it('keeps semicolons inside dollar quotes, tagged or not', () => {
    const fn = 'create function f() returns int as $body$ select 1; select $$;$$; $body$ language sql'
    assert.deepStrictEqual(texts(`${fn}; select 2`), [fn, 'select 2'])
    assert.deepStrictEqual(texts('select $$a;b$$; select 2'), ['select $$a;b$$', 'select 2'])
    assert.deepStrictEqual(texts('select $a$ $b$ ; $b$ $a$;x'), ['select $a$ $b$ ; $b$ $a$', 'x'])
  })

  it('does not mistake parameters or $ inside identifiers for dollar quotes', () => {
    assert.deepStrictEqual(texts('select $1; select a$b$c; select 2'), [
      'select $1',
      'select a$b$c',
      'select 2',
    ])
  })

  it('ignores semicolons in -- and nested /* */ comments', () => {
    assert.deepStrictEqual(texts('select 1 -- a;b\n; select /* x; /* y; */ z; */ 2'), [
      'select 1',
      'select /* x; /* y; */ z; */ 2',
    ])
  })

  it('drops leading and trailing comments from each statement but keeps its offset exact', () => {
    const sql = '/* head */ select 1 -- tail\n;\n  -- lead\n  CREATE PEER p FROM postgres'
    const parts = splitStatements(sql)
    assert.deepStrictEqual(
      parts.map((p) => p.text),
      ['select 1', 'CREATE PEER p FROM postgres'],
    )
    assert.equal(parts[1]?.offset, sql.indexOf('CREATE'))
  })

  it('runs an unterminated string or comment to the end instead of failing', () => {
    assert.deepStrictEqual(texts("select 'abc; select 2"), ["select 'abc; select 2"])
    assert.deepStrictEqual(texts('select 1 /* abc; select 2'), ['select 1 /* abc; select 2'])
    assert.deepStrictEqual(texts('select $x$ abc; select 2'), ['select $x$ abc; select 2'])
  })

  it('gives offsets that make parse errors point into the whole query string', () => {
    const sql = "select 1; DROP PEER a b; select 'x'"
    const second = splitStatements(sql)[1]
    assert.ok(second)
    assert.throws(
      () => parseExtension(second.text, second.offset),
      (e: { position?: number }) => e.position === sql.indexOf(' b;') + 2,
    )
  })
})

describe('isExtensionStatement', () => {
  const ours = [
    'CREATE PEER p FROM postgres',
    'create or replace peer p from postgres',
    'ALTER PEER p SET (a = 1)',
    'DROP PEER p',
    'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (a:b)',
    'DROP MIRROR m',
    'PAUSE MIRROR m',
    'Resume Mirror m',
    'RESYNC MIRROR m',
    'ALTER MIRROR m SET (a = 1)',
    'SHOW MIRROR m',
    'SHOW MIRRORS',
    'show peers',
    "EXECUTE pg('select 1')",
    'EXECUTE "PG"($$select 1$$)',
    'execute pg ( $q$ select 1 $q$ )',
    '  -- comment\n /* block */ CREATE\n\tPEER p',
    'CREATE PEER', // ours even when malformed, so the user gets our syntax error
  ]
  const notOurs = [
    'select 1',
    'CREATE TABLE peer (id int)',
    'create or replace function f() returns int as $$ select 1 $$ language sql',
    'create or replace view v as select 1',
    'DROP TABLE mirror',
    'SHOW server_version',
    'SHOW search_path',
    'EXECUTE stmt(1)',
    'EXECUTE stmt',
    "EXECUTE stmt(E'x')",
    'EXECUTE stmt()',
    'ALTER TABLE peer ADD COLUMN x int',
    '"CREATE" PEER p',
    "select 'CREATE PEER p'",
    '-- CREATE PEER p',
    '',
  ]
  for (const sql of ours)
    it(`ours: ${JSON.stringify(sql)}`, () => assert.equal(isExtensionStatement(sql), true))
  for (const sql of notOurs) {
    it(`not ours: ${JSON.stringify(sql)}`, () => assert.equal(isExtensionStatement(sql), false))
  }
})
