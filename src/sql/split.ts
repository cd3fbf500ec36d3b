import { isPunct, scan } from './lexer.ts'

export interface StatementText {
  /** The statement from its first token to its last, without the terminating `;`. */
  readonly text: string
  /** Offset of `text` in the whole query string, for error positions (see parseExtension's `baseOffset`). */
  readonly offset: number
}

/**
 * Splits a simple-query string on top-level `;`, respecting quotes, dollar quotes and comments.
 * Statements holding nothing but whitespace and comments are dropped, so an empty result means the whole
 * input was empty and the wire answers EmptyQueryResponse, as Postgres does.
 */
export function splitStatements(text: string): StatementText[] {
  const out: StatementText[] = []
  let first = -1
  let last = -1
  const flush = () => {
    if (first >= 0) out.push({ text: text.slice(first, last), offset: first })
    first = -1
  }
  for (const t of scan(text)) {
    if (isPunct(text, t, ';')) flush()
    else {
      if (first < 0) first = t.start
      last = t.end
    }
  }
  flush()
  return out
}
