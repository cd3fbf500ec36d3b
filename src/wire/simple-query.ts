import {
  commandComplete,
  dataRow,
  emptyQueryResponse,
  noticeResponse,
  rowDescription,
  type ErrorFields,
} from './backend.ts'
import type { Output } from './output.ts'
import type { NoticeFields, ResultWriter, SessionHandler } from './session.ts'

export const noticeFields = (n: NoticeFields): ErrorFields => ({
  severity: n.severity ?? 'NOTICE',
  code: n.code ?? '00000',
  message: n.message,
  detail: n.detail,
  hint: n.hint,
})

/**
 * Runs one Query message through the handler, writing results as they come. If the handler ends a statement's rows
 * without complete(), or writes nothing at all (an empty query string), the wire closes the result itself so the
 * client never waits for a message that will not come. Errors propagate to the caller, which sends ErrorResponse.
 */
export async function runSimpleQuery(
  handler: SessionHandler,
  sql: string,
  output: Output,
  signal: AbortSignal,
): Promise<void> {
  let open = true
  let anyResult = false
  let rowsSinceResult = 0
  const endResult = (): void => {
    anyResult = true
    rowsSinceResult = 0
  }
  const out: ResultWriter = {
    columns(fields) {
      if (open) output.send(rowDescription(fields))
    },
    row(values) {
      if (!open) return
      rowsSinceResult++
      output.send(dataRow(values))
    },
    complete(tag) {
      if (!open) return
      endResult()
      output.send(commandComplete(tag))
    },
    notice(n) {
      if (!open) return
      // Notices often report progress during a long call, so they go out at once rather than with the result.
      output.send(noticeResponse(noticeFields(n)))
      output.flush()
    },
    emptyQuery() {
      if (!open) return
      endResult()
      output.send(emptyQueryResponse())
    },
    drained: () => output.drained(),
  }
  try {
    await handler.simpleQuery(sql, out, signal)
  } finally {
    open = false
  }
  if (rowsSinceResult > 0) output.send(commandComplete(`SELECT ${rowsSinceResult}`))
  else if (!anyResult) output.send(emptyQueryResponse())
}
