// A ClickHouse target for converter tests: one table `public.t` keyed by `id`, legacy (18.16) dialect.
import type { ColumnSchema } from '../../src/model/record.ts'
import { resolveTarget } from '../../src/sinks/clickhouse/target.ts'

export const col = (name: string, typeName: string, nullable = true): ColumnSchema => ({
  name,
  typeName,
  typeOid: 0,
  typeMod: -1,
  nullable,
})

export const chTarget = (columns: ColumnSchema[]) =>
  resolveTarget(
    {
      source: { schema: 'public', table: 't' },
      destination: 't',
      schema: { name: { schema: 'public', table: 't' }, columns, primaryKey: ['id'], replicaIdentity: 'd' },
      ordering: [],
    },
    { mirror: 'm', syncedAtColumn: '', softDeleteColumn: undefined },
    'legacy',
    'db',
  )
