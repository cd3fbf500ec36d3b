/** The SQL layer's public surface: what the engine and the API import. */
export type * from './ast.ts'
export { GRAMMAR_PEER_TYPES } from './ast.ts'
export { isExtensionStatement } from './detect.ts'
export {
  ALTERABLE_MIRROR_OPTIONS,
  MIRROR_OPTION_DEFAULTS,
  MIRROR_OPTIONS,
  validateMirrorOptionChanges,
  validateMirrorOptions,
} from './mirror-options.ts'
export type { MirrorOptionDoc } from './mirror-options.ts'
export { optionRecord } from './option-values.ts'
export type { OptionContext, OptionInput, OptionInputs } from './option-values.ts'
export { parseExtension } from './parse.ts'
export { analyzePassthrough } from './passthrough.ts'
export type { PassthroughAnalysis } from './passthrough.ts'
export {
  CLICKHOUSE_OPTION_KEYS,
  KAFKA_OPTION_KEYS,
  POSTGRES_OPTION_KEYS,
  validatePeerOptions,
} from './peer-options.ts'
export { quoteIdent, quoteLiteral, quoteQualified } from './quote.ts'
export { renderOptionValue, renderStatement } from './render.ts'
export { splitStatements } from './split.ts'
export type { StatementText } from './split.ts'
export { parseQualifiedName, toTableMappings } from './table-mappings.ts'
