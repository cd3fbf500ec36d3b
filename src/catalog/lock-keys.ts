/**
 * Every single-key advisory lock pgmirror takes on the catalog, in one place so that no two uses share a key (a
 * shared key would make a start-up wait on, say, the alert checker's long-held lock). The numbers are arbitrary
 * but fixed; mirror jobs lock with the two-key form (mirror-job.ts), which Postgres keeps apart from these.
 */
export const LockKeys = {
  /** Session lock while migrations run (migrate.ts). */
  migrations: 7_431_902_118,
  /** Transaction lock around creating an alert config (alert-store.ts). */
  alertConfigCreate: 7_431_902_119,
  /** Session lock held by the one active alert checker (engine/alerting/alert-loop.ts). */
  alertLeader: 7_431_902_120,
  /** Transaction lock around creating the gateway's reader role (reader-role.ts). */
  readerRole: 7_431_902_121,
} as const
