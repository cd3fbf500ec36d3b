// The catalogue of bad SQL: each input with the SQLSTATE pgmirror must answer. They run against a gateway whose
// catalog holds peers `p1` (source, with table public.t) and `p2` (target) and mirror `m1` (p1 → p2, not started).
// None may change the catalog.
import { catalogSnapshot } from './catalog-snapshot.ts'
import { peerSql, type Rig } from './rig.ts'

export interface BadSqlEnv {
  /** Port and database of the source peer, for inputs that need a reachable Postgres. */
  readonly port: string
  readonly database: string
}

export interface BadSql {
  readonly sql: string | ((env: BadSqlEnv) => string)
  readonly code: string
  readonly why: string
}

const deep = (n: number) => `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`

export const BAD_SQL: readonly BadSql[] = [
  // ---- peers: unknown names, options and types
  {
    why: 'duplicate peer',
    code: '42710',
    sql: (e) =>
      `CREATE PEER p1 FROM POSTGRES WITH (host = '127.0.0.1', port = ${e.port}, user = 'postgres', database = '${e.database}')`,
  },
  {
    why: 'unknown option',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', colour = 'red')`,
  },
  {
    why: 'port not a number',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', port = 'abc')`,
  },
  {
    why: 'port out of range',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', port = 70000)`,
  },
  {
    why: 'negative port',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', port = -1)`,
  },
  { why: 'unknown peer type', code: '42601', sql: `CREATE PEER x FROM MYSQLX WITH (host = 'h')` },
  { why: 'missing WITH', code: '22023', sql: `CREATE PEER x FROM POSTGRES` },
  {
    why: 'option given twice',
    code: '42601',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'a', host = 'b')`,
  },
  { why: 'zero-length identifier', code: '42601', sql: `CREATE PEER "" FROM POSTGRES WITH (host = 'a')` },
  { why: 'kafka without servers', code: '22023', sql: `CREATE PEER k FROM KAFKA WITH (user = 'x')` },
  {
    why: 'clickhouse port not a number',
    code: '22023',
    sql: `CREATE PEER c FROM CLICKHOUSE WITH (host = 'h', port = 'eighty')`,
  },
  {
    why: 'bad sslmode',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', sslmode = 'sometimes')`,
  },
  {
    why: 'bad connect_timeout',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = 'h', user = 'u', connect_timeout = 'soon')`,
  },
  { why: 'drop unknown peer', code: '42704', sql: `DROP PEER nosuch` },
  { why: 'alter unknown peer', code: '42704', sql: `ALTER PEER nosuch SET (host = 'x')` },
  { why: 'alter with unknown option', code: '22023', sql: `ALTER PEER p1 SET (colour = 'x')` },
  { why: 'alter with a wrong type', code: '22023', sql: `ALTER PEER p1 SET (port = 'x')` },
  { why: 'drop a peer in use', code: '2BP01', sql: `DROP PEER p1` },
  { why: 'DELETE FROM peers of a peer in use', code: '2BP01', sql: `DELETE FROM peers WHERE name = 'p1'` },
  // ---- identifiers with quotes, semicolons, Unicode; injection in names and values
  { why: 'unicode name', code: '42704', sql: `DROP PEER "ünï☃"` },
  { why: 'doubled quote in a name', code: '42704', sql: `DROP PEER "a""b"` },
  { why: 'a name of 130 characters', code: '42704', sql: `DROP PEER ${'a'.repeat(130)}` },
  {
    why: 'injection in a peer name',
    code: '22023',
    sql: `CREATE PEER "x; DROP TABLE peers" FROM POSTGRES WITH (host = '127.0.0.1', port = 1, user = 'u', database = 'd')`,
  },
  {
    why: "injection in an option value ('); DROP …)",
    code: '08006',
    sql: (e) =>
      `CREATE PEER x FROM POSTGRES WITH (host = '127.0.0.1', port = ${e.port}, user = 'postgres', database = 'db''); DROP TABLE peers; --')`,
  },
  {
    why: 'injection in a user name',
    code: '08006',
    sql: (e) =>
      `CREATE PEER x FROM POSTGRES WITH (host = '127.0.0.1', port = ${e.port}, user = 'x" SUPERUSER; --', database = '${e.database}')`,
  },
  {
    why: 'a second statement after a failing one',
    code: '22023',
    sql: `CREATE PEER x FROM POSTGRES WITH (host = '127.0.0.1', port = 1); DROP TABLE peers`,
  },
  {
    why: 'injection in a mirror name',
    code: '22023',
    sql: `CREATE MIRROR "m; DROP TABLE mirrors" FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x)`,
  },
  {
    why: 'injection in a table name',
    code: '42P01',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public."t; DROP TABLE x":public.y)`,
  },
  {
    why: 'injection in the slot name',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (replication_slot_name = 'x''; DROP TABLE peers; --')`,
  },
  {
    why: 'injection in the publication name',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (publication_name = 'x''); DROP PUBLICATION y; --')`,
  },
  // ---- mirrors: unknown names and options, wrong types
  {
    why: 'duplicate mirror',
    code: '42710',
    sql: `CREATE MIRROR m1 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.t)`,
  },
  {
    why: 'unknown source peer',
    code: '42704',
    sql: `CREATE MIRROR m2 FROM nosuch TO p2 WITH TABLE MAPPING (public.t:public.t)`,
  },
  {
    why: 'unknown target peer',
    code: '42704',
    sql: `CREATE MIRROR m2 FROM p1 TO nosuch WITH TABLE MAPPING (public.t:public.t)`,
  },
  {
    why: 'unknown table',
    code: '42P01',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.nosuch:public.x)`,
  },
  {
    why: 'integer option given a word',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (max_batch_size = 'big')`,
  },
  {
    why: 'negative batch size',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (max_batch_size = -1)`,
  },
  {
    why: 'batch size beyond int8',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (max_batch_size = 99999999999999999999999)`,
  },
  {
    why: 'boolean option given a word',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (do_initial_copy = 'perhaps')`,
  },
  {
    why: 'unknown mirror option',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (colour = 1)`,
  },
  {
    why: 'slot name with capitals and a dash',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (replication_slot_name = 'Bad-Slot')`,
  },
  {
    why: 'a source table mapped twice',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x, public.t:public.y)`,
  },
  {
    why: 'regression: a dot inside the destination schema silently named another table',
    code: '22023',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:"we.ird".t)`,
  },
  { why: 'empty mapping', code: '42601', sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING ()` },
  {
    why: 'a number that is not one',
    code: '42601',
    sql: `CREATE MIRROR m2 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.x) WITH (sync_interval = 1e999)`,
  },
  { why: 'pause unknown mirror', code: '42704', sql: `PAUSE MIRROR nosuch` },
  { why: 'show unknown mirror', code: '42704', sql: `SHOW MIRROR nosuch` },
  { why: 'alter mirror with a wrong type', code: '22023', sql: `ALTER MIRROR m1 SET (max_batch_size = 'x')` },
  { why: 'alter mirror with unknown option', code: '22023', sql: `ALTER MIRROR m1 SET (colour = 1)` },
  { why: 'alter unknown mirror', code: '42704', sql: `ALTER MIRROR nosuch SET (max_batch_size = 5)` },
  {
    why: 'add a table already mapped',
    code: '42710',
    sql: `ALTER MIRROR m1 ADD TABLE MAPPING (public.t:public.t)`,
  },
  { why: 'resync unknown mirror', code: '42704', sql: `RESYNC MIRROR nosuch` },
  { why: 'drop unknown mirror', code: '42704', sql: `DROP MIRROR nosuch` },
  { why: 'incomplete CREATE MIRROR', code: '42601', sql: `CREATE MIRROR` },
  { why: 'incomplete CREATE PEER', code: '42601', sql: `CREATE PEER` },
  { why: 'incomplete PAUSE', code: '42601', sql: `PAUSE MIRROR` },
  // ---- hidden tables, catalog writes, the catalog host
  { why: 'read peer_secrets', code: '42501', sql: `SELECT * FROM peer_secrets` },
  { why: 'read public.peer_secrets', code: '42501', sql: `SELECT * FROM public.peer_secrets` },
  { why: 'read "peer_secrets"', code: '42501', sql: `SELECT * FROM "peer_secrets"` },
  {
    why: 'join peer_secrets',
    code: '42501',
    sql: `SELECT payload FROM peers p JOIN peer_secrets s ON s.peer_id = p.id`,
  },
  { why: 'peer_secrets spelled with U& escapes', code: '42501', sql: `SELECT * FROM U&"peer\\005fsecrets"` },
  {
    why: 'peer_secrets read by query_to_xml from assembled text',
    code: '42501',
    sql: `SELECT query_to_xml('select * from peer' || '_secrets', true, true, '')`,
  },
  {
    why: 'database_to_xml dumps every table',
    code: '42501',
    sql: `SELECT database_to_xml(true, true, '')`,
  },
  {
    why: 'column statistics of peer_secrets',
    code: '42501',
    sql: `SELECT * FROM pg_stats WHERE tablename = 'peer_secrets'`,
  },
  { why: 'role password hashes', code: '42501', sql: `SELECT rolname, rolpassword FROM pg_authid` },
  { why: 'the queue tables', code: '42501', sql: `SELECT * FROM bullmq.job` },
  { why: 'a file of the catalog host', code: '42501', sql: `SELECT pg_read_file('/etc/hostname')` },
  { why: 'a file into a large object', code: '42501', sql: `SELECT lo_import('/etc/hostname')` },
  {
    why: 'COPY to a file of the catalog host',
    code: '42501',
    sql: `COPY peers TO '/tmp/pgmirror_reliability_copy'`,
  },
  {
    why: 'COPY to a program on the catalog host',
    code: '42501',
    sql: `COPY (SELECT 1) TO PROGRAM 'touch /tmp/pgmirror_reliability_program'`,
  },
  { why: 'a DO block', code: '42501', sql: `DO $$ BEGIN PERFORM 1; END $$` },
  {
    why: 'session authorization by set_config',
    code: '42501',
    sql: `SELECT set_config('session_authorization', 'postgres', true)`,
  },
  {
    why: 'an advisory lock that outlives the statement',
    code: '42501',
    sql: `SELECT pg_advisory_lock(7431, 1)`,
  },
  { why: 'terminate a backend', code: '42501', sql: `SELECT pg_terminate_backend(pg_backend_pid())` },
  {
    why: 'insert into peers',
    code: '25006',
    sql: `INSERT INTO peers (name, type, type_name, config) VALUES ('x', 3, 'POSTGRES', '{}')`,
  },
  { why: 'update peers', code: '25006', sql: `UPDATE peers SET name = 'y'` },
  { why: 'delete all mirrors', code: '25006', sql: `DELETE FROM mirrors` },
  { why: 'drop a catalog table', code: '25006', sql: `DROP TABLE peers` },
  { why: 'truncate a catalog table', code: '25006', sql: `TRUNCATE peers` },
  { why: 'create a table in the catalog', code: '25006', sql: `CREATE TABLE evil (x int)` },
  {
    why: 'nextval on a catalog sequence (the reader role has no USAGE on it)',
    code: '42501',
    sql: `SELECT nextval('peers_id_seq')`,
  },
  { why: 'row locks in the catalog', code: '25006', sql: `SELECT * FROM peers FOR UPDATE` },
  { why: 'a write after a read in one query string', code: '25006', sql: `SELECT 1; DROP TABLE peers` },
  // ---- peers in queries
  {
    why: 'a query naming two peers',
    code: '0A000',
    sql: `SELECT * FROM p1.public.t JOIN p2.public.t USING (id)`,
  },
  { why: 'a three-part name that is no peer', code: '0A000', sql: `SELECT * FROM nosuch.public.t` },
  { why: 'EXECUTE on an unknown peer', code: '42704', sql: `EXECUTE nosuch('SELECT 1')` },
  { why: 'an unknown table on a peer', code: '42P01', sql: `SELECT * FROM p1.public.nosuch` },
  { why: 'nesting 100,000 deep (Postgres refuses it: memory exhausted)', code: '42601', sql: deep(100_000) },
]

/** The catalog `BAD_SQL` expects: table public.t on the source, peers p1 and p2, mirror m1 (not started). */
export async function prepareBadSql(rig: Rig): Promise<BadSqlEnv> {
  await rig.src('CREATE TABLE public.t (id int PRIMARY KEY, v text)')
  await rig.sql(peerSql('p1', rig.source))
  await rig.sql(peerSql('p2', rig.target))
  await rig.sql('CREATE MIRROR m1 FROM p1 TO p2 WITH TABLE MAPPING (public.t:public.t)')
  return { port: new URL(rig.source.url).port, database: rig.source.name }
}

/**
 * Runs every statement of `BAD_SQL` on one gateway connection and compares the catalog (read directly) with its
 * state before, after each one. `failures` names each wrong SQLSTATE and each catalog change.
 */
export async function runBadSql(
  rig: Rig,
  env: BadSqlEnv,
): Promise<{ inputs: number; refusedAsExpected: number; failures: string[] }> {
  const baseline = JSON.stringify(await catalogSnapshot(rig.catalog.url))
  const client = await rig.gateway()
  const failures: string[] = []
  let refusedAsExpected = 0
  try {
    for (const c of BAD_SQL) {
      const sql = typeof c.sql === 'function' ? c.sql(env) : c.sql
      const got = await client.query(sql).then(
        () => 'no error',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      )
      const unchanged = JSON.stringify(await catalogSnapshot(rig.catalog.url)) === baseline
      if (!got.startsWith(`${c.code}:`)) {
        failures.push(`${c.why}: expected ${c.code}, got ${got}\n    ${sql.slice(0, 200)}`)
      }
      if (!unchanged) failures.push(`${c.why}: the catalog changed`)
      if (got.startsWith(`${c.code}:`) && unchanged) refusedAsExpected++
    }
    const r = await client.query('SELECT 1 AS one')
    if (r.rows[0]?.one !== '1') failures.push('the connection stopped answering after the catalogue')
  } finally {
    await client.end()
  }
  return { inputs: BAD_SQL.length, refusedAsExpected, failures }
}
