// A Postgres cluster of the benchmark run's own, created for the run and removed after it. The shared test
// cluster (scripts/services.sh) also serves everyone's test runs: their sessions would load it, their WAL would
// pass through our decoders, and their CPU could not be told apart from ours. Here every postgres process is
// ours. One cluster per benchmark process (own directory, own free port), so benchmark runs started side by side
// never share one or stop each other's. Same settings as the services cluster.
// BENCH_PG_URL=<url> uses that cluster instead; BENCH_PG_URL=services uses $PGMIRROR_TEST_PG_URL.
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'

const DIR = `${process.env.BENCH_PG_DIR ?? '/tmp'}/pgmirror-bench-${process.pid}`
const DATA = `${DIR}/data`

const conf = (port: number) => `# Written by bench/harness/cluster.ts: the settings of scripts/services.sh.
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${DIR}'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
fsync = off
full_page_writes = off
`

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(`${root}/${v}/bin/initdb`))
    : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) throw new Error('no Postgres server binaries in /usr/lib/postgresql/*/bin')
  return `${root}/${newest}/bin`
}

const isRoot = (): boolean => process.getuid?.() === 0

/** Runs a server binary as the postgres user when we are root (the server refuses to run as root). */
function asPostgres(bin: string, args: string[]): void {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

async function start(): Promise<number> {
  const bin = binDir()
  const port = await freePort()
  mkdirSync(DIR, { recursive: true })
  if (isRoot()) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(DIR, id('-u'), id('-g'))
  }
  asPostgres(`${bin}/initdb`, [
    '-D',
    DATA,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ])
  // The data directory is new and ours: its auto.conf is the simplest place for our settings.
  writeFileSync(`${DATA}/postgresql.auto.conf`, conf(port))
  asPostgres(`${bin}/pg_ctl`, ['-D', DATA, '-l', `${DIR}/postgres.log`, '-w', '-t', '60', 'start'])
  return port
}

let port: number | undefined
let depth = 0

/** Synchronous, so it also runs from an 'exit' hook when a run is interrupted. */
function removeCluster(): void {
  if (port === undefined) return
  port = undefined
  try {
    asPostgres(`${binDir()}/pg_ctl`, ['-D', DATA, '-w', '-m', 'immediate', 'stop'])
  } finally {
    rmSync(DIR, { recursive: true, force: true })
  }
}

/** Which cluster the numbers come from, for the reports. */
export function clusterDescription(): string {
  const chosen = process.env.BENCH_PG_URL
  if (chosen === 'services') return 'the shared services.sh cluster'
  if (chosen) return 'the cluster at BENCH_PG_URL'
  return "a private cluster of the benchmark's own (services.sh settings: wal_level=logical, fsync=off, full_page_writes=off, shared_buffers 128MB)"
}

/**
 * Runs `fn` with PGMIRROR_TEST_PG_URL pointing at the benchmark cluster, creating it first and removing it
 * afterwards (nested calls, as from bench/run.ts, share one cluster).
 */
export async function withBenchCluster<T>(fn: () => Promise<T>): Promise<T> {
  const chosen = process.env.BENCH_PG_URL
  if (chosen === 'services') return fn()
  if (chosen) {
    process.env.PGMIRROR_TEST_PG_URL = chosen
    return fn()
  }
  if (depth === 0) {
    process.once('exit', removeCluster)
    port = await start().catch((e: unknown) => {
      rmSync(DIR, { recursive: true, force: true })
      throw e
    })
  }
  process.env.PGMIRROR_TEST_PG_URL = `postgres://postgres@127.0.0.1:${port}/postgres`
  depth++
  try {
    return await fn()
  } finally {
    depth--
    if (depth === 0) removeCluster()
  }
}
