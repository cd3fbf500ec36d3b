/**
 * Runs a parsed pgmirror statement and writes its result the way Postgres would: rows for SHOW, a command tag,
 * and NOTICEs for what a careful user should know (a peer kept unchanged, a validation summary).
 */
import { PgMirrorError } from '../errors.ts'
import type { Statement } from '../sql/ast.ts'
import { optionRecord } from '../sql/option-values.ts'
import type { FieldDescription, ResultWriter } from '../wire/session.ts'
import { alertStatementCommand, alertStatementFields } from './alert-statements.ts'
import { alterPeer, createPeer, dropPeer, type PeerOutcome } from './commands/peers.ts'
import type { EngineContext } from './context.ts'
import { mirrorStatementCommand, mirrorStatementFields } from './mirror-statements.ts'

const TEXT = 25
const INT4 = 23

const SHOW_PEERS_FIELDS: readonly FieldDescription[] = [
  { name: 'id', typeOid: INT4 },
  { name: 'name', typeOid: TEXT },
  { name: 'type', typeOid: TEXT },
  { name: 'config', typeOid: 3802 },
  { name: 'created_at', typeOid: 1184 },
  { name: 'updated_at', typeOid: 1184 },
]

/** The columns a statement returns (for Describe), or null when it returns none. */
export function describeExtension(stmt: Statement): readonly FieldDescription[] | null {
  switch (stmt.kind) {
    case 'show_peers':
      return SHOW_PEERS_FIELDS
    case 'show_mirror':
    case 'show_mirrors':
      return mirrorStatementFields(stmt)
    case 'show_alerts':
      return alertStatementFields(stmt)
    case 'execute_on_peer':
      throw new PgMirrorError(
        'feature_not_supported',
        'EXECUTE on a peer cannot be prepared; send it as a simple query',
      )
    default:
      return null
  }
}

function reportPeer(out: ResultWriter, name: string, r: PeerOutcome): void {
  for (const n of r.notices) out.notice({ message: n })
  if (r.check) out.notice({ message: `peer "${name}" is valid: ${r.check.summary}` })
}

export async function runExtension(
  ctx: EngineContext,
  stmt: Exclude<Statement, { kind: 'execute_on_peer' }>,
  out: ResultWriter,
  opts: { sendColumns: boolean; signal: AbortSignal },
): Promise<void> {
  switch (stmt.kind) {
    case 'create_peer': {
      const r = await createPeer(ctx, {
        name: stmt.name,
        type: stmt.peerType,
        options: optionRecord(stmt.options),
        mode: stmt.orReplace ? 'replace' : stmt.ifNotExists ? 'if-not-exists' : 'create',
        source: 'sql',
      })
      reportPeer(out, stmt.name, r)
      out.complete('CREATE PEER')
      return
    }
    case 'alter_peer': {
      const r = await alterPeer(ctx, stmt.name, optionRecord(stmt.options))
      reportPeer(out, stmt.name, r)
      out.complete('ALTER PEER')
      return
    }
    case 'drop_peer': {
      const r = await dropPeer(ctx, stmt.name, stmt.ifExists)
      for (const n of r.notices) out.notice({ message: n })
      out.complete('DROP PEER')
      return
    }
    case 'show_peers': {
      const peers = await ctx.peers.list()
      if (opts.sendColumns) out.columns(SHOW_PEERS_FIELDS)
      for (const p of peers) {
        out.row([String(p.id), p.name, p.type, JSON.stringify(p.publicConfig), p.createdAt, p.updatedAt])
      }
      out.complete(`SHOW ${peers.length}`)
      return
    }
    case 'create_alert':
    case 'alter_alert':
    case 'drop_alert':
    case 'show_alerts':
      await alertStatementCommand(ctx, stmt, out, opts)
      return
    case 'create_mirror':
    case 'drop_mirror':
    case 'pause_mirror':
    case 'resume_mirror':
    case 'resync_mirror':
    case 'alter_mirror_add_tables':
    case 'alter_mirror_set':
    case 'show_mirror':
    case 'show_mirrors':
      await mirrorStatementCommand(ctx, stmt, out, opts)
      return
  }
}
