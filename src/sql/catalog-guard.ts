import type { Token } from './lexer.ts'
import { identValue, scan, tokenText } from './lexer.ts'

/**
 * Statements that name no peer run read-only on the catalog, but on the catalog's own (often superuser) connection,
 * so a read-only transaction alone does not stop them from reading peer_secrets under another spelling
 * (`U&"peer\005fsecrets"`, `query_to_xml('… peer' || '_secrets …')`) or from reaching the catalog host
 * (`COPY … TO PROGRAM`, `pg_read_file`, `lo_import`). This guard refuses those shapes before anything runs.
 *
 * It is a deny list over tokens, so it is the second line: the first is the role these statements run as
 * (src/catalog/reader-role.ts), which can read the public catalog tables and nothing else. The guard still
 * matters when the catalog user may not create that role, and it answers with one clear message either way.
 */

/**
 * Statement kinds a read-only transaction still allows that act outside the query: files and programs (COPY TO),
 * procedural code (DO, CALL) and shared libraries (LOAD).
 */
const REFUSED_FIRST_WORDS = new Set(['copy', 'do', 'call', 'load'])

/** Relations holding secrets or another program's data. */
const HIDDEN_NAMES = new Set([
  'peer_secrets',
  'alert_secrets',
  'bullmq',
  'pg_authid',
  'pg_shadow',
  'pg_user_mapping',
  'pg_user_mappings',
  'pg_largeobject',
  'pg_statistic',
  'pg_stats',
  'pg_statistic_ext_data',
  'pg_stats_ext',
  'pg_stats_ext_exprs',
])

/**
 * Functions that run SQL given as text (so names could be assembled at run time), touch the server's files or
 * processes, change settings, or take locks that outlive the statement.
 */
const REFUSED_FUNCTION_PREFIXES = [
  'query_to_xml',
  'cursor_to_xml',
  'table_to_xml',
  'schema_to_xml',
  'database_to_xml',
  'ts_stat',
  'ts_rewrite',
  'set_config',
  'dblink',
  'lo_',
  'loread',
  'lowrite',
  'pg_read_',
  'pg_ls_',
  'pg_stat_file',
  'pg_file',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_',
  'pg_drop_replication_slot',
  'pg_copy_',
  'pg_replication_',
  'pg_logical_',
  'pg_advisory_',
  'pg_try_advisory_',
  'pg_import_system_collations',
  'pg_log_backend_memory_contexts',
  'pg_backup_',
  'pg_wal_replay_',
]

/** Why the statement may not run on the catalog, or undefined when it may. */
export function catalogGuard(sql: string): string | undefined {
  let prev: Token | undefined
  for (const t of scan(sql)) {
    if (prev === undefined && t.type === 'word') {
      const word = identValue(sql, t)
      if (REFUSED_FIRST_WORDS.has(word)) return `${word.toUpperCase()} is not allowed on the catalog`
    }
    if (t.type === 'word' || t.type === 'qident') {
      const name = identValue(sql, t)
      const lower = name.toLowerCase()
      if (HIDDEN_NAMES.has(lower)) return `${name} is not readable through pgmirror`
      if (REFUSED_FUNCTION_PREFIXES.some((p) => lower.startsWith(p))) {
        return `${name} is not allowed on the catalog`
      }
    }
    // U&"…" and U&'…' spell names and text with escapes; refuse them rather than decode them.
    if (
      (t.type === 'qident' || t.type === 'string') &&
      prev?.type === 'op' &&
      tokenText(sql, prev) === '&' &&
      prev.end === t.start &&
      /[uU]$/.test(sql.slice(0, prev.start))
    ) {
      return 'Unicode escapes (U&) are not allowed on the catalog'
    }
    prev = t
  }
  return undefined
}
