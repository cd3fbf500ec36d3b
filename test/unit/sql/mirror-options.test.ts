import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PgMirrorError } from '../../../src/errors.ts'
import type { CreateMirror } from '../../../src/sql/ast.ts'
import {
  MIRROR_OPTION_DEFAULTS,
  MIRROR_OPTIONS,
  validateMirrorOptionChanges,
  validateMirrorOptions,
} from '../../../src/sql/mirror-options.ts'
import { optionRecord } from '../../../src/sql/option-values.ts'
import { parseExtension } from '../../../src/sql/parse.ts'
import { parseQualifiedName, toTableMappings } from '../../../src/sql/table-mappings.ts'

function rejects(fn: () => unknown, state: string, message: RegExp, field?: string): void {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof PgMirrorError, `expected a PgMirrorError, got ${String(caught)}`)
  assert.equal(caught.sqlState, state)
  assert.match(caught.message, message)
  if (field !== undefined) assert.equal(caught.field, field)
}

const fromSql = (sql: string) => {
  const stmt = parseExtension(sql) as CreateMirror
  return {
    options: validateMirrorOptions(optionRecord(stmt.options), 'sql'),
    mappings: toTableMappings(stmt.mappings),
  }
}

describe('validateMirrorOptions', () => {
  it('gives every default when nothing is set', () => {
    assert.deepStrictEqual(validateMirrorOptions({}, 'sql'), {
      do_initial_copy: true,
      initial_snapshot_only: false,
      max_batch_size: 100000,
      sync_interval: 10,
      snapshot_num_rows_per_partition: 250000,
      snapshot_max_parallel_workers: 4,
      snapshot_num_tables_in_parallel: 1,
      soft_delete: false,
      soft_delete_col_name: '_PEERDB_IS_DELETED',
      synced_at_col_name: '_PEERDB_SYNCED_AT',
      resync: false,
    })
  })

  it('documents every option with the default it applies', () => {
    const applied = new Map(Object.entries(validateMirrorOptions({}, 'sql')))
    for (const o of MIRROR_OPTIONS) assert.equal(o.default, applied.get(o.name) ?? null, o.name)
    assert.equal(MIRROR_OPTIONS.length, Object.keys(MIRROR_OPTION_DEFAULTS).length + 2)
  })

  it('reads every option from SQL', () => {
    const { options } = fromSql(
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (t:t) WITH (do_initial_copy = true, initial_snapshot_only = true, ' +
        "publication_name = 'my_pub', replication_slot_name = 'my_slot_1', max_batch_size = 5000, sync_interval = '30', " +
        'snapshot_num_rows_per_partition = 1000, snapshot_max_parallel_workers = 8, snapshot_num_tables_in_parallel = 2, ' +
        "soft_delete = 'true', soft_delete_col_name = 'deleted', synced_at_col_name = '', resync = false)",
    )
    assert.deepStrictEqual(options, {
      do_initial_copy: true,
      initial_snapshot_only: true,
      publication_name: 'my_pub',
      replication_slot_name: 'my_slot_1',
      max_batch_size: 5000,
      sync_interval: 30,
      snapshot_num_rows_per_partition: 1000,
      snapshot_max_parallel_workers: 8,
      snapshot_num_tables_in_parallel: 2,
      soft_delete: true,
      soft_delete_col_name: 'deleted',
      synced_at_col_name: '',
      resync: false,
    })
  })

  it('accepts the PeerDB aliases', () => {
    const o = validateMirrorOptions(
      { do_initial_snapshot: false, initial_copy_only: false, idle_timeout_seconds: 60 },
      'sql',
    )
    assert.equal(o.do_initial_copy, false)
    assert.equal(o.sync_interval, 60)
  })

  it('accepts camelCase keys over REST', () => {
    const o = validateMirrorOptions(
      { doInitialSnapshot: false, maxBatchSize: 10, idleTimeoutSeconds: 5 },
      'rest',
    )
    assert.deepStrictEqual([o.do_initial_copy, o.max_batch_size, o.sync_interval], [false, 10, 5])
  })

  it('rejects an option and its alias together', () => {
    rejects(
      () => validateMirrorOptions({ sync_interval: 1, idle_timeout_seconds: 2 }, 'sql'),
      '22023',
      /"sync_interval" specified more than once/,
    )
  })

  it('rejects initial_snapshot_only without do_initial_copy', () => {
    rejects(
      () => validateMirrorOptions({ do_initial_copy: false, initial_snapshot_only: true }, 'sql'),
      '22023',
      /initial_snapshot_only/,
      'initial_snapshot_only',
    )
  })

  it('rejects unknown keys', () => {
    rejects(
      () => validateMirrorOptions({ batch_size: 1 }, 'sql'),
      '22023',
      /unrecognized mirror option "batch_size"/,
      'batch_size',
    )
  })

  for (const [key, value] of [
    ['do_initial_copy', 'maybe'],
    ['soft_delete', 1],
    ['resync', 'yes'],
    ['max_batch_size', 0],
    ['max_batch_size', '10k'],
    ['sync_interval', 0],
    ['sync_interval', 1.5],
    ['snapshot_num_rows_per_partition', -5],
    ['snapshot_max_parallel_workers', 0],
    ['snapshot_num_tables_in_parallel', 2147483648],
    ['publication_name', 'My-Pub'],
    ['replication_slot_name', 'a'.repeat(64)],
    ['soft_delete_col_name', 'x'.repeat(64)],
    ['synced_at_col_name', 'y'.repeat(64)],
  ] as const) {
    it(`rejects ${key} = ${String(value).slice(0, 20)}`, () => {
      rejects(
        () => validateMirrorOptions({ [key]: value }, 'sql'),
        '22023',
        new RegExp(`^invalid value for option "${key}"`),
        key,
      )
    })
  }
})

describe('validateMirrorOptionChanges', () => {
  it('returns only the keys given', () => {
    assert.deepStrictEqual(
      validateMirrorOptionChanges({ max_batch_size: 10, idle_timeout_seconds: 3 }, 'sql'),
      {
        max_batch_size: 10,
        sync_interval: 3,
      },
    )
  })

  it('refuses options a live mirror cannot change', () => {
    rejects(
      () => validateMirrorOptionChanges({ publication_name: 'p' }, 'sql'),
      '0A000',
      /"publication_name" cannot be changed/,
      'publication_name',
    )
  })

  it('still validates values and keys', () => {
    rejects(() => validateMirrorOptionChanges({ max_batch_size: 0 }, 'sql'), '22023', /max_batch_size/)
    rejects(() => validateMirrorOptionChanges({ nope: 1 }, 'sql'), '22023', /unrecognized/)
  })
})

describe('toTableMappings', () => {
  it('puts unqualified sources in public and joins destination parts', () => {
    const { mappings } = fromSql(
      'CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (orders:orders, "S"."T":x.y, ' +
        "{from: s.u, to: 'topic-u', key: id, exclude: [big], columns: [{name: b, ordering: 2}, {name: a, ordering: 1}]})",
    )
    assert.deepStrictEqual(mappings, [
      { source: { schema: 'public', table: 'orders' }, destination: 'orders', exclude: [], columns: [] },
      { source: { schema: 'S', table: 'T' }, destination: 'x.y', exclude: [], columns: [] },
      {
        source: { schema: 's', table: 'u' },
        destination: 'topic-u',
        exclude: ['big'],
        partitionKey: 'id',
        columns: [
          { name: 'a', ordering: 1 },
          { name: 'b', ordering: 2 },
        ],
      },
    ])
  })

  const bad: [string, RegExp][] = [
    ['public.t:a, t:b', /source table public\.t is mapped more than once/],
    ['a:x, b:x', /destination "x" is the target of more than one/],
    ["a:''", /empty destination/],
    ['{from: a, to: b, exclude: [c, c]}', /"c" is excluded more than once/],
    ['{from: a, to: b, key: c, exclude: [c]}', /partition key "c" is also excluded/],
    ['{from: a, to: b, columns: [{name: c, ordering: 0}]}', /orderings start at 1/],
    [
      '{from: a, to: b, columns: [{name: c, ordering: 1}, {name: c, ordering: 2}]}',
      /"c" is listed more than once/,
    ],
    [
      '{from: a, to: b, columns: [{name: c, ordering: 1}, {name: d, ordering: 1}]}',
      /ordering 1 is used more than once/,
    ],
    ['{from: a, to: b, exclude: [c], columns: [{name: c, ordering: 1}]}', /both ordered and excluded/],
  ]
  for (const [mapping, message] of bad) {
    it(`rejects ${mapping}`, () => {
      rejects(
        () => fromSql(`CREATE MIRROR m FROM a TO b WITH TABLE MAPPING (${mapping})`),
        '22023',
        message,
        'table_mappings',
      )
    })
  }
})

describe('parseQualifiedName', () => {
  it('normalises like SQL', () => {
    assert.deepStrictEqual(parseQualifiedName('Public.Orders'), ['public', 'orders'])
    assert.deepStrictEqual(parseQualifiedName('"My Schema"."T"""'), ['My Schema', 'T"'])
    assert.deepStrictEqual(parseQualifiedName(' t '), ['t'])
  })

  for (const text of ['', 'a.b.c', 'a.', '.a', 'a b', '"open', "'str'", 'a.b;']) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      rejects(() => parseQualifiedName(text), '22023', /invalid table name/))
  }
})
