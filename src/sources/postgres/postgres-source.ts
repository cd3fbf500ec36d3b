import type pg from 'pg'
import { toPgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import type { TableName, TableSchema } from '../../model/record.ts'
import type {
  ChangeStream,
  CopyFormat,
  ExportedSnapshot,
  PartitionRead,
  ReplicationObjects,
  SetupResult,
  SlotInfo,
  SnapshotPartition,
  SnapshotPlan,
  Source,
} from '../source.ts'
import { openClient } from './connect.ts'
import { checkSource, describeTables, ensurePullable, validateSourceInfo } from './introspect.ts'
import { ReplicationStream } from './replication-stream.ts'
import {
  addTablesToPublication,
  createSlot,
  dropSlotAndPublication,
  ensurePublication,
  slotInfo,
} from './slot.ts'
import { copyPartitionOut, planPartitions } from './snapshot.ts'

/** Every method rejects with a PgMirrorError; server errors keep their SQLSTATE (see toPgMirrorError). */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw toPgMirrorError(e)
  }
}

/**
 * The Postgres Source: one lazily opened metadata connection, plus a connection of its own for each partition
 * read, each change stream and each slot holding an exported snapshot.
 */
export class PostgresSource implements Source {
  private meta: Promise<pg.Client> | undefined

  constructor(private readonly cfg: PostgresConfig) {}

  private client(): Promise<pg.Client> {
    this.meta ??= openClient(this.cfg).catch((e: unknown) => {
      this.meta = undefined
      throw e
    })
    return this.meta
  }

  validate(): Promise<void> {
    return guarded(async () => validateSourceInfo(await checkSource(await this.client())))
  }

  describeTables(tables: readonly TableName[]): Promise<Map<string, TableSchema>> {
    return guarded(async () => describeTables(await this.client(), tables))
  }

  ensurePullable(schemas: Iterable<TableSchema>): void {
    ensurePullable(schemas)
  }

  setup(
    objects: ReplicationObjects,
    tables: readonly TableName[],
    opts: { readonly exportSnapshot: boolean },
  ): Promise<SetupResult> {
    return guarded(async () => {
      await ensurePublication(await this.client(), objects.publicationName, tables)
      const slot = await createSlot(this.cfg, objects.slotName, opts)
      return { ...slot, publicationName: objects.publicationName }
    })
  }

  exportSnapshot(): Promise<ExportedSnapshot> {
    return guarded(async () => {
      // A plain connection in a REPEATABLE READ transaction: its snapshot stays importable while it is open and idle.
      const c = await openClient(this.cfg, { applicationName: 'pgmirror_snapshot' })
      try {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        const r = await c.query<{ name: string }>('SELECT pg_export_snapshot() AS name')
        let released = false
        return {
          snapshotName: r.rows[0]!.name,
          release: async () => {
            if (released) return
            released = true
            await c.query('COMMIT').catch(() => undefined)
            await c.end().catch(() => undefined)
          },
        }
      } catch (e) {
        await c.end().catch(() => undefined)
        throw e
      }
    })
  }

  addTables(publicationName: string, tables: readonly TableName[]): Promise<void> {
    return guarded(async () => addTablesToPublication(await this.client(), publicationName, tables))
  }

  planSnapshot(table: TableName, opts: { readonly rowsPerPartition: number }): Promise<SnapshotPlan> {
    return guarded(async () => planPartitions(await this.client(), table, opts))
  }

  readPartition(
    table: TableName,
    columns: readonly string[],
    partition: SnapshotPartition,
    opts: { readonly snapshotName?: string | undefined; readonly format?: CopyFormat },
  ): Promise<PartitionRead> {
    return guarded(async () => {
      const client = await openClient(this.cfg)
      let read: PartitionRead
      try {
        read = await copyPartitionOut(client, table, columns, partition, opts)
      } catch (e) {
        await client.end().catch(() => undefined)
        throw e
      }
      return {
        stream: read.stream,
        finish: () =>
          guarded(async () => {
            try {
              await read.finish()
            } finally {
              await client.end().catch(() => undefined)
            }
          }),
      }
    })
  }

  stream(objects: ReplicationObjects, startLsn: Lsn): Promise<ChangeStream> {
    // ReplicationStream reports its own failures as PgMirrorErrors.
    return ReplicationStream.start(this.cfg, {
      slotName: objects.slotName,
      publicationNames: [objects.publicationName],
      startLsn,
    })
  }

  slotInfo(slotName: string): Promise<SlotInfo> {
    return guarded(async () => slotInfo(await this.client(), slotName))
  }

  teardown(objects: ReplicationObjects): Promise<void> {
    return guarded(async () => dropSlotAndPublication(await this.client(), objects))
  }

  async close(): Promise<void> {
    const meta = this.meta
    this.meta = undefined
    if (meta) await (await meta.catch(() => undefined))?.end()
  }
}
