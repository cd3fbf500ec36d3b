import type pg from 'pg'
import type { AlertStore } from '../catalog/alert-store.ts'
import type { MirrorStore } from '../catalog/mirror-store.ts'
import type { PeerStore } from '../catalog/peer-store.ts'
import type { AlertingConfig } from '../config.ts'
import type { Logger } from '../log.ts'
import type { JobQueue } from './queue.ts'
import type { Connectors } from './registry.ts'

/** What every command needs; built once in main.ts and handed down. */
export interface EngineContext {
  readonly catalog: pg.Pool
  readonly catalogUrl: string
  /** Where the gateway's catalog queries connect: a role that reads only the public catalog tables (reader-role.ts). */
  readonly catalogReaderUrl?: string | undefined
  readonly peers: PeerStore
  readonly mirrors: MirrorStore
  readonly alerts: AlertStore
  readonly alerting: AlertingConfig
  readonly queue: JobQueue
  readonly connectors: Connectors
  readonly log: Logger
}
