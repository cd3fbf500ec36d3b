import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ColumnSchema } from '../../../../src/model/record.ts'
import {
  addColumnSql,
  bookkeepingSql,
  createTableSql,
  engineSql,
} from '../../../../src/sinks/clickhouse/ddl.ts'
import type { Dialect } from '../../../../src/sinks/clickhouse/server-version.ts'
import { resolveTarget } from '../../../../src/sinks/clickhouse/target.ts'
import { mapType } from '../../../../src/sinks/clickhouse/type-map.ts'
import type { SinkSettings, SinkTable } from '../../../../src/sinks/sink.ts'

const col = (name: string, typeName: string, nullable = true): ColumnSchema => ({
  name,
  typeName,
  typeOid: 0,
  typeMod: -1,
  nullable,
})

const COLUMNS: ColumnSchema[] = [
  col('id', 'bigint', false),
  col('i2', 'smallint'),
  col('i4', 'integer'),
  col('num', 'numeric(12,2)'),
  col('num_wide', 'numeric(50,5)'),
  col('num_any', 'numeric'),
  col('f4', 'real'),
  col('f8', 'double precision'),
  col('txt', 'text'),
  col('b', 'boolean'),
  col('d', 'date'),
  col('ts', 'timestamp(3) without time zone'),
  col('tstz', 'timestamp with time zone'),
  col('u', 'uuid'),
  col('jb', 'jsonb'),
  col('by', 'bytea'),
  col('ia', 'integer[]'),
  col('Odd `name`', 'text'),
]

const table = (ordering: SinkTable['ordering'] = [], pk = ['id']): SinkTable => ({
  source: { schema: 'public', table: 't' },
  destination: 't',
  schema: { name: { schema: 'public', table: 't' }, columns: COLUMNS, primaryKey: pk, replicaIdentity: 'd' },
  ordering,
})

const settings: SinkSettings = {
  mirror: 'm',
  syncedAtColumn: '_PEERDB_SYNCED_AT',
  softDeleteColumn: undefined,
}
const target = (dialect: Dialect, t = table(), s = settings) => resolveTarget(t, s, dialect, 'db')

describe('ClickHouse DDL', () => {
  it('legacy servers (18.16): String for temporal types, UInt8 booleans, version-only engine', () => {
    assert.equal(
      createTableSql(target('legacy')),
      `CREATE TABLE IF NOT EXISTS \`db\`.\`t\` (
  \`id\` Int64 COMMENT 'bigint',
  \`i2\` Nullable(Int16) COMMENT 'smallint',
  \`i4\` Nullable(Int32) COMMENT 'integer',
  \`num\` Nullable(Decimal(12, 2)) COMMENT 'numeric(12,2)',
  \`num_wide\` Nullable(String) COMMENT 'numeric(50,5)',
  \`num_any\` Nullable(String) COMMENT 'numeric',
  \`f4\` Nullable(Float32) COMMENT 'real',
  \`f8\` Nullable(Float64) COMMENT 'double precision',
  \`txt\` Nullable(String) COMMENT 'text',
  \`b\` Nullable(UInt8) COMMENT 'boolean',
  \`d\` Nullable(String) COMMENT 'date',
  \`ts\` Nullable(String) COMMENT 'timestamp(3) without time zone',
  \`tstz\` Nullable(String) COMMENT 'timestamp with time zone',
  \`u\` Nullable(UUID) COMMENT 'uuid',
  \`jb\` Nullable(String) COMMENT 'jsonb',
  \`by\` Nullable(String) COMMENT 'bytea',
  \`ia\` Array(Nullable(Int32)) COMMENT 'integer[]',
  \`Odd \\\`name\\\`\` Nullable(String) COMMENT 'text',
  \`_pgmirror_null_arrays\` Array(String) COMMENT 'names of the array columns that are NULL in this row (ClickHouse arrays cannot be NULL; they read as [])',
  \`_PEERDB_SYNCED_AT\` DateTime DEFAULT now(),
  \`_peerdb_is_deleted\` UInt8 DEFAULT 0,
  \`_peerdb_version\` UInt64 DEFAULT 0
) ENGINE = ReplacingMergeTree(\`_peerdb_version\`) ORDER BY (\`id\`)`,
    )
  })

  it('modern servers (23.2+): DateTime64(6), Date32, Bool, Decimal up to 76 digits, is_deleted in the engine', () => {
    const sql = createTableSql(target('modern'))
    for (const piece of [
      "`num_wide` Nullable(Decimal(50, 5)) COMMENT 'numeric(50,5)'",
      "`num_any` Nullable(String) COMMENT 'numeric'",
      "`b` Nullable(Bool) COMMENT 'boolean'",
      "`d` Nullable(Date32) COMMENT 'date'",
      "`ts` Nullable(DateTime64(6, 'UTC')) COMMENT 'timestamp(3) without time zone'",
      "`tstz` Nullable(DateTime64(6, 'UTC')) COMMENT 'timestamp with time zone'",
      '`_PEERDB_SYNCED_AT` DateTime64(9) DEFAULT now64(9)',
      'ENGINE = ReplacingMergeTree(`_peerdb_version`, `_peerdb_is_deleted`) ORDER BY (`id`)',
    ])
      assert.ok(sql.includes(piece), `missing ${piece} in\n${sql}`)
  })

  it('soft delete names the flag column and keeps deleted rows visible under FINAL', () => {
    const soft = { ...settings, softDeleteColumn: '_PEERDB_IS_DELETED' }
    const t = target('modern', table(), soft)
    assert.equal(t.isDeleted, '_PEERDB_IS_DELETED')
    assert.equal(engineSql(t), 'ReplacingMergeTree(`_peerdb_version`)')
    assert.ok(createTableSql(t).includes('`_PEERDB_IS_DELETED` UInt8 DEFAULT 0'))
  })

  it('ordering columns lead ORDER BY, the remaining key columns follow, and none of them is Nullable', () => {
    const t = target(
      'legacy',
      table([
        { name: 'txt', ordering: 2 },
        { name: 'u', ordering: 1 },
      ]),
    )
    assert.deepEqual(t.orderBy, ['u', 'txt', 'id'])
    assert.equal(t.movable, true)
    const sql = createTableSql(t)
    assert.ok(sql.endsWith('ORDER BY (`u`, `txt`, `id`)'))
    assert.ok(sql.includes("`txt` String COMMENT 'text'"))
    assert.ok(sql.includes("`u` UUID COMMENT 'uuid'"))
  })

  it('a table without a primary key is keyed by its ordering columns, and refused without them', () => {
    const keyed = target('legacy', table([{ name: 'u', ordering: 1 }], []))
    assert.deepEqual(keyed.identity, ['u'])
    assert.equal(keyed.movable, false)
    assert.throws(() => target('legacy', table([], [])), { kind: 'feature_not_supported' })
  })

  it('no synced-at column when the setting is empty; a replicated column may not clash with an added one', () => {
    const t = target('legacy', table(), { ...settings, syncedAtColumn: '' })
    assert.ok(!createTableSql(t).includes('SYNCED'))
    assert.throws(() => target('legacy', table(), { ...settings, syncedAtColumn: 'txt' }), {
      kind: 'invalid_parameter_value',
    })
  })

  it('added columns get their comment in a separate statement (18.16 drops one given in ADD COLUMN)', () => {
    const t = target('legacy')
    assert.deepEqual(addColumnSql(t, t.columns[3]!), [
      'ALTER TABLE `db`.`t` ADD COLUMN `num` Nullable(Decimal(12, 2))',
      "ALTER TABLE `db`.`t` COMMENT COLUMN `num` 'numeric(12,2)'",
    ])
  })

  it('a destination db.table names its database; the bookkeeping tables live in the peer database', () => {
    const t = resolveTarget({ ...table(), destination: 'analytics.events' }, settings, 'legacy', 'db')
    assert.equal(t.sql, '`analytics`.`events`')
    const [checkpoints, partitions] = bookkeepingSql('db')
    assert.match(
      checkpoints!,
      /`db`\.`_pgmirror_checkpoints`[\s\S]*ReplacingMergeTree\(batch_id\) ORDER BY mirror/,
    )
    assert.match(
      partitions!,
      /`db`\.`_pgmirror_snapshot_partitions`[\s\S]*ORDER BY \(mirror, destination, partition_id\)/,
    )
  })
})

describe('ClickHouse type map', () => {
  it('maps arrays to Array(Nullable(T)), except box[] (semicolon-separated) which stays text', () => {
    const sql = (t: string, nullable = true) => mapType(t, 'legacy', nullable).sql
    assert.equal(sql('integer[]'), 'Array(Nullable(Int32))')
    assert.equal(sql('integer[][]'), 'Array(Nullable(Int32))')
    assert.equal(sql('numeric(10,2)[]'), 'Array(Nullable(Decimal(10, 2)))')
    assert.equal(sql('character varying(5)[]'), 'Array(Nullable(String))')
    assert.equal(sql('box[]'), 'Nullable(String)')
    assert.equal(sql('numeric(5,-2)'), 'Nullable(String)')
    assert.equal(sql('numeric(39,2)'), 'Nullable(String)')
    assert.equal(mapType('numeric(39,2)', 'modern', false).sql, 'Decimal(39, 2)')
    assert.equal(sql('mood'), 'Nullable(String)')
    assert.equal(sql('time without time zone', false), 'String')
  })
})
