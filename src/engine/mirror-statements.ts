import { PgMirrorError } from '../errors.ts'
import type { Statement } from '../sql/ast.ts'
import type { FieldDescription, ResultWriter } from '../wire/session.ts'
import type { EngineContext } from './context.ts'

type MirrorStatement = Extract<
  Statement,
  {
    kind:
      | 'create_mirror'
      | 'drop_mirror'
      | 'pause_mirror'
      | 'resume_mirror'
      | 'resync_mirror'
      | 'alter_mirror_add_tables'
      | 'alter_mirror_set'
      | 'show_mirror'
      | 'show_mirrors'
  }
>

export function mirrorStatementFields(_stmt: MirrorStatement): readonly FieldDescription[] | null {
  return null
}

export async function mirrorStatementCommand(
  _ctx: EngineContext,
  stmt: MirrorStatement,
  _out: ResultWriter,
  _opts: { sendColumns: boolean; signal: AbortSignal },
): Promise<void> {
  throw new PgMirrorError('feature_not_supported', `${stmt.kind.replace(/_/g, ' ')} is not available yet`)
}
