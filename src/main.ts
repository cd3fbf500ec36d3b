/**
 * The composition root: parse config once, build the dependencies, start the roles this process plays.
 */
import { Command } from 'commander'
import pg from 'pg'
import { startApiServer } from './api/server.ts'
import { startEmbeddedCatalog, type EmbeddedCatalog } from './catalog/embedded.ts'
import { AlertStore } from './catalog/alert-store.ts'
import { migrate } from './catalog/migrate.ts'
import { ensureReaderRole, readerUrl } from './catalog/reader-role.ts'
import { MirrorStore } from './catalog/mirror-store.ts'
import { PeerStore } from './catalog/peer-store.ts'
import { ConfigError, loadConfig, type Flags } from './config.ts'
import type { EngineContext } from './engine/context.ts'
import { GatewaySession } from './engine/gateway-session.ts'
import { JobQueue } from './engine/queue.ts'
import { connectors } from './engine/registry.ts'
import { startJobWorker } from './engine/worker.ts'
import { createLogger } from './log.ts'
import { startWireServer } from './wire/server.ts'
import { VERSION } from './version.ts'

async function start(flags: Flags): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, flags)
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`pgmirror: ${e.message}\n`)
      process.exit(2)
    }
    throw e
  }
  const log = createLogger(config.logLevel)
  if (!config.encryptionKey) {
    log.warn(
      'PGMIRROR_ENCRYPTION_KEY is not set: peer secrets are stored unencrypted in the catalog table peer_secrets',
    )
  }

  let embedded: EmbeddedCatalog | undefined
  let catalogUrl = config.catalogUrl
  if (!catalogUrl) {
    embedded = await startEmbeddedCatalog({ dataDir: config.dataDir, port: config.embeddedPort, log })
    catalogUrl = embedded.url
    log.info({ dataDir: embedded.dataDir, port: config.embeddedPort }, 'using the embedded catalog')
  }

  const catalog = new pg.Pool({ connectionString: catalogUrl, max: 20, application_name: 'pgmirror' })
  catalog.on('error', (e) => log.warn({ err: e.message }, 'idle catalog connection failed'))
  const mc = await catalog.connect()
  let catalogReaderUrl: string | undefined
  try {
    const applied = await migrate(mc)
    if (applied.length) log.info({ applied }, 'catalog migrations applied')
    if (config.role === 'all' || config.role === 'gateway') {
      const reader = await ensureReaderRole(mc, catalogUrl)
      if ('credentials' in reader) catalogReaderUrl = readerUrl(catalogUrl, reader.credentials)
      else
        log.warn(
          { reason: reader.refused },
          'the catalog user may not create roles: catalog queries on the gateway run as that user (read-only, behind the statement guard); grant it CREATEROLE to have them run as a role that can read only the public catalog tables',
        )
    }
  } finally {
    mc.release()
  }

  const backend = { catalogUrl, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix }
  const queue = new JobQueue(backend)
  const ctx: EngineContext = {
    catalog,
    catalogUrl,
    catalogReaderUrl,
    peers: new PeerStore(catalog, config.encryptionKey),
    mirrors: new MirrorStore(catalog),
    alerts: new AlertStore(catalog, config.encryptionKey),
    alerting: config.alerting,
    queue,
    connectors,
    log,
  }
  const closers: (() => Promise<void>)[] = [() => queue.close()]
  if (config.role === 'all' || config.role === 'worker') {
    const worker = startJobWorker(ctx, backend, config.workerConcurrency)
    closers.push(() => worker.close())
    log.info(
      { concurrency: config.workerConcurrency, queue: config.redisUrl ? 'redis' : 'postgres' },
      'worker started',
    )
  }

  let gatewayPort: number | undefined
  let apiPort: number | undefined
  if (config.role === 'all' || config.role === 'gateway') {
    const wire = await startWireServer({
      host: config.listenHost,
      port: config.port,
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.tls ? { tls: { cert: config.tls.cert, key: config.tls.key } } : {}),
      createHandler: (info) => new GatewaySession(ctx, info),
      log,
    })
    closers.push(() => wire.close())
    gatewayPort = wire.port
    log.info(
      { host: config.listenHost, port: wire.port, auth: config.password ? 'scram-sha-256' : 'trust' },
      'pgwire gateway listening',
    )
  }
  if (config.role === 'all' || config.role === 'api') {
    const api = await startApiServer(ctx, {
      host: config.listenHost,
      port: config.httpPort,
      password: config.password,
      encryptionKey: config.encryptionKey,
    })
    closers.push(() => api.close())
    apiPort = api.port
    log.info({ host: config.listenHost, port: api.port }, 'http api listening')
  }

  if (gatewayPort !== undefined || apiPort !== undefined) {
    const host = config.listenHost === '0.0.0.0' ? 'localhost' : config.listenHost
    const parts = [
      gatewayPort !== undefined ? `psql "host=${host} port=${gatewayPort}"` : undefined,
      apiPort !== undefined ? `http://${host}:${apiPort}` : undefined,
    ].filter(Boolean)
    process.stderr.write(`pgmirror ${VERSION} is ready: ${parts.join('  ·  ')}\n`)
  }

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    for (const c of closers.reverse())
      await c().catch((e: Error) => log.warn({ err: e.message }, 'close failed'))
    await catalog.end().catch(() => undefined)
    await embedded?.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

const program = new Command()
program
  .name('pgmirror')
  .description('Postgres replication to Postgres, ClickHouse and Kafka')
  .version(VERSION)
program
  .command('start')
  .description(
    'start pgmirror (gateway on 9900, HTTP API on 3000, and a worker, unless --role says otherwise)',
  )
  .option('--role <role>', 'all | gateway | api | worker')
  .option('--port <port>', 'pgwire port (PGMIRROR_PORT, default 9900)')
  .option('--http-port <port>', 'HTTP port (PGMIRROR_HTTP_PORT, default 3000)')
  .option('--host <host>', 'listen address (PGMIRROR_LISTEN_HOST)')
  .option('--catalog-url <url>', 'catalog Postgres URL (PGMIRROR_CATALOG_URL); default: embedded catalog')
  .option('--data-dir <dir>', 'data directory for the embedded catalog (PGMIRROR_DATA_DIR)')
  .action(async (opts: Flags) => {
    try {
      await start(opts)
    } catch (e) {
      process.stderr.write(`pgmirror: ${(e as Error).message}\n`)
      process.exit(1)
    }
  })

await program.parseAsync(process.argv)
