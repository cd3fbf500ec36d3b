import type pg from 'pg'
import type { PeerStore } from '../catalog/peer-store.ts'
import type { Logger } from '../log.ts'

/** What every command needs; built once in main.ts and handed down. */
export interface EngineContext {
  readonly catalog: pg.Pool
  readonly catalogUrl: string
  readonly peers: PeerStore
  readonly log: Logger
}
