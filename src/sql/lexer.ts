/**
 * A small Postgres lexer: just enough to split a query string on top-level `;`, to spot our statements by
 * their first words, to name the token at a syntax error, and to find dotted relation names in passthrough SQL.
 * It never fails: an unterminated string or comment runs to the end of the input and is flagged.
 * Whitespace and (finished) comments produce no tokens.
 */

export type TokenType =
  | 'word' // identifier or keyword, unquoted
  | 'qident' // "quoted identifier"
  | 'string' // 'text', E'text', and the B'', X'', N'' forms
  | 'dollar' // $tag$text$tag$
  | 'number'
  | 'param' // $1
  | 'punct' // ( ) [ ] , ; . : :: and any other single character
  | 'op' // any other operator character run
  | 'comment' // only an unterminated /* comment, so the error is not lost; finished comments yield nothing

export interface Token {
  readonly type: TokenType
  /** Offsets into the lexed text, in UTF-16 code units; `end` is exclusive. */
  readonly start: number
  readonly end: number
  readonly unterminated?: true
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v'
const isDigit = (c: string) => c >= '0' && c <= '9'
const isIdentStart = (c: string) =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c >= '\u0080'
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c) || c === '$'
const PUNCT = '()[],;.:'
const OP_CHARS = '+-*/<>=~!@#%^&|`?'

/** Skips whitespace and comments from `i`; returns the next offset holding something else (or the end). */
function skipBlank(text: string, i: number): number {
  for (;;) {
    const c = text[i]
    if (c === undefined) return i
    if (isSpace(c)) i++
    else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i + 2)
      i = nl < 0 ? text.length : nl + 1
    } else if (c === '/' && text[i + 1] === '*') {
      const end = blockCommentEnd(text, i)
      if (end < 0) return i
      i = end
    } else return i
  }
}

/** Postgres block comments nest. -1 when unterminated. */
function blockCommentEnd(text: string, i: number): number {
  let depth = 0
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++
      i += 2
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--
      i += 2
      if (depth === 0) return i
    } else i++
  }
  return -1
}

/** End of a quoted run starting at `i` (the opening quote); a doubled quote is an escaped one. */
function quotedEnd(text: string, i: number, quote: string, backslashEscapes: boolean): [number, boolean] {
  let j = i + 1
  while (j < text.length) {
    const c = text[j]
    if (backslashEscapes && c === '\\') j += 2
    else if (c === quote) {
      if (text[j + 1] === quote) j += 2
      else return [j + 1, true]
    } else j++
  }
  return [text.length, false]
}

/** `$tag$` at `i`, or undefined when `$` starts something else (a parameter, or nothing). */
function dollarTagAt(text: string, i: number): string | undefined {
  let j = i + 1
  if (text[j] === '$') return '$$'
  const first = text[j]
  if (first === undefined || !isIdentStart(first)) return undefined
  while (j < text.length && text[j] !== '$') {
    const c = text[j] as string
    if (!(isIdentStart(c) || isDigit(c))) return undefined
    j++
  }
  return j < text.length ? text.slice(i, j + 1) : undefined
}

function wordEnd(text: string, i: number): number {
  let j = i + 1
  while (j < text.length && isIdentPart(text[j] as string)) j++
  return j
}

function numberEnd(text: string, i: number): number {
  let j = i
  while (isDigit(text[j] ?? '')) j++
  if (text[j] === '.' && text[j + 1] !== '.') {
    j++
    while (isDigit(text[j] ?? '')) j++
  }
  if (
    (text[j] === 'e' || text[j] === 'E') &&
    (isDigit(text[j + 1] ?? '') || /[+-]\d/.test(text.slice(j + 1, j + 3)))
  ) {
    j += 2
    while (isDigit(text[j] ?? '')) j++
  }
  return j
}

/** Lexes lazily, so a caller that needs only the first few tokens of a huge statement pays only for those. */
export function* scan(text: string): Generator<Token> {
  let i = skipBlank(text, 0)
  while (i < text.length) {
    const c = text[i] as string
    let tok: Token
    if (c === '/' && text[i + 1] === '*') {
      tok = mk('comment', i, text.length, false)
    } else if (c === "'") {
      const [end, ok] = quotedEnd(text, i, "'", false)
      tok = mk('string', i, end, ok)
    } else if (c === '"') {
      const [end, ok] = quotedEnd(text, i, '"', false)
      tok = mk('qident', i, end, ok)
    } else if (c === '$') {
      const tag = dollarTagAt(text, i)
      if (tag !== undefined) {
        const close = text.indexOf(tag, i + tag.length)
        tok = close < 0 ? mk('dollar', i, text.length, false) : mk('dollar', i, close + tag.length, true)
      } else if (isDigit(text[i + 1] ?? '')) tok = mk('param', i, numberEnd(text, i + 1), true)
      else tok = mk('op', i, i + 1, true)
    } else if (isIdentStart(c)) {
      const end = wordEnd(text, i)
      const prefix = text.slice(i, end)
      if (text[end] === "'" && /^[eEbBxXnN]$/.test(prefix)) {
        // E'…' honours backslash escapes; B'', X'' and N'' are plain strings with a prefix.
        const [sEnd, ok] = quotedEnd(text, end, "'", prefix === 'e' || prefix === 'E')
        tok = mk('string', i, sEnd, ok)
      } else tok = mk('word', i, end, true)
    } else if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      tok = mk('number', i, numberEnd(text, i), true)
    } else if (PUNCT.includes(c)) {
      tok = mk('punct', i, c === ':' && text[i + 1] === ':' ? i + 2 : i + 1, true)
    } else if (OP_CHARS.includes(c)) {
      let j = i + 1
      // An operator run stops where a comment starts, as in Postgres.
      while (
        j < text.length &&
        OP_CHARS.includes(text[j] as string) &&
        !/^(--|\/\*)/.test(text.slice(j, j + 2))
      )
        j++
      tok = mk('op', i, j, true)
    } else tok = mk('punct', i, i + 1, true)
    yield tok
    i = skipBlank(text, tok.end)
  }
}

function mk(type: TokenType, start: number, end: number, terminated: boolean): Token {
  return terminated ? { type, start, end } : { type, start, end, unterminated: true }
}

export const tokenize = (text: string): Token[] => [...scan(text)]

export const tokenText = (text: string, t: Token): string => text.slice(t.start, t.end)

/** The identifier a word or quoted-identifier token denotes: unquoted ASCII letters fold to lower case. */
export function identValue(text: string, t: Token): string {
  const raw = tokenText(text, t)
  if (t.type === 'qident') return raw.slice(1, t.unterminated ? undefined : -1).replace(/""/g, '"')
  return raw.replace(/[A-Z]/g, (ch) => ch.toLowerCase())
}

export const isWord = (text: string, t: Token | undefined, word: string): boolean =>
  t !== undefined && t.type === 'word' && tokenText(text, t).toLowerCase() === word

export const isPunct = (text: string, t: Token | undefined, p: string): boolean =>
  t !== undefined && t.type === 'punct' && tokenText(text, t) === p
