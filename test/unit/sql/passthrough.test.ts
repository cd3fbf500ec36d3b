import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { analyzePassthrough } from '../../../src/sql/passthrough.ts'

describe('analyzePassthrough', () => {
  it('lists a three-part relation and strips the peer from it', () => {
    const a = analyzePassthrough('SELECT * FROM pg.public.t')
    assert.equal(a.parsed, true)
    assert.equal(a.kind, 'select')
    assert.deepStrictEqual(a.relations, [['pg', 'public', 't']])
    assert.equal(a.stripPrefix('pg'), 'SELECT * FROM public.t')
  })

  it('handles joins, aliases, where clauses and subqueries, leaving strings alone', () => {
    const sql =
      'SELECT a.x, b.y FROM pg.public.t a JOIN PG.s.u AS b ON a.id = b.id ' +
      "WHERE a.y = 'pg.x.y' AND b.z IN (SELECT id FROM pg.public.w WHERE note <> 'from pg.public.t')"
    const a = analyzePassthrough(sql)
    assert.equal(a.parsed, true)
    assert.deepStrictEqual(a.relations, [
      ['pg', 'public', 't'],
      ['pg', 's', 'u'],
      ['pg', 'public', 'w'],
    ])
    assert.equal(
      a.stripPrefix('pg'),
      'SELECT a.x, b.y FROM public.t a JOIN s.u AS b ON a.id = b.id ' +
        "WHERE a.y = 'pg.x.y' AND b.z IN (SELECT id FROM public.w WHERE note <> 'from pg.public.t')",
    )
  })

  it('matches quoted peer names exactly and unquoted ones case-insensitively', () => {
    const sql = 'select * from "Pg"."My Schema"."T" t1, "pg".public.t2, PG.public.t3'
    const a = analyzePassthrough(sql)
    assert.deepStrictEqual(a.relations, [
      ['Pg', 'My Schema', 'T'],
      ['pg', 'public', 't2'],
      ['pg', 'public', 't3'],
    ])
    assert.equal(a.stripPrefix('pg'), 'select * from "Pg"."My Schema"."T" t1, public.t2, public.t3')
    assert.equal(a.stripPrefix('Pg'), 'select * from "My Schema"."T" t1, "pg".public.t2, PG.public.t3')
  })

  it('leaves other peers and plain schema-qualified tables untouched', () => {
    const sql = 'select * from other.public.t join public.u on true'
    const a = analyzePassthrough(sql)
    assert.deepStrictEqual(a.relations, [
      ['other', 'public', 't'],
      ['public', 'u'],
    ])
    assert.equal(a.stripPrefix('pg'), sql)
  })

  it('strips a two-part peer.table too', () => {
    assert.equal(analyzePassthrough('select * from pg.t').stripPrefix('pg'), 'select * from t')
  })

  it('keeps whitespace, comments and layout everywhere else', () => {
    const sql = 'select  x -- pg.public.t\n  from /* c */ pg . public . t\n where x = $1'
    const a = analyzePassthrough(sql)
    assert.deepStrictEqual(a.relations, [['pg', 'public', 't']])
    assert.equal(a.stripPrefix('pg'), 'select  x -- pg.public.t\n  from /* c */ public . t\n where x = $1')
  })

  it('finds relations in CTE bodies but not the CTE names themselves', () => {
    const a = analyzePassthrough(
      'with c as (select * from pg.public.t) select * from c join pg.public.u using (id)',
    )
    assert.equal(a.kind, 'select')
    assert.deepStrictEqual(a.relations, [
      ['pg', 'public', 't'],
      ['pg', 'public', 'u'],
    ])
    assert.equal(
      a.stripPrefix('pg'),
      'with c as (select * from public.t) select * from c join public.u using (id)',
    )
  })

  it('covers INSERT, UPDATE and DELETE targets and classifies them as other', () => {
    const cases = [
      [
        'insert into pg.public.t (a) select a from pg.public.s',
        'insert into public.t (a) select a from public.s',
        2,
      ],
      ['update pg.public.t set a = 1 where b = 2', 'update public.t set a = 1 where b = 2', 1],
      ['delete from pg.public.t where a = 1', 'delete from public.t where a = 1', 1],
    ] as const
    for (const [sql, stripped, count] of cases) {
      const a = analyzePassthrough(sql)
      assert.equal(a.parsed, true, sql)
      assert.equal(a.kind, 'other', sql)
      assert.equal(a.relations.length, count, sql)
      assert.equal(a.stripPrefix('pg'), stripped)
    }
  })

  it('classifies UNION, VALUES and WITH … SELECT as row-returning, WITH … INSERT as other', () => {
    assert.equal(analyzePassthrough('select 1 union select 2').kind, 'select')
    assert.equal(analyzePassthrough('values (1), (2)').kind, 'select')
    assert.equal(analyzePassthrough('with c as (select 1) insert into t select * from c').kind, 'other')
    assert.equal(analyzePassthrough('select 1').relations.length, 0)
  })

  it('falls back to tokens for SQL pgsql-ast-parser rejects, still stripping the peer', () => {
    const a = analyzePassthrough('select * from t1 natural join pg.public.t2')
    assert.equal(a.parsed, false)
    assert.equal(a.kind, 'select')
    assert.deepStrictEqual(a.relations, [['t1'], ['pg', 'public', 't2']])
    assert.equal(a.stripPrefix('pg'), 'select * from t1 natural join public.t2')

    const b = analyzePassthrough("explain select * from pg.public.t, pg.public.u where s = 'pg.public.t'")
    assert.equal(b.parsed, false)
    assert.deepStrictEqual(b.relations, [
      ['pg', 'public', 't'],
      ['pg', 'public', 'u'],
    ])
    assert.equal(b.stripPrefix('pg'), "explain select * from public.t, public.u where s = 'pg.public.t'")
  })

  it('does not take names from the select list or WHERE clause as relations in the fallback', () => {
    const a = analyzePassthrough('select x.y, (1, 2) from only pg.public.t where a in (1, 2) order by b, c')
    assert.equal(a.parsed, false)
    assert.deepStrictEqual(a.relations, [['pg', 'public', 't']])
    assert.equal(a.stripPrefix('pg'), 'select x.y, (1, 2) from only public.t where a in (1, 2) order by b, c')
  })

  it('never throws, even on garbage', () => {
    for (const sql of [
      '',
      ';;',
      'select (',
      "select 'unterminated",
      'select $$',
      '/* open',
      '💥 from pg.a.b',
    ]) {
      const a = analyzePassthrough(sql)
      assert.equal(typeof a.stripPrefix('pg'), 'string', sql)
    }
    const a = analyzePassthrough('this is not sql')
    assert.deepStrictEqual([a.parsed, a.kind, a.relations], [false, 'other', []])
    assert.equal(a.stripPrefix('pg'), 'this is not sql')
  })
})
