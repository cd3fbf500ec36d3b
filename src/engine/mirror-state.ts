/**
 * The mirror state machine, as one pure function. The catalog row (`mirrors.status`) is its only persisted form;
 * commands and jobs both move a mirror only through `transition`.
 *
 *   SETUP ──setup_done──► SNAPSHOT ──snapshot_done──► RUNNING ──pause──► PAUSING ──stopped──► PAUSED
 *     │                      │   └─(initial_snapshot_only)──► COMPLETED        ▲                   │
 *     │                      └──pause──► PAUSING ─────────────────────────────┘      resume ◄─────┘
 *   any live state ──drop──► TERMINATING ──dropped──► (row deleted)
 *   SETUP/SNAPSHOT ──failed──► FAILED ──resume|resync──► SETUP
 *   RUNNING|PAUSED|COMPLETED|FAILED ──resync──► SETUP (new generation: tables re-copied)
 *   RUNNING|PAUSED ──tables_added──► SNAPSHOT (the new tables' snapshot, then streaming resumes)
 */
import { PgMirrorError } from '../errors.ts'

export const MirrorStates = [
  'STATUS_SETUP',
  'STATUS_SNAPSHOT',
  'STATUS_RUNNING',
  'STATUS_PAUSING',
  'STATUS_PAUSED',
  'STATUS_TERMINATING',
  'STATUS_TERMINATED',
  'STATUS_COMPLETED',
  'STATUS_FAILED',
] as const
export type MirrorState = (typeof MirrorStates)[number]

export type MirrorEvent =
  | { readonly kind: 'setup_done' }
  | { readonly kind: 'snapshot_done'; readonly initialSnapshotOnly: boolean }
  | { readonly kind: 'pause' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'resume'; readonly setupDone: boolean; readonly snapshotDone: boolean }
  | { readonly kind: 'drop' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'resync' }
  | { readonly kind: 'tables_added' }

const wrongState = (state: MirrorState, what: string): PgMirrorError =>
  new PgMirrorError('object_not_in_prerequisite_state', `cannot ${what} a mirror in state ${state}`)

/** Returns the next state, or throws 55000 when the event is not allowed in this state. */
export function transition(state: MirrorState, event: MirrorEvent): MirrorState {
  switch (event.kind) {
    case 'setup_done':
      if (state === 'STATUS_SETUP') return 'STATUS_SNAPSHOT'
      throw wrongState(state, 'finish setup of')
    case 'snapshot_done':
      if (state === 'STATUS_SNAPSHOT')
        return event.initialSnapshotOnly ? 'STATUS_COMPLETED' : 'STATUS_RUNNING'
      throw wrongState(state, 'finish the snapshot of')
    case 'pause':
      if (state === 'STATUS_SETUP' || state === 'STATUS_SNAPSHOT' || state === 'STATUS_RUNNING')
        return 'STATUS_PAUSING'
      if (state === 'STATUS_PAUSING' || state === 'STATUS_PAUSED') return state
      throw wrongState(state, 'pause')
    case 'stopped':
      if (state === 'STATUS_PAUSING') return 'STATUS_PAUSED'
      throw wrongState(state, 'stop')
    case 'resume':
      if (state === 'STATUS_PAUSED' || state === 'STATUS_PAUSING' || state === 'STATUS_FAILED') {
        if (!event.setupDone) return 'STATUS_SETUP'
        return event.snapshotDone ? 'STATUS_RUNNING' : 'STATUS_SNAPSHOT'
      }
      if (state === 'STATUS_RUNNING' || state === 'STATUS_SNAPSHOT' || state === 'STATUS_SETUP') return state
      throw wrongState(state, 'resume')
    case 'drop':
      if (state === 'STATUS_TERMINATED') throw wrongState(state, 'drop')
      return 'STATUS_TERMINATING'
    case 'failed':
      if (state === 'STATUS_TERMINATING' || state === 'STATUS_TERMINATED') return state
      return 'STATUS_FAILED'
    case 'resync':
      if (
        state === 'STATUS_RUNNING' ||
        state === 'STATUS_PAUSED' ||
        state === 'STATUS_COMPLETED' ||
        state === 'STATUS_FAILED'
      ) {
        return 'STATUS_SETUP'
      }
      throw wrongState(state, 'resync')
    case 'tables_added':
      if (state === 'STATUS_RUNNING' || state === 'STATUS_PAUSED' || state === 'STATUS_PAUSING')
        return 'STATUS_SNAPSHOT'
      throw wrongState(state, 'add tables to')
  }
}

/** States in which the mirror job should be running (or be queued to run). */
export const isActive = (s: MirrorState): boolean =>
  s === 'STATUS_SETUP' || s === 'STATUS_SNAPSHOT' || s === 'STATUS_RUNNING'
