/**
 * The SQL face of the alert commands: CREATE / ALTER / DROP ALERT and SHOW ALERTS (secrets as ********).
 */
import type { Statement } from '../sql/ast.ts'
import { optionRecord } from '../sql/option-values.ts'
import type { FieldDescription, ResultWriter } from '../wire/session.ts'
import { alterAlert, createAlert, dropAlert, listAlertConfigs } from './commands/alerts.ts'
import type { EngineContext } from './context.ts'

type AlertStatement = Extract<
  Statement,
  { kind: 'create_alert' | 'alter_alert' | 'drop_alert' | 'show_alerts' }
>

const SHOW_ALERTS_FIELDS: readonly FieldDescription[] = [
  { name: 'id', typeOid: 23 },
  { name: 'name', typeOid: 25 },
  { name: 'service_type', typeOid: 25 },
  { name: 'config', typeOid: 3802 },
  { name: 'alert_for_mirrors', typeOid: 1009 },
  { name: 'created_at', typeOid: 1184 },
  { name: 'updated_at', typeOid: 1184 },
]

export const alertStatementFields = (stmt: AlertStatement): readonly FieldDescription[] | null =>
  stmt.kind === 'show_alerts' ? SHOW_ALERTS_FIELDS : null

/** A text[] in Postgres' text form: `{a,"b c"}`. */
const textArray = (items: readonly string[]): string =>
  `{${items.map((i) => (/^[A-Za-z0-9_]+$/.test(i) ? i : `"${i.replace(/["\\]/g, (c) => `\\${c}`)}"`)).join(',')}}`

export async function alertStatementCommand(
  ctx: EngineContext,
  stmt: AlertStatement,
  out: ResultWriter,
  opts: { sendColumns: boolean },
): Promise<void> {
  switch (stmt.kind) {
    case 'create_alert': {
      const r = await createAlert(ctx, {
        name: stmt.name,
        serviceType: stmt.serviceType,
        options: optionRecord(stmt.options),
        ifNotExists: stmt.ifNotExists,
      })
      for (const n of r.notices) out.notice({ message: n })
      out.complete('CREATE ALERT')
      return
    }
    case 'alter_alert':
      await alterAlert(ctx, stmt.name, optionRecord(stmt.options))
      out.complete('ALTER ALERT')
      return
    case 'drop_alert': {
      const r = await dropAlert(ctx, stmt.name, stmt.ifExists)
      for (const n of r.notices) out.notice({ message: n })
      out.complete('DROP ALERT')
      return
    }
    case 'show_alerts': {
      const all = await listAlertConfigs(ctx)
      if (opts.sendColumns) out.columns(SHOW_ALERTS_FIELDS)
      for (const a of all) {
        out.row([
          String(a.id),
          a.name,
          a.serviceType,
          JSON.stringify(a.serviceConfig),
          textArray(a.alertForMirrors),
          a.createdAt,
          a.updatedAt,
        ])
      }
      out.complete(`SHOW ${all.length}`)
      return
    }
  }
}
