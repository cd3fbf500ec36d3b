/**
 * Changes and snapshot rows → Kafka messages. The message format is documented in README.md ("Kafka target"):
 *
 *   key   = the row's primary key as a JSON object ({"id":1}); null for tables without a key
 *   value = {"op":"c"|"u"|"d"|"r"|"t", "before":{…}|null, "after":{…}|null,
 *            "source":{"lsn":"0/16B3748","seq":0,"xid":731,"commit_time":"…Z","schema":"public","table":"orders"},
 *            "synced_at":"…Z", "unchanged_toast":["col", …] (only when some column is unchanged TOAST)}
 *
 * Rules that keep a keyed topic right:
 * - an update that changes the key is sent as `d` under the old key, then `c` under the new key, so every key's
 *   partition holds its own history and a compacted topic ends with the right rows;
 * - an unchanged TOAST column is left out of `after` and named in `unchanged_toast` (its value was not sent by
 *   the server; it is never reported as null);
 * - a tombstone (same key, null value) may follow each `d` when tombstones are on;
 * - rows of a table without a key carry a null key and all go to partition 0, which keeps them in commit order;
 * - a truncate is one `t` event with a null key on every partition, so each partition's reader sees it in order.
 * The JSON is assembled as text: values come from json-values.ts already exact, and nothing is parsed twice.
 */
import { formatLsn } from '../../model/lsn.ts'
import type { ChangeRecord, Row, Value } from '../../model/record.ts'
import type { SinkTable } from '../sink.ts'
import { jsonEncoder, type JsonEncoder } from './json-values.ts'

export interface OutMessage {
  readonly topic: string
  readonly key: string | null
  /** null: a tombstone. */
  readonly value: string | null
  /** Pinned partition (keyless tables, truncates); otherwise the partitioner decides from the key. */
  readonly partition?: number
}

export interface EventOptions {
  /** Follow each delete with a tombstone for its key. */
  readonly tombstones: boolean
  /** `synced_at` of the events being built (one instant per batch or snapshot chunk). */
  readonly syncedAt: string
  /** Partition count of a topic; needed only for truncates. */
  readonly partitionCount: (topic: string) => number
}

interface ColumnCodec {
  readonly name: string
  /** `"name":`, escaped once. */
  readonly field: string
  readonly encode: JsonEncoder
}

const SNAPSHOT_SOURCE = '"lsn":null,"seq":null,"xid":null,"commit_time":null'

/** Everything about one mapped table that encoding needs, computed once per table schema. */
export class TableCodec {
  readonly topic: string
  private readonly columns: readonly ColumnCodec[]
  private readonly keyColumns: readonly ColumnCodec[]
  /** Positions of the key columns in schema order (COPY rows are arrays). */
  private readonly keyIndexes: readonly number[]
  /** `,"schema":"…","table":"…"}`: the constant tail of every `source` object. */
  private readonly sourceTail: string
  private readonly snapshotSource: string
  /** The `source` object around `seq`, kept while changes of one transaction (one commit LSN) follow each other. */
  private lastLsn: bigint | undefined
  private sourceHead = ''
  private sourceRest = ''

  constructor(table: SinkTable) {
    this.topic = table.destination
    this.columns = table.schema.columns.map((c) => ({
      name: c.name,
      field: `${JSON.stringify(c.name)}:`,
      encode: jsonEncoder(c),
    }))
    this.keyIndexes = table.schema.primaryKey.flatMap((k) => {
      const i = this.columns.findIndex((c) => c.name === k)
      return i === -1 ? [] : [i]
    })
    this.keyColumns = this.keyIndexes.map((i) => this.columns[i] as ColumnCodec)
    this.sourceTail = `,"schema":${JSON.stringify(table.source.schema)},"table":${JSON.stringify(table.source.table)}}`
    this.snapshotSource = `{${SNAPSHOT_SOURCE}${this.sourceTail}`
  }

  get keyed(): boolean {
    return this.keyColumns.length > 0
  }

  /** The row as a JSON object in schema order; columns the row does not carry are left out. */
  rowJson(row: Row): string {
    let out = '{'
    for (const c of this.columns) {
      if (!Object.hasOwn(row, c.name)) continue
      const v = row[c.name] as Value
      if (out.length > 1) out += ','
      out += c.field + (v === null ? 'null' : c.encode(v))
    }
    return `${out}}`
  }

  /** A COPY row (values in schema order) as a JSON object. */
  valuesJson(values: readonly Value[]): string {
    let out = '{'
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i] as ColumnCodec
      const v = values[i] ?? null
      if (i > 0) out += ','
      out += c.field + (v === null ? 'null' : c.encode(v))
    }
    return `${out}}`
  }

  /** The key object; undefined when the row lacks a key column (an old row the server sent without its key). */
  keyJson(row: Row): string | undefined {
    let out = '{'
    for (const c of this.keyColumns) {
      if (!Object.hasOwn(row, c.name)) return undefined
      const v = row[c.name] as Value
      if (out.length > 1) out += ','
      out += c.field + (v === null ? 'null' : c.encode(v))
    }
    return `${out}}`
  }

  private keyedMessage(key: string | undefined, value: string | null): OutMessage {
    return this.keyed
      ? { topic: this.topic, key: key ?? null, value }
      : { topic: this.topic, key: null, value, partition: 0 }
  }

  /** One snapshot row as an `r` event. */
  snapshotMessage(values: readonly Value[], syncedAt: string): OutMessage {
    let key = '{'
    for (let k = 0; k < this.keyIndexes.length; k++) {
      const i = this.keyIndexes[k] as number
      const c = this.columns[i] as ColumnCodec
      const v = values[i] ?? null
      if (k > 0) key += ','
      key += c.field + (v === null ? 'null' : c.encode(v))
    }
    const value = envelope('r', 'null', this.valuesJson(values), this.snapshotSource, syncedAt, '')
    return this.keyedMessage(`${key}}`, value)
  }

  private sourceJson(r: ChangeRecord): string {
    if (r.commitLsn !== this.lastLsn) {
      this.lastLsn = r.commitLsn
      this.sourceHead = `{"lsn":"${formatLsn(r.commitLsn)}","seq":`
      this.sourceRest = `,"xid":${r.xid},"commit_time":${JSON.stringify(r.commitTime)}${this.sourceTail}`
    }
    return `${this.sourceHead}${r.seq}${this.sourceRest}`
  }

  private deleted(
    old: Row,
    key: string | undefined,
    source: string,
    opts: EventOptions,
    out: OutMessage[],
  ): void {
    out.push(this.keyedMessage(key, envelope('d', this.rowJson(old), 'null', source, opts.syncedAt, '')))
    if (opts.tombstones && this.keyed && key !== undefined) out.push({ topic: this.topic, key, value: null })
  }

  /** Appends the messages of one change to `out`, in the order they must be delivered. */
  changeMessages(r: ChangeRecord, opts: EventOptions, out: OutMessage[]): void {
    const source = this.sourceJson(r)
    switch (r.kind) {
      case 'insert':
        out.push(
          this.keyedMessage(
            this.keyJson(r.row),
            envelope('c', 'null', this.rowJson(r.row), source, opts.syncedAt, ''),
          ),
        )
        return
      case 'update': {
        const key = this.keyJson(r.row)
        const oldKey = r.old === undefined || !this.keyed ? undefined : this.keyJson(r.old)
        const toast =
          r.unchangedToast.length > 0 ? `,"unchanged_toast":${JSON.stringify(r.unchangedToast)}` : ''
        if (r.old !== undefined && oldKey !== undefined && oldKey !== key) {
          this.deleted(r.old, oldKey, source, opts, out)
          out.push(
            this.keyedMessage(key, envelope('c', 'null', this.rowJson(r.row), source, opts.syncedAt, toast)),
          )
          return
        }
        const before = r.old === undefined ? 'null' : this.rowJson(r.old)
        out.push(
          this.keyedMessage(key, envelope('u', before, this.rowJson(r.row), source, opts.syncedAt, toast)),
        )
        return
      }
      case 'delete':
        this.deleted(r.old, this.keyJson(r.old), source, opts, out)
        return
      case 'truncate': {
        const value = envelope('t', 'null', 'null', source, opts.syncedAt, '')
        const n = opts.partitionCount(this.topic)
        for (let p = 0; p < n; p++) out.push({ topic: this.topic, key: null, value, partition: p })
        return
      }
    }
  }
}

function envelope(
  op: string,
  before: string,
  after: string,
  source: string,
  syncedAt: string,
  extra: string,
): string {
  return `{"op":"${op}","before":${before},"after":${after},"source":${source},"synced_at":"${syncedAt}"${extra}}`
}

/** `synced_at` text: the wall clock in the same ISO-8601 shape as the other timestamps (six fraction digits). */
export const syncedAtNow = (): string => `${new Date().toISOString().slice(0, -1)}000Z`
