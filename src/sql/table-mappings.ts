import { PgMirrorError } from '../errors.ts'
import type { TableMapping } from '../model/mirror.ts'
import type { QualifiedName, TableMappingNode } from './ast.ts'
import { identValue, isPunct, tokenize } from './lexer.ts'
import { quoteQualified } from './quote.ts'

const invalid = (message: string, extra: { hint?: string } = {}) =>
  new PgMirrorError('invalid_parameter_value', message, { field: 'table_mappings', ...extra })

/**
 * Parsed table mappings → the model's. An unqualified source table is in schema `public`. Rejects what cannot
 * be right: a source or destination mapped twice, repeated or contradictory column lists.
 */
export function toTableMappings(nodes: readonly TableMappingNode[]): TableMapping[] {
  const sources = new Set<string>()
  const destinations = new Set<string>()
  return nodes.map((node) => {
    const [schema, table] = node.source.length === 1 ? ['public', node.source[0]] : node.source
    if (schema === undefined || table === undefined) throw invalid('a table mapping needs a source table')
    const sourceText = quoteQualified([schema, table])
    const target = node.destination
    // The parts are joined with dots and split at the first dot again by the sinks, so a dot inside the schema
    // (or database) part would silently name another table.
    if (target.kind === 'name' && target.parts.slice(0, -1).some((p) => p.includes('.'))) {
      throw invalid(`destination ${quoteQualified(target.parts)} has a dot inside a schema name`, {
        hint: 'schema names of destination tables may not contain "."',
      })
    }
    const destination = target.kind === 'string' ? target.value : target.parts.join('.')
    if (destination === '') throw invalid(`table mapping for ${sourceText} has an empty destination`)
    if (sources.has(sourceText)) throw invalid(`source table ${sourceText} is mapped more than once`)
    if (destinations.has(destination))
      throw invalid(`destination "${destination}" is the target of more than one table mapping`)
    sources.add(sourceText)
    destinations.add(destination)

    const what = `in the table mapping for ${sourceText}`
    const repeated = firstRepeat(node.exclude)
    if (repeated !== undefined) throw invalid(`column "${repeated}" is excluded more than once ${what}`)
    if (node.key !== undefined && node.exclude.includes(node.key)) {
      throw invalid(`partition key "${node.key}" is also excluded ${what}`)
    }
    for (const c of node.columns) {
      if (c.ordering < 1)
        throw invalid(`column "${c.name}" has ordering ${c.ordering} ${what}; orderings start at 1`)
      if (node.exclude.includes(c.name))
        throw invalid(`column "${c.name}" is both ordered and excluded ${what}`)
    }
    const repeatedColumn = firstRepeat(node.columns.map((c) => c.name))
    if (repeatedColumn !== undefined)
      throw invalid(`column "${repeatedColumn}" is listed more than once ${what}`)
    const repeatedOrdering = firstRepeat(node.columns.map((c) => c.ordering))
    if (repeatedOrdering !== undefined)
      throw invalid(`ordering ${repeatedOrdering} is used more than once ${what}`)

    return {
      source: { schema, table },
      destination,
      exclude: node.exclude,
      ...(node.key !== undefined ? { partitionKey: node.key } : {}),
      columns: [...node.columns].sort((a, b) => a.ordering - b.ordering),
    }
  })
}

function firstRepeat<T>(items: readonly T[]): T | undefined {
  const seen = new Set<T>()
  for (const item of items) {
    if (seen.has(item)) return item
    seen.add(item)
  }
  return undefined
}

/**
 * `schema.table`, `"My Schema"."My Table"` or `table` as text (REST bodies carry names this way) → name parts,
 * normalised as SQL would. Throws 22023 for anything else.
 */
export function parseQualifiedName(text: string): QualifiedName {
  const tokens = tokenize(text)
  const parts: string[] = []
  for (const [i, t] of tokens.entries()) {
    const isName = (t.type === 'word' || t.type === 'qident') && !t.unterminated
    if (i % 2 === 0 ? !isName : !isPunct(text, t, '.')) break
    if (i % 2 === 0) parts.push(identValue(text, t))
    if (i === tokens.length - 1 && i % 2 === 0 && parts.length <= 2) return parts
  }
  throw new PgMirrorError('invalid_parameter_value', `invalid table name "${text}"`, {
    hint: 'expected table or schema.table; double-quote parts that hold upper case or special characters',
  })
}
