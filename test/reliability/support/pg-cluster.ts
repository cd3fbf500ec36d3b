// A Postgres cluster of a test's own, in a temporary directory on a free port: the shared test cluster must never be
// restarted (other test files use it at the same time), so a test that restarts its target or catalog starts this.
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort, run } from './processes.ts'
import { waitFor } from '../../support/services.ts'

const PG_BIN = process.env.PGMIRROR_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'
const isRoot = process.getuid?.() === 0

/** initdb and postgres refuse to run as root: as root, run them as the postgres OS user, like scripts/services.sh. */
const asPg = (cmd: string, args: readonly string[]) =>
  isRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args)

export interface PgCluster {
  readonly port: number
  readonly dataDir: string
  /** The superuser URL of database `db` (default `postgres`). */
  url(db?: string): string
  /** Runs one statement on database `db` with a fresh connection. */
  query(text: string, values?: unknown[], db?: string): Promise<pg.QueryResult>
  start(): Promise<void>
  /** pg_ctl stop -m fast: every connection is cut, like a database going down for maintenance. */
  stop(): Promise<void>
  restart(): Promise<void>
  /** Stops the cluster and deletes its directory. */
  destroy(): Promise<void>
}

export async function startPgCluster(name: string): Promise<PgCluster> {
  const root = await mkdtemp(join(tmpdir(), `pgmirror-rel-${name}-`))
  const dataDir = join(root, 'data')
  const log = join(root, 'postgres.log')
  if (isRoot) await run('chown', ['postgres:postgres', root])
  await chmod(root, 0o755)
  const port = await freePort()
  await asPg(join(PG_BIN, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ])
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${root}'`,
    'wal_level = logical',
    'max_replication_slots = 10',
    'max_wal_senders = 10',
    'max_connections = 100',
    'fsync = off',
    'full_page_writes = off',
    'synchronous_commit = off',
  ].join('\n')
  const confFile = join(root, 'reliability.conf')
  await writeFile(confFile, `${conf}\n`)
  await asPg('sh', ['-c', `echo "include '${confFile}'" >> '${dataDir}/postgresql.conf'`])

  const ctl = (args: readonly string[]) => asPg(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, ...args])
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`
  const cluster: PgCluster = {
    port,
    dataDir,
    url,
    async query(text, values, db) {
      const c = new pg.Client({ connectionString: url(db) })
      await c.connect()
      try {
        return await c.query(text, values)
      } finally {
        await c.end()
      }
    },
    async start() {
      await ctl(['-l', log, '-w', '-t', '60', 'start'])
      await waitFor(
        () =>
          cluster.query('SELECT 1').then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          message: `cluster ${name} to accept connections`,
        },
      )
    },
    async stop() {
      await ctl(['-w', '-m', 'fast', 'stop'])
    },
    async restart() {
      await cluster.stop()
      await cluster.start()
    },
    async destroy() {
      await cluster.stop().catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    },
  }
  await cluster.start()
  return cluster
}
