/**
 * The embedded catalog: with no catalog URL configured, pgmirror runs a Postgres cluster of its own in
 * `<dataDir>/catalog`, from the server binaries it finds on this machine, listening on loopback only.
 */
import { execFile } from 'node:child_process'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import type { Logger } from '../log.ts'

const run = promisify(execFile)

export interface EmbeddedCatalog {
  readonly url: string
  readonly dataDir: string
  /** Stops the cluster if this process started it. */
  stop(): Promise<void>
}

export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const hasServer = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))
  if (env.PGMIRROR_PG_BIN_DIR) return hasServer(env.PGMIRROR_PG_BIN_DIR) ? env.PGMIRROR_PG_BIN_DIR : undefined
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    for (const v of versions) if (hasServer(join(root, v, 'bin'))) return join(root, v, 'bin')
  }
  for (const dir of (env.PATH ?? '').split(':')) if (dir && hasServer(dir)) return dir
  return undefined
}

interface Runner {
  (bin: string, args: string[]): Promise<{ stdout: string; stderr: string }>
}

function runnerFor(dataDir: string): { exec: Runner; uid: number | undefined; gid: number | undefined } {
  // initdb and postgres refuse to run as root: run them as the `postgres` OS user then.
  if (process.getuid?.() !== 0) return { exec: (bin, args) => run(bin, args), uid: undefined, gid: undefined }
  let uid: number | undefined
  let gid: number | undefined
  try {
    const st = statSync('/var/lib/postgresql')
    uid = st.uid
    gid = st.gid
  } catch {
    throw new Error(
      `pgmirror runs as root and needs the "postgres" OS user to run its embedded catalog in ${dataDir}; ` +
        'install the postgresql package or set PGMIRROR_CATALOG_URL',
    )
  }
  return { exec: (bin, args) => run('runuser', ['-u', 'postgres', '--', bin, ...args]), uid, gid }
}

export async function startEmbeddedCatalog(opts: {
  dataDir: string
  port: number
  log: Logger
}): Promise<EmbeddedCatalog> {
  const bin = findPostgresBinDir()
  if (!bin) {
    throw new Error(
      'no catalog configured and no PostgreSQL server binaries found for the embedded catalog; ' +
        'install postgresql (apt-get install postgresql) or set PGMIRROR_CATALOG_URL',
    )
  }
  const pgdata = join(opts.dataDir, 'catalog')
  const { exec, uid, gid } = runnerFor(opts.dataDir)
  mkdirSync(pgdata, { recursive: true, mode: 0o700 })
  if (uid !== undefined && gid !== undefined) {
    chownSync(opts.dataDir, uid, gid)
    chownSync(pgdata, uid, gid)
  }

  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    opts.log.info({ pgdata, bin }, 'initialising the embedded catalog cluster')
    await exec(join(bin, 'initdb'), [
      '-D',
      pgdata,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
    ])
  }
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${opts.port}`,
    `unix_socket_directories = '${pgdata}'`,
    `max_connections = 200`,
    `shared_buffers = 64MB`,
  ].join('\n')
  writeFileSync(join(pgdata, 'pgmirror.conf'), conf + '\n')
  if (uid !== undefined && gid !== undefined) chownSync(join(pgdata, 'pgmirror.conf'), uid, gid)
  const mainConf = join(pgdata, 'postgresql.conf')
  if (!readFileSync(mainConf, 'utf8').includes("include_if_exists = 'pgmirror.conf'")) {
    appendFileSync(mainConf, "\ninclude_if_exists = 'pgmirror.conf'\n")
  }

  let startedHere = false
  const running = await exec(join(bin, 'pg_ctl'), ['-D', pgdata, 'status']).then(
    () => true,
    () => false,
  )
  if (!running) {
    opts.log.info({ pgdata, port: opts.port }, 'starting the embedded catalog cluster')
    await exec(join(bin, 'pg_ctl'), [
      '-D',
      pgdata,
      '-l',
      join(pgdata, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ])
    startedHere = true
  }

  const adminUrl = `postgres://postgres@127.0.0.1:${opts.port}/postgres`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'pgmirror'`)
    if (exists.rowCount === 0) await admin.query('CREATE DATABASE pgmirror')
  } finally {
    await admin.end()
  }

  return {
    url: `postgres://postgres@127.0.0.1:${opts.port}/pgmirror`,
    dataDir: pgdata,
    async stop() {
      if (!startedHere) return
      await exec(join(bin, 'pg_ctl'), ['-D', pgdata, '-m', 'fast', '-w', 'stop']).catch((e: Error) =>
        opts.log.warn({ err: e.message }, 'could not stop the embedded catalog cluster'),
      )
    },
  }
}
