import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Statement } from '../../../src/sql/ast.ts'
import { parseExtension } from '../../../src/sql/parse.ts'
import { quoteIdent, quoteLiteral, quoteQualified } from '../../../src/sql/quote.ts'
import { renderStatement } from '../../../src/sql/render.ts'

/**
 * Every statement form: parse, check the AST, render, and parse the rendering back to the same AST.
 * The rendering must also be a fixed point (rendering the reparsed AST gives the same text).
 */
const cases: { sql: string; ast: Statement; canonical?: string }[] = [
  {
    sql: "CREATE PEER pg FROM POSTGRES WITH (host = 'localhost', port = 5432, user = 'postgres', password = 'secret', database = 'app')",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'pg',
      peerType: 'POSTGRES',
      options: [
        { key: 'host', value: { kind: 'string', value: 'localhost' } },
        { key: 'port', value: { kind: 'number', value: '5432' } },
        { key: 'user', value: { kind: 'string', value: 'postgres' } },
        { key: 'password', value: { kind: 'string', value: 'secret' } },
        { key: 'database', value: { kind: 'string', value: 'app' } },
      ],
    },
  },
  {
    sql: "create peer My_Peer from postgres with (host='h',sslmode=require,require_tls=TRUE,disable_tls=false)",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'my_peer',
      peerType: 'POSTGRES',
      options: [
        { key: 'host', value: { kind: 'string', value: 'h' } },
        { key: 'sslmode', value: { kind: 'word', value: 'require' } },
        { key: 'require_tls', value: { kind: 'bool', value: true } },
        { key: 'disable_tls', value: { kind: 'bool', value: false } },
      ],
    },
    canonical:
      "CREATE PEER my_peer FROM POSTGRES WITH (host = 'h', sslmode = require, require_tls = true, disable_tls = false)",
  },
  {
    sql: 'CREATE OR REPLACE PEER IF NOT EXISTS "Mixed Case" FROM ClickHouse WITH (host = \'ch\', port = 8123)',
    ast: {
      kind: 'create_peer',
      orReplace: true,
      ifNotExists: true,
      name: 'Mixed Case',
      peerType: 'CLICKHOUSE',
      options: [
        { key: 'host', value: { kind: 'string', value: 'ch' } },
        { key: 'port', value: { kind: 'number', value: '8123' } },
      ],
    },
    canonical:
      'CREATE OR REPLACE PEER IF NOT EXISTS "Mixed Case" FROM CLICKHOUSE WITH (host = \'ch\', port = 8123)',
  },
  {
    sql: "CREATE PEER k FROM KAFKA WITH (servers = 'b1:9092, b2:9092', sasl_mechanism = SCRAM-SHA-256, partitioner = 'RoundRobin')",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'k',
      peerType: 'KAFKA',
      options: [
        { key: 'servers', value: { kind: 'string', value: 'b1:9092, b2:9092' } },
        { key: 'sasl_mechanism', value: { kind: 'word', value: 'SCRAM-SHA-256' } },
        { key: 'partitioner', value: { kind: 'string', value: 'RoundRobin' } },
      ],
    },
  },
  {
    sql: 'CREATE PEER m FROM mysql',
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'm',
      peerType: 'MYSQL',
      options: [],
    },
    canonical: 'CREATE PEER m FROM MYSQL',
  },
  {
    sql: "CREATE PEER p FROM POSTGRES WITH (password = 'it''s', options = '-c search_path=a', x = -1.5, y = 007, h = db.example.com)",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'p',
      peerType: 'POSTGRES',
      options: [
        { key: 'password', value: { kind: 'string', value: "it's" } },
        { key: 'options', value: { kind: 'string', value: '-c search_path=a' } },
        { key: 'x', value: { kind: 'number', value: '-1.5' } },
        { key: 'y', value: { kind: 'number', value: '007' } },
        { key: 'h', value: { kind: 'word', value: 'db.example.com' } },
      ],
    },
  },
  {
    sql: 'CREATE PEER p FROM POSTGRES WITH ("Odd Key" = \'\', "with" = \'x\')',
    canonical: "CREATE PEER p FROM POSTGRES WITH (\"Odd Key\" = '', with = 'x')",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'p',
      peerType: 'POSTGRES',
      options: [
        { key: 'Odd Key', value: { kind: 'string', value: '' } },
        { key: 'with', value: { kind: 'string', value: 'x' } },
      ],
    },
  },
  {
    sql: "  -- leading comment\n  CREATE /* inline /* nested */ comment */ PEER\n\tp2 FROM postgres WITH(host='a')  ;  ",
    ast: {
      kind: 'create_peer',
      orReplace: false,
      ifNotExists: false,
      name: 'p2',
      peerType: 'POSTGRES',
      options: [{ key: 'host', value: { kind: 'string', value: 'a' } }],
    },
    canonical: "CREATE PEER p2 FROM POSTGRES WITH (host = 'a')",
  },
  {
    sql: "ALTER PEER pg SET (password = 'new', port = 5433)",
    ast: {
      kind: 'alter_peer',
      name: 'pg',
      options: [
        { key: 'password', value: { kind: 'string', value: 'new' } },
        { key: 'port', value: { kind: 'number', value: '5433' } },
      ],
    },
  },
  { sql: 'DROP PEER pg', ast: { kind: 'drop_peer', ifExists: false, name: 'pg' } },
  {
    sql: 'drop peer if exists "PG"',
    ast: { kind: 'drop_peer', ifExists: true, name: 'PG' },
    canonical: 'DROP PEER IF EXISTS "PG"',
  },
  { sql: 'DROP PEER "select"', ast: { kind: 'drop_peer', ifExists: false, name: 'select' } },
  { sql: 'DROP PEER if', ast: { kind: 'drop_peer', ifExists: false, name: 'if' } },
  {
    sql: 'CREATE MIRROR m FROM src TO dst WITH TABLE MAPPING (public.orders:public.orders)',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'm',
      source: 'src',
      destination: 'dst',
      mappings: [
        {
          source: ['public', 'orders'],
          destination: { kind: 'name', parts: ['public', 'orders'] },
          exclude: [],
          columns: [],
        },
      ],
      options: [],
    },
  },
  {
    sql: 'create mirror if not exists M1 from Src to Dst with table mapping (orders:orders_copy, "Sales"."My Table":sales.t) with (do_initial_copy = true, max_batch_size = 1000, publication_name = \'pub\')',
    ast: {
      kind: 'create_mirror',
      ifNotExists: true,
      name: 'm1',
      source: 'src',
      destination: 'dst',
      mappings: [
        {
          source: ['orders'],
          destination: { kind: 'name', parts: ['orders_copy'] },
          exclude: [],
          columns: [],
        },
        {
          source: ['Sales', 'My Table'],
          destination: { kind: 'name', parts: ['sales', 't'] },
          exclude: [],
          columns: [],
        },
      ],
      options: [
        { key: 'do_initial_copy', value: { kind: 'bool', value: true } },
        { key: 'max_batch_size', value: { kind: 'number', value: '1000' } },
        { key: 'publication_name', value: { kind: 'string', value: 'pub' } },
      ],
    },
    canonical:
      'CREATE MIRROR IF NOT EXISTS m1 FROM src TO dst WITH TABLE MAPPING (orders:orders_copy, "Sales"."My Table":sales.t) ' +
      "WITH (do_initial_copy = true, max_batch_size = 1000, publication_name = 'pub')",
  },
  {
    sql: "CREATE MIRROR k FROM pg TO kafka WITH TABLE MAPPING (public.orders:'orders-topic.v1', public.items:items_topic)",
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'k',
      source: 'pg',
      destination: 'kafka',
      mappings: [
        {
          source: ['public', 'orders'],
          destination: { kind: 'string', value: 'orders-topic.v1' },
          exclude: [],
          columns: [],
        },
        {
          source: ['public', 'items'],
          destination: { kind: 'name', parts: ['items_topic'] },
          exclude: [],
          columns: [],
        },
      ],
      options: [],
    },
  },
  {
    sql:
      'CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING ({from: public.countries, to: public.countries, ' +
      'exclude: [local_name, size], key: id, columns: [{name: id, ordering: 1}]})',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'c',
      source: 'pg',
      destination: 'ch',
      mappings: [
        {
          source: ['public', 'countries'],
          destination: { kind: 'name', parts: ['public', 'countries'] },
          exclude: ['local_name', 'size'],
          key: 'id',
          columns: [{ name: 'id', ordering: 1 }],
        },
      ],
      options: [],
    },
    canonical:
      'CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING ({from: public.countries, to: public.countries, key: id, ' +
      'exclude: [local_name, size], columns: [{name: id, ordering: 1}]})',
  },
  {
    sql:
      "CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING ({ KEY : id , TO : 'topic' , EXCLUDE : [ a , b , ] , " +
      'FROM : s.t , COLUMNS : [ { ordering : 2 , name : "B" } , { name : a , ordering : 1 } , ] , } , ) ' +
      "WITH (soft_delete = true, synced_at_col_name = '')",
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'c',
      source: 'pg',
      destination: 'ch',
      mappings: [
        {
          source: ['s', 't'],
          destination: { kind: 'string', value: 'topic' },
          exclude: ['a', 'b'],
          key: 'id',
          columns: [
            { name: 'B', ordering: 2 },
            { name: 'a', ordering: 1 },
          ],
        },
      ],
      options: [
        { key: 'soft_delete', value: { kind: 'bool', value: true } },
        { key: 'synced_at_col_name', value: { kind: 'string', value: '' } },
      ],
    },
    canonical:
      "CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING ({from: s.t, to: 'topic', key: id, exclude: [a, b], " +
      'columns: [{name: "B", ordering: 2}, {name: a, ordering: 1}]}) ' +
      "WITH (soft_delete = true, synced_at_col_name = '')",
  },
  {
    // An object mapping with nothing but from/to is canonically the short form.
    sql: 'CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING ({to: b.t, from: a.t, exclude: []})',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'c',
      source: 'pg',
      destination: 'ch',
      mappings: [
        { source: ['a', 't'], destination: { kind: 'name', parts: ['b', 't'] }, exclude: [], columns: [] },
      ],
      options: [],
    },
    canonical: 'CREATE MIRROR c FROM pg TO ch WITH TABLE MAPPING (a.t:b.t)',
  },
  {
    sql: 'CREATE MIRROR "to" FROM "from" TO "With" WITH TABLE MAPPING ("table".x:y)',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'to',
      source: 'from',
      destination: 'With',
      mappings: [
        { source: ['table', 'x'], destination: { kind: 'name', parts: ['y'] }, exclude: [], columns: [] },
      ],
      options: [],
    },
  },
  {
    // Reserved words after the first list item must be quoted too.
    sql: 'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING ({from: public."user", to: "select"."order", exclude: [a, "user", "from"]})',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'm',
      source: 'a',
      destination: 'b',
      mappings: [
        {
          source: ['public', 'user'],
          destination: { kind: 'name', parts: ['select', 'order'] },
          exclude: ['a', 'user', 'from'],
          columns: [],
        },
      ],
      options: [],
    },
  },
  {
    sql: 'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (s . t : d . t)',
    ast: {
      kind: 'create_mirror',
      ifNotExists: false,
      name: 'm',
      source: 'a',
      destination: 'b',
      mappings: [
        { source: ['s', 't'], destination: { kind: 'name', parts: ['d', 't'] }, exclude: [], columns: [] },
      ],
      options: [],
    },
    canonical: 'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (s.t:d.t)',
  },
  { sql: 'DROP MIRROR m', ast: { kind: 'drop_mirror', ifExists: false, name: 'm' } },
  {
    sql: 'drop mirror if exists M',
    ast: { kind: 'drop_mirror', ifExists: true, name: 'm' },
    canonical: 'DROP MIRROR IF EXISTS m',
  },
  { sql: 'PAUSE MIRROR m', ast: { kind: 'pause_mirror', ifExists: false, name: 'm' } },
  { sql: 'PAUSE MIRROR IF EXISTS "M"', ast: { kind: 'pause_mirror', ifExists: true, name: 'M' } },
  { sql: 'RESUME MIRROR m', ast: { kind: 'resume_mirror', ifExists: false, name: 'm' } },
  {
    sql: 'Resume Mirror If Exists m',
    ast: { kind: 'resume_mirror', ifExists: true, name: 'm' },
    canonical: 'RESUME MIRROR IF EXISTS m',
  },
  { sql: 'RESYNC MIRROR m', ast: { kind: 'resync_mirror', ifExists: false, name: 'm' } },
  { sql: 'RESYNC MIRROR IF EXISTS m', ast: { kind: 'resync_mirror', ifExists: true, name: 'm' } },
  {
    sql: 'ALTER MIRROR m ADD TABLE MAPPING (public.a:public.a, {from: public.b, to: public.b2, key: id})',
    ast: {
      kind: 'alter_mirror_add_tables',
      name: 'm',
      mappings: [
        {
          source: ['public', 'a'],
          destination: { kind: 'name', parts: ['public', 'a'] },
          exclude: [],
          columns: [],
        },
        {
          source: ['public', 'b'],
          destination: { kind: 'name', parts: ['public', 'b2'] },
          exclude: [],
          key: 'id',
          columns: [],
        },
      ],
    },
  },
  {
    sql: 'ALTER MIRROR m SET (max_batch_size = 5000, sync_interval = 30)',
    ast: {
      kind: 'alter_mirror_set',
      name: 'm',
      options: [
        { key: 'max_batch_size', value: { kind: 'number', value: '5000' } },
        { key: 'sync_interval', value: { kind: 'number', value: '30' } },
      ],
    },
  },
  {
    sql: "CREATE ALERT ops FOR SLACK WITH (auth_token = 'xoxb-1', channel_ids = ('C1', 'C2'), slot_lag_mb_alert_threshold = 100)",
    ast: {
      kind: 'create_alert',
      ifNotExists: false,
      name: 'ops',
      serviceType: 'slack',
      options: [
        { key: 'auth_token', value: { kind: 'string', value: 'xoxb-1' } },
        {
          key: 'channel_ids',
          value: {
            kind: 'list',
            items: [
              { kind: 'string', value: 'C1' },
              { kind: 'string', value: 'C2' },
            ],
          },
        },
        { key: 'slot_lag_mb_alert_threshold', value: { kind: 'number', value: '100' } },
      ],
    },
  },
  {
    sql: "create alert if not exists Mail for email with (email_addresses = 'a@b.io', alert_for_mirrors = [m1, 'm2',])",
    ast: {
      kind: 'create_alert',
      ifNotExists: true,
      name: 'mail',
      serviceType: 'email',
      options: [
        { key: 'email_addresses', value: { kind: 'string', value: 'a@b.io' } },
        {
          key: 'alert_for_mirrors',
          value: {
            kind: 'list',
            items: [
              { kind: 'word', value: 'm1' },
              { kind: 'string', value: 'm2' },
            ],
          },
        },
      ],
    },
    canonical:
      "CREATE ALERT IF NOT EXISTS mail FOR EMAIL WITH (email_addresses = 'a@b.io', alert_for_mirrors = (m1, 'm2'))",
  },
  {
    sql: 'ALTER ALERT ops SET (members = (), slot_lag_mb_alert_threshold = 0)',
    ast: {
      kind: 'alter_alert',
      name: 'ops',
      options: [
        { key: 'members', value: { kind: 'list', items: [] } },
        { key: 'slot_lag_mb_alert_threshold', value: { kind: 'number', value: '0' } },
      ],
    },
  },
  { sql: 'DROP ALERT IF EXISTS "Ops"', ast: { kind: 'drop_alert', ifExists: true, name: 'Ops' } },
  { sql: 'DROP ALERT ops', ast: { kind: 'drop_alert', ifExists: false, name: 'ops' } },
  { sql: 'show alerts;', ast: { kind: 'show_alerts' }, canonical: 'SHOW ALERTS' },
  { sql: 'SHOW MIRROR m', ast: { kind: 'show_mirror', name: 'm' } },
  {
    sql: 'show mirror mirrors',
    ast: { kind: 'show_mirror', name: 'mirrors' },
    canonical: 'SHOW MIRROR mirrors',
  },
  { sql: 'SHOW MIRRORS', ast: { kind: 'show_mirrors' } },
  { sql: 'show peers;', ast: { kind: 'show_peers' }, canonical: 'SHOW PEERS' },
  {
    sql: "EXECUTE pg('SELECT ''a''; SELECT 2')",
    ast: { kind: 'execute_on_peer', peer: 'pg', sql: "SELECT 'a'; SELECT 2" },
  },
  {
    sql: 'EXECUTE "PG"($q$SELECT $$x$$, \'y\'$q$)',
    ast: { kind: 'execute_on_peer', peer: 'PG', sql: "SELECT $$x$$, 'y'" },
    canonical: "EXECUTE \"PG\"('SELECT $$x$$, ''y''')",
  },
  {
    sql: 'execute pg ( $$ select now() $$ )',
    ast: { kind: 'execute_on_peer', peer: 'pg', sql: ' select now() ' },
    canonical: "EXECUTE pg(' select now() ')",
  },
]

describe('extension statements round-trip', () => {
  it('has at least 30 cases', () => assert.ok(cases.length >= 30, `${cases.length} cases`))
  for (const c of cases) {
    it(c.sql.replace(/\s+/g, ' ').slice(0, 100), () => {
      const ast = parseExtension(c.sql)
      assert.deepStrictEqual(ast, c.ast)
      const rendered = renderStatement(ast)
      assert.equal(rendered, c.canonical ?? c.sql)
      assert.deepStrictEqual(parseExtension(rendered), ast)
      assert.equal(renderStatement(parseExtension(rendered)), rendered)
    })
  }
})

describe('renderStatement on hand-built nodes', () => {
  it('quotes names that would not read back bare', () => {
    const s: Statement = { kind: 'drop_peer', ifExists: false, name: 'Peer "1"' }
    assert.equal(renderStatement(s), 'DROP PEER "Peer ""1"""')
    assert.deepStrictEqual(parseExtension(renderStatement(s)), s)
  })

  it('writes a word value that is not a bare word as a string', () => {
    const s: Statement = {
      kind: 'alter_peer',
      name: 'p',
      options: [
        { key: 'a', value: { kind: 'word', value: 'two words' } },
        { key: 'b', value: { kind: 'word', value: 'true' } },
      ],
    }
    assert.equal(renderStatement(s), "ALTER PEER p SET (a = 'two words', b = 'true')")
  })
})

describe('quoteIdent and quoteLiteral', () => {
  it('leaves plain lower-case names bare and quotes everything else', () => {
    const cases: [string, string][] = [
      ['orders', 'orders'],
      ['_t1$x', '_t1$x'],
      ['Orders', '"Orders"'],
      ['my table', '"my table"'],
      ['1abc', '"1abc"'],
      ['café', '"café"'],
      ['a"b', '"a""b"'],
      ['', '""'],
      ['select', '"select"'],
      ['user', '"user"'],
    ]
    for (const [name, quoted] of cases) assert.equal(quoteIdent(name), quoted, name)
    assert.equal(quoteIdent('user', { reservedOk: true }), 'user')
    assert.equal(quoteQualified(['public', 'user']), 'public."user"')
  })

  it('doubles single quotes and leaves backslashes alone', () => {
    assert.equal(quoteLiteral("it's"), "'it''s'")
    assert.equal(quoteLiteral('a\\b'), "'a\\b'")
    assert.equal(quoteLiteral(''), "''")
  })
})
