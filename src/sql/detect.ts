import type { Token } from './lexer.ts'
import { isPunct, isWord, scan } from './lexer.ts'

/** Second words that make a statement ours, by first word. */
const PREFIXES: Readonly<Record<string, readonly string[]>> = {
  create: ['peer', 'mirror', 'alert'],
  alter: ['peer', 'mirror', 'alert'],
  drop: ['peer', 'mirror', 'alert'],
  pause: ['mirror'],
  resume: ['mirror'],
  resync: ['mirror'],
  show: ['mirror', 'mirrors', 'peers', 'alerts'],
}

/**
 * True when the statement is one of pgmirror's extensions and must go to parseExtension; everything else is
 * passed through. Only the first few tokens are looked at. `EXECUTE name(…)` is ours only with a string or
 * dollar-quoted argument: with anything else it is an ordinary prepared-statement EXECUTE.
 */
export function isExtensionStatement(text: string): boolean {
  const t: Token[] = []
  for (const tok of scan(text)) {
    t.push(tok)
    if (t.length === 4) break
  }
  const [w0, w1, w2, w3] = t
  if (w0 === undefined || w0.type !== 'word') return false
  const first = text.slice(w0.start, w0.end).toLowerCase()
  if (first === 'execute') {
    return (
      (w1?.type === 'word' || w1?.type === 'qident') &&
      isPunct(text, w2, '(') &&
      (w3?.type === 'string' || w3?.type === 'dollar') &&
      text[w3.start] !== 'E' &&
      text[w3.start] !== 'e'
    )
  }
  if (first === 'create' && isWord(text, w1, 'or'))
    return isWord(text, w2, 'replace') && isWord(text, w3, 'peer')
  return (PREFIXES[first] ?? []).some((second) => isWord(text, w1, second))
}
