// Before `npm start`: the embedded catalog needs Postgres server binaries. When no catalog URL is configured and
// none are found, install Debian's postgresql package (as root), so a fresh machine needs nothing else.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const configured = process.env.PGMIRROR_CATALOG_URL || process.env.PEERDB_CATALOG_HOST
const root = '/usr/lib/postgresql'
const found =
  (process.env.PGMIRROR_PG_BIN_DIR && existsSync(`${process.env.PGMIRROR_PG_BIN_DIR}/initdb`)) ||
  (existsSync(root) && readdirSync(root).some((v) => existsSync(`${root}/${v}/bin/initdb`)))

if (!configured && !found) {
  if (process.getuid?.() !== 0) {
    console.error(
      'pgmirror: no Postgres server binaries for the embedded catalog; install postgresql or set PGMIRROR_CATALOG_URL',
    )
    process.exit(1)
  }
  console.error('ensure-postgres: installing the postgresql package for the embedded catalog')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env })
    if (r.status !== 0) process.exit(r.status ?? 1)
  }
}
