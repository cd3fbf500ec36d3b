import { PgMirrorError } from '../../errors.ts'
import type { Lsn } from '../../model/lsn.ts'
import type { ChangeRecord, Row, TableName, Value } from '../../model/record.ts'
import type { RelationInfo, StreamEvent } from '../source.ts'
import { formatPgTimestamp } from './commit-time.ts'
import { UNCHANGED_TOAST } from './pgoutput.ts'
import { setColumn } from './row.ts'
import type { PgoutputMessage, Tuple } from './pgoutput.ts'

interface OpenTransaction {
  readonly commitLsn: Lsn
  readonly xid: number
  readonly commitTime: string
  readonly changes: ChangeRecord[]
}

/**
 * Turns pgoutput messages into whole transactions. Pure state machine (no I/O): feed messages in order with
 * push(); it returns the event a message completes. Keeps the relation cache the protocol relies on.
 *
 *   idle ──Begin──► in transaction ──Insert/Update/Delete/Truncate──► (collect) ──Commit──► idle (yield)
 */
export class TransactionAssembler {
  private readonly relations = new Map<number, RelationInfo>()
  private open: OpenTransaction | undefined

  get inTransaction(): boolean {
    return this.open !== undefined
  }

  push(msg: PgoutputMessage): StreamEvent | undefined {
    switch (msg.tag) {
      case 'begin':
        if (this.open) throw new PgMirrorError('protocol_violation', 'BEGIN inside an open transaction')
        this.open = {
          commitLsn: msg.finalLsn,
          xid: msg.xid,
          commitTime: formatPgTimestamp(msg.commitTime),
          changes: [],
        }
        return undefined
      case 'commit': {
        const tx = this.requireOpen('COMMIT')
        if (msg.commitLsn !== tx.commitLsn) {
          throw new PgMirrorError('protocol_violation', 'COMMIT LSN does not match BEGIN')
        }
        this.open = undefined
        return {
          kind: 'transaction',
          commitLsn: tx.commitLsn,
          endLsn: msg.endLsn,
          xid: tx.xid,
          commitTime: tx.commitTime,
          changes: tx.changes,
        }
      }
      case 'relation': {
        const relation: RelationInfo = {
          relationOid: msg.relationOid,
          table: { schema: msg.schema === '' ? 'pg_catalog' : msg.schema, table: msg.name },
          replicaIdentity: msg.replicaIdentity,
          columns: msg.columns,
        }
        this.relations.set(msg.relationOid, relation)
        return { kind: 'relation', relation }
      }
      case 'insert': {
        const tx = this.requireOpen('INSERT')
        const rel = this.relation(msg.relationOid)
        const { row } = this.newRow(rel, msg.newTuple, undefined)
        const { commitLsn, xid, commitTime } = tx
        // A literal rather than a spread of shared fields: this runs once per row and dominates decode time.
        tx.changes.push({
          kind: 'insert',
          table: rel.table,
          commitLsn,
          seq: tx.changes.length,
          xid,
          commitTime,
          row,
        })
        return undefined
      }
      case 'update': {
        const tx = this.requireOpen('UPDATE')
        const rel = this.relation(msg.relationOid)
        const old = msg.oldTuple && this.oldRow(rel, msg.oldTuple, msg.oldKind === 'key')
        // With REPLICA IDENTITY FULL the old row is complete, so untouched TOAST values are taken from it.
        const { row, unchangedToast } = this.newRow(
          rel,
          msg.newTuple,
          msg.oldKind === 'old' ? old : undefined,
        )
        tx.changes.push({ ...this.base(tx, rel.table), kind: 'update', row, old, unchangedToast })
        return undefined
      }
      case 'delete': {
        const tx = this.requireOpen('DELETE')
        const rel = this.relation(msg.relationOid)
        const old = this.oldRow(rel, msg.oldTuple, msg.oldKind === 'key')
        tx.changes.push({ ...this.base(tx, rel.table), kind: 'delete', old })
        return undefined
      }
      case 'truncate': {
        const tx = this.requireOpen('TRUNCATE')
        for (const oid of msg.relationOids) {
          tx.changes.push({ ...this.base(tx, this.relation(oid).table), kind: 'truncate' })
        }
        return undefined
      }
      // Origins (cascaded replication), type descriptions (we keep text values, so type names are not
      // needed) and logical messages (not requested) carry nothing a mirror applies.
      case 'origin':
      case 'type':
      case 'message':
        return undefined
    }
  }

  private requireOpen(what: string): OpenTransaction {
    if (!this.open) throw new PgMirrorError('protocol_violation', `${what} outside a transaction`)
    return this.open
  }

  private relation(oid: number): RelationInfo {
    const rel = this.relations.get(oid)
    // The server always describes a relation before its first change on a connection.
    if (!rel) throw new PgMirrorError('protocol_violation', `change for unknown relation ${oid}`)
    return rel
  }

  private base(tx: OpenTransaction, table: TableName) {
    return { table, commitLsn: tx.commitLsn, seq: tx.changes.length, xid: tx.xid, commitTime: tx.commitTime }
  }

  private checkWidth(rel: RelationInfo, tuple: Tuple): void {
    if (tuple.length > rel.columns.length) {
      throw new PgMirrorError(
        'protocol_violation',
        `tuple has ${tuple.length} columns, relation "${rel.table.schema}.${rel.table.table}" has ${rel.columns.length}`,
      )
    }
  }

  private newRow(
    rel: RelationInfo,
    tuple: Tuple,
    fallback: Row | undefined,
  ): { row: Row; unchangedToast: readonly string[] } {
    this.checkWidth(rel, tuple)
    const row: Record<string, Value> = {}
    const unchangedToast: string[] = []
    for (let i = 0; i < tuple.length; i++) {
      const name = (rel.columns[i] as RelationInfo['columns'][number]).name
      const d = tuple[i] as Tuple[number]
      if (d !== UNCHANGED_TOAST) {
        setColumn(row, name, d)
      } else if (fallback !== undefined && Object.hasOwn(fallback, name)) {
        setColumn(row, name, fallback[name] as Value)
      } else {
        unchangedToast.push(name)
      }
    }
    return { row, unchangedToast }
  }

  /** A key tuple has every column, but only key columns carry values; the rest are placeholders. */
  private oldRow(rel: RelationInfo, tuple: Tuple, keyOnly: boolean): Row {
    this.checkWidth(rel, tuple)
    const row: Record<string, Value> = {}
    for (let i = 0; i < tuple.length; i++) {
      const col = rel.columns[i] as RelationInfo['columns'][number]
      const d = tuple[i] as Tuple[number]
      if ((keyOnly && !col.isKey) || d === UNCHANGED_TOAST) continue
      setColumn(row, col.name, d)
    }
    return row
  }
}
