import { PgMirrorError } from '../errors.ts'
import type { Statement } from './ast.ts'
import type { Expectation } from './generated/peerdb.js'
import { parse, SyntaxError as PegSyntaxError } from './generated/peerdb.js'
import type { TokenType } from './lexer.ts'
import { scan, tokenText } from './lexer.ts'

/**
 * Parses one of pgmirror's extension statements (see isExtensionStatement). `baseOffset` is where `text` starts
 * in the whole query string, so error positions point into what the client sent (Postgres counts from 1).
 * Throws PgMirrorError: 42601 for syntax errors, 0A000 for recognised but unsupported forms.
 * Positions are in UTF-16 code units, which equal Postgres' character count except after astral characters.
 */
export function parseExtension(text: string, baseOffset = 0): Statement {
  try {
    return parse(text, {
      onUnsupported: (message: string, offset: number) => {
        throw new PgMirrorError('feature_not_supported', message, { position: baseOffset + offset + 1 })
      },
    }) as Statement
  } catch (e) {
    if (e instanceof PegSyntaxError) throw syntaxError(text, baseOffset, e)
    throw e
  }
}

const UNTERMINATED: Partial<Record<TokenType, string>> = {
  qident: 'quoted identifier',
  dollar: 'dollar-quoted string',
  comment: '/* comment',
}

function syntaxError(text: string, baseOffset: number, e: PegSyntaxError): PgMirrorError {
  const offset = e.location.start.offset
  // error() calls in the grammar carry their own message and no expectations.
  if (!Array.isArray(e.expected)) {
    return new PgMirrorError('syntax_error', e.message, { position: baseOffset + offset + 1 })
  }
  const detail = describeExpected(e.expected)
  const expects = (description: string) =>
    e.expected.some((x) => x.type === 'other' && x.description === description)
  const hint = expects('peer type')
    ? 'pgmirror supports peer types POSTGRES, CLICKHOUSE and KAFKA'
    : expects('alert service type')
      ? 'alerts go to SLACK or EMAIL'
      : undefined
  const extra = { detail, ...(hint !== undefined ? { hint } : {}) }
  for (const t of scan(text)) {
    if (t.end <= offset) continue
    const position = baseOffset + t.start + 1
    const near = tokenText(text, t)
    if (t.unterminated) {
      const what = UNTERMINATED[t.type] ?? 'quoted string'
      return new PgMirrorError('syntax_error', `unterminated ${what} at or near "${near}"`, {
        ...extra,
        position,
      })
    }
    return new PgMirrorError('syntax_error', `syntax error at or near "${near}"`, { ...extra, position })
  }
  return new PgMirrorError('syntax_error', 'syntax error at end of input', {
    ...extra,
    position: baseOffset + text.length + 1,
  })
}

/** `expected one of: FROM, IF, identifier`; keywords bare, punctuation quoted, as Postgres writes them. */
function describeExpected(expected: readonly Expectation[]): string {
  const names: string[] = []
  for (const x of expected) {
    const name =
      x.type === 'literal'
        ? `"${x.text}"`
        : x.type === 'other'
          ? x.description
          : x.type === 'end'
            ? 'end of input'
            : undefined
    if (name !== undefined && !names.includes(name)) names.push(name)
  }
  if (names.length === 0) return 'unexpected input'
  return names.length === 1 ? `expected ${names[0]}` : `expected one of: ${names.join(', ')}`
}
