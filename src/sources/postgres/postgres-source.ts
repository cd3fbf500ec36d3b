import type pg from 'pg'
import type { Lsn } from '../../model/lsn.ts'
import type { PostgresConfig } from '../../model/peer.ts'
import type { TableName, TableSchema } from '../../model/record.ts'
import type {
  ChangeStream,
  CopyFormat,
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

  async validate(): Promise<void> {
    validateSourceInfo(await checkSource(await this.client()))
  }

  async describeTables(tables: readonly TableName[]): Promise<Map<string, TableSchema>> {
    return describeTables(await this.client(), tables)
  }

  ensurePullable(schemas: Iterable<TableSchema>): void {
    ensurePullable(schemas)
  }

  async setup(
    objects: ReplicationObjects,
    tables: readonly TableName[],
    opts: { readonly exportSnapshot: boolean },
  ): Promise<SetupResult> {
    await ensurePublication(await this.client(), objects.publicationName, tables)
    const slot = await createSlot(this.cfg, objects.slotName, opts)
    return { ...slot, publicationName: objects.publicationName }
  }

  async addTables(publicationName: string, tables: readonly TableName[]): Promise<void> {
    await addTablesToPublication(await this.client(), publicationName, tables)
  }

  async planSnapshot(table: TableName, opts: { readonly rowsPerPartition: number }): Promise<SnapshotPlan> {
    return planPartitions(await this.client(), table, opts)
  }

  async readPartition(
    table: TableName,
    columns: readonly string[],
    partition: SnapshotPartition,
    opts: { readonly snapshotName?: string | undefined; readonly format?: CopyFormat },
  ): Promise<PartitionRead> {
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
      finish: async () => {
        try {
          await read.finish()
        } finally {
          await client.end().catch(() => undefined)
        }
      },
    }
  }

  stream(objects: ReplicationObjects, startLsn: Lsn): Promise<ChangeStream> {
    return ReplicationStream.start(this.cfg, {
      slotName: objects.slotName,
      publicationNames: [objects.publicationName],
      startLsn,
    })
  }

  async slotInfo(slotName: string): Promise<SlotInfo> {
    return slotInfo(await this.client(), slotName)
  }

  async teardown(objects: ReplicationObjects): Promise<void> {
    await dropSlotAndPublication(await this.client(), objects)
  }

  async close(): Promise<void> {
    const meta = this.meta
    this.meta = undefined
    if (meta) await (await meta.catch(() => undefined))?.end()
  }
}
