import { parse } from 'pgsql-ast-parser'
import type { Token } from './lexer.ts'
import { identValue, isPunct, tokenize, tokenText } from './lexer.ts'

/**
 * What the router needs to know about a statement that is not ours: which relations it names (so a query on
 * `peer.schema.table` goes to that peer) and whether it returns rows.
 */
export interface PassthroughAnalysis {
  /** False when pgsql-ast-parser could not parse it; `kind` and `relations` are then a token-level best guess. */
  readonly parsed: boolean
  readonly kind: 'select' | 'other'
  /** Each relation's name parts, normalised (unquoted parts lower-cased), as written: `['pg', 'public', 't']`. */
  readonly relations: readonly (readonly string[])[]
  /**
   * The original text with `peer.` removed from every relation of two or more parts whose first part is `peer`
   * (a stored, normalised peer name). Nothing else in the text changes.
   */
  stripPrefix(peer: string): string
}

/** A dotted name in the token stream: `a`, `a.b`, `"A".b.c`. */
interface Chain {
  readonly parts: readonly string[]
  readonly starts: readonly number[]
  /** Index of its first token. */
  readonly index: number
}

/** Never throws: SQL we cannot analyse still passes through. */
export function analyzePassthrough(sql: string): PassthroughAnalysis {
  const tokens = tokenize(sql)
  const chains = findChains(sql, tokens)
  const tooBig = tokens.length > MAX_PARSER_TOKENS || nestingDepth(sql, tokens) > MAX_PARSER_DEPTH
  const fromAst = tooBig ? undefined : analyzeWithParser(sql, chains)
  const found = fromAst ?? { kind: guessKind(sql, tokens), relations: guessRelations(sql, tokens, chains) }
  return {
    parsed: fromAst !== undefined,
    kind: found.kind,
    relations: found.relations.map((c) => c.parts),
    stripPrefix: (peer) => strip(sql, found.relations, peer),
  }
}

function findChains(sql: string, tokens: readonly Token[]): Chain[] {
  const chains: Chain[] = []
  const isName = (t: Token | undefined) => t !== undefined && (t.type === 'word' || t.type === 'qident')
  for (let i = 0; i < tokens.length; i++) {
    const first = tokens[i] as Token
    if (!isName(first) || isPunct(sql, tokens[i - 1], '.')) continue
    const parts = [identValue(sql, first)]
    const starts = [first.start]
    let j = i
    while (isPunct(sql, tokens[j + 1], '.') && isName(tokens[j + 2])) {
      const t = tokens[j + 2] as Token
      parts.push(identValue(sql, t))
      starts.push(t.start)
      j += 2
    }
    chains.push({ parts, starts, index: i })
    i = j
  }
  return chains
}

const SELECT_TYPES = new Set(['select', 'union', 'union all', 'values'])

/**
 * Larger or deeper statements skip pgsql-ast-parser, whose time grows much faster than the input: an IN list of
 * 20,000 values takes 25 s and 100,000 nested parentheses a minute, blocking every connection of the gateway.
 * The token-level guess still finds their relations.
 */
const MAX_PARSER_TOKENS = 2000
const MAX_PARSER_DEPTH = 200

function nestingDepth(sql: string, tokens: readonly Token[]): number {
  let depth = 0
  let max = 0
  for (const t of tokens) {
    if (isPunct(sql, t, '(') || isPunct(sql, t, '[')) max = Math.max(max, ++depth)
    else if (isPunct(sql, t, ')') || isPunct(sql, t, ']')) depth--
  }
  return max
}

/**
 * pgsql-ast-parser knows only `schema.table`, so each three-part name is parsed with its first part blanked
 * out: the text keeps its length, every location still points into the original, and the blanked part is
 * put back from the token chain.
 */
function analyzeWithParser(
  sql: string,
  chains: readonly Chain[],
): { kind: 'select' | 'other'; relations: Chain[] } | undefined {
  let blanked = sql
  for (const c of chains) {
    if (c.parts.length !== 3) continue
    const [s0, s1] = c.starts as [number, number]
    blanked = blanked.slice(0, s0) + blanked.slice(s0, s1).replace(/[^\n]/g, ' ') + blanked.slice(s1)
  }
  let statements: unknown[]
  try {
    statements = parse(blanked, { locationTracking: true })
  } catch {
    return undefined
  }
  const byStart = new Map<number, Chain>()
  for (const c of chains) byStart.set(c.starts[c.parts.length === 3 ? 1 : 0] as number, c)
  const names: { start: number; parts: string[] }[] = []
  const cteNames = new Set<string>()
  try {
    for (const s of statements) collect(s, names, cteNames)
  } catch {
    // A very deep AST (`1 + 2 + … + 5000` nests without parentheses) overflows the stack: fall back to tokens.
    return undefined
  }
  const relations: Chain[] = []
  for (const n of names) {
    const chain = byStart.get(n.start) ?? { parts: n.parts, starts: [], index: -1 }
    if (chain.parts.length === 1 && cteNames.has(chain.parts[0] as string)) continue
    relations.push(chain)
  }
  const kind = statements.every(returnsRows) ? 'select' : 'other'
  return { kind, relations }
}

type Node = Record<string, unknown>
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null

function returnsRows(s: unknown): boolean {
  if (!isNode(s)) return false
  if (s.type === 'with' || s.type === 'with recursive') return returnsRows(s.in)
  return SELECT_TYPES.has(String(s.type))
}

/** Statement fields that hold a relation name, by statement type. */
const TARGETS: Readonly<Record<string, string>> = {
  insert: 'into',
  update: 'table',
  delete: 'from',
  'create table': 'name',
  'alter table': 'table',
  'create index': 'table',
  'drop table': 'names',
  'truncate table': 'tables',
}

/** Walks the whole AST, so subqueries, CTE bodies, joins and set operations are all covered. */
function collect(node: unknown, names: { start: number; parts: string[] }[], cteNames: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collect(n, names, cteNames)
    return
  }
  if (!isNode(node)) return
  const addName = (q: unknown) => {
    if (!isNode(q) || typeof q.name !== 'string' || !isNode(q._location)) return
    const parts = typeof q.schema === 'string' ? [q.schema, q.name] : [q.name]
    names.push({ start: Number(q._location.start), parts })
  }
  if (node.type === 'table') addName(node.name)
  const target = TARGETS[String(node.type)]
  if (target !== undefined) {
    const value = node[target]
    for (const q of Array.isArray(value) ? value : [value]) addName(q)
  }
  if (node.type === 'with' && Array.isArray(node.bind)) {
    for (const b of node.bind) if (isNode(b) && isNode(b.alias)) cteNames.add(String(b.alias.name))
  }
  if (node.type === 'with recursive' && isNode(node.alias)) cteNames.add(String(node.alias.name))
  for (const [key, value] of Object.entries(node)) if (key !== '_location') collect(value, names, cteNames)
}

const ROW_WORDS = new Set(['select', 'values', 'table', 'show', 'explain'])
const WRITE_WORDS = new Set(['insert', 'update', 'delete', 'merge'])

function guessKind(sql: string, tokens: readonly Token[]): 'select' | 'other' {
  const word = (t: Token) => (t.type === 'word' ? tokenText(sql, t).toLowerCase() : '')
  const first = tokens[0] === undefined ? '' : word(tokens[0])
  if (ROW_WORDS.has(first)) return 'select'
  if (first !== 'with') return 'other'
  let depth = 0
  for (const t of tokens) {
    if (isPunct(sql, t, '(')) depth++
    else if (isPunct(sql, t, ')')) depth--
    else if (depth === 0 && WRITE_WORDS.has(word(t))) return 'other'
  }
  return 'select'
}

/** Words after which the next name is a relation. */
const RELATION_AFTER = new Set(['from', 'join', 'into', 'update', 'table', 'truncate', 'copy'])
/** Words that may sit between those and the name. */
const SKIPPABLE = new Set(['only', 'lateral', 'if', 'not', 'exists', 'table'])
/** Words that end a FROM list. */
const CLAUSE_END = new Set(
  'where group order limit having on using window union except intersect returning set values offset fetch for'.split(
    ' ',
  ),
)

/** Token-level fallback for SQL pgsql-ast-parser rejects: names after FROM, JOIN, INTO, … and commas in FROM lists. */
function guessRelations(sql: string, tokens: readonly Token[], chains: readonly Chain[]): Chain[] {
  const chainAt = new Map(chains.map((c) => [c.index, c]))
  const word = (t: Token | undefined) => (t?.type === 'word' ? tokenText(sql, t).toLowerCase() : '')
  const out: Chain[] = []
  const takeAfter = (i: number) => {
    let j = i + 1
    while (SKIPPABLE.has(word(tokens[j]))) j++
    const c = chainAt.get(j)
    if (c !== undefined && !out.includes(c)) out.push(c)
  }
  let depth = 0
  let fromDepth: number | undefined
  for (const [i, t] of tokens.entries()) {
    if (isPunct(sql, t, '(')) depth++
    else if (isPunct(sql, t, ')')) {
      depth--
      if (fromDepth !== undefined && depth < fromDepth) fromDepth = undefined
    } else if (isPunct(sql, t, ',') && depth === fromDepth) takeAfter(i)
    else {
      const w = word(t)
      if (RELATION_AFTER.has(w)) {
        takeAfter(i)
        if (w === 'from' || w === 'join') fromDepth = depth
      } else if (CLAUSE_END.has(w) && depth === fromDepth) fromDepth = undefined
    }
  }
  return out
}

function strip(sql: string, relations: readonly Chain[], peer: string): string {
  const cuts = new Map<number, number>()
  for (const c of relations) {
    const [from, to] = c.starts
    if (c.parts[0] === peer && from !== undefined && to !== undefined) cuts.set(from, to)
  }
  let out = sql
  for (const [from, to] of [...cuts].sort((a, b) => b[0] - a[0])) out = out.slice(0, from) + out.slice(to)
  return out
}
