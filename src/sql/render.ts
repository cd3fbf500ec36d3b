import type {
  ColumnOrderNode,
  MappingTarget,
  OptionNode,
  OptionValue,
  Statement,
  TableMappingNode,
} from './ast.ts'
import { quoteIdent, quoteLiteral, quoteQualified } from './quote.ts'

/**
 * Canonical SQL for a statement: keywords upper case, names quoted only when needed, one space between tokens.
 * `parseExtension(renderStatement(s))` deep-equals `s` for every parsed statement (test/unit/sql/round-trip.test.ts).
 */
export function renderStatement(s: Statement): string {
  switch (s.kind) {
    case 'create_peer':
      return (
        `CREATE ${s.orReplace ? 'OR REPLACE ' : ''}PEER ${s.ifNotExists ? 'IF NOT EXISTS ' : ''}` +
        `${quoteIdent(s.name)} FROM ${s.peerType}${s.options.length > 0 ? ` WITH ${renderOptions(s.options)}` : ''}`
      )
    case 'alter_peer':
      return `ALTER PEER ${quoteIdent(s.name)} SET ${renderOptions(s.options)}`
    case 'drop_peer':
      return `DROP PEER ${s.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(s.name)}`
    case 'create_alert':
      return (
        `CREATE ALERT ${s.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent(s.name)} FOR ${s.serviceType.toUpperCase()}` +
        (s.options.length > 0 ? ` WITH ${renderOptions(s.options)}` : '')
      )
    case 'alter_alert':
      return `ALTER ALERT ${quoteIdent(s.name)} SET ${renderOptions(s.options)}`
    case 'drop_alert':
      return `DROP ALERT ${s.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(s.name)}`
    case 'show_alerts':
      return 'SHOW ALERTS'
    case 'create_mirror':
      return (
        `CREATE MIRROR ${s.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent(s.name)} ` +
        `FROM ${quoteIdent(s.source)} TO ${quoteIdent(s.destination)} ` +
        `WITH TABLE MAPPING ${renderMappings(s.mappings)}` +
        (s.options.length > 0 ? ` WITH ${renderOptions(s.options)}` : '')
      )
    case 'drop_mirror':
    case 'pause_mirror':
    case 'resume_mirror':
    case 'resync_mirror': {
      const verb = s.kind.slice(0, s.kind.indexOf('_')).toUpperCase()
      return `${verb} MIRROR ${s.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(s.name)}`
    }
    case 'alter_mirror_add_tables':
      return `ALTER MIRROR ${quoteIdent(s.name)} ADD TABLE MAPPING ${renderMappings(s.mappings)}`
    case 'alter_mirror_set':
      return `ALTER MIRROR ${quoteIdent(s.name)} SET ${renderOptions(s.options)}`
    case 'show_mirror':
      return `SHOW MIRROR ${quoteIdent(s.name)}`
    case 'show_mirrors':
      return 'SHOW MIRRORS'
    case 'show_peers':
      return 'SHOW PEERS'
    case 'execute_on_peer':
      return `EXECUTE ${quoteIdent(s.peer)}(${quoteLiteral(s.sql)})`
    default:
      return unreachable(s)
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled statement ${JSON.stringify(x)}`)
}

const BARE_WORD = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*([-.][A-Za-z0-9_$\u0080-\uffff]+)*$/

export function renderOptionValue(v: OptionValue): string {
  switch (v.kind) {
    case 'list':
      return `(${v.items.map(renderOptionValue).join(', ')})`
    case 'string':
      return quoteLiteral(v.value)
    case 'number':
      return v.value
    case 'bool':
      return v.value ? 'true' : 'false'
    case 'word':
      // A hand-built word that would not read back as one is written as a string instead.
      return BARE_WORD.test(v.value) && !/^(true|false)$/i.test(v.value) ? v.value : quoteLiteral(v.value)
    default:
      return unreachable(v)
  }
}

const renderOptions = (options: readonly OptionNode[]): string =>
  `(${options.map((o) => `${quoteIdent(o.key, { reservedOk: true })} = ${renderOptionValue(o.value)}`).join(', ')})`

const renderMappings = (mappings: readonly TableMappingNode[]): string =>
  `(${mappings.map(renderMapping).join(', ')})`

const renderTarget = (t: MappingTarget): string =>
  t.kind === 'string' ? quoteLiteral(t.value) : quoteQualified(t.parts)

const renderColumn = (c: ColumnOrderNode): string => `{name: ${quoteIdent(c.name)}, ordering: ${c.ordering}}`

/** The short `src:dst` form when there is nothing else to say, the object form otherwise. */
function renderMapping(m: TableMappingNode): string {
  const from = quoteQualified(m.source)
  const to = renderTarget(m.destination)
  if (m.key === undefined && m.exclude.length === 0 && m.columns.length === 0) return `${from}:${to}`
  const fields = [`from: ${from}`, `to: ${to}`]
  if (m.key !== undefined) fields.push(`key: ${quoteIdent(m.key)}`)
  if (m.exclude.length > 0) fields.push(`exclude: [${m.exclude.map((c) => quoteIdent(c)).join(', ')}]`)
  if (m.columns.length > 0) fields.push(`columns: [${m.columns.map(renderColumn).join(', ')}]`)
  return `{${fields.join(', ')}}`
}
