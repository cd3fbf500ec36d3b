/**
 * kafkajs errors → PgMirrorError. Configuration faults (authentication, authorization, limits, bad topic names)
 * get their own kinds and hints; everything else is a retryable connection failure naming the brokers, which the
 * engine retries with backoff while the mirror status shows the message.
 */
import { PgMirrorError } from '../../errors.ts'
import type { KafkaConfig } from '../../model/peer.ts'

interface KafkaJsErrorLike {
  readonly name?: string
  readonly message?: string
  readonly type?: string
  readonly cause?: unknown
  readonly originalError?: unknown
}

/** kafkajs wraps the error that ended its retries; the innermost one says what went wrong. */
function rootCause(e: unknown): KafkaJsErrorLike {
  let cur = (e ?? {}) as KafkaJsErrorLike
  for (let depth = 0; depth < 5; depth++) {
    const inner = cur.cause ?? cur.originalError
    if (inner === undefined || inner === null || typeof inner !== 'object') break
    cur = inner as KafkaJsErrorLike
  }
  return cur
}

/** True for the kafkajs error that says a broker (or the "controller") named in metadata does not exist. */
export const isBrokerNotFound = (e: unknown): boolean => rootCause(e).name === 'KafkaJSBrokerNotFound'

export function kafkaError(e: unknown, cfg: KafkaConfig, action: string): PgMirrorError {
  if (e instanceof PgMirrorError) return e
  const root = rootCause(e)
  const outer = (e ?? {}) as KafkaJsErrorLike
  const detail = root.message || outer.message || String(e)
  const brokers = cfg.servers.join(',')
  if (root.name === 'KafkaJSSASLAuthenticationError' || root.type === 'SASL_AUTHENTICATION_FAILED') {
    return new PgMirrorError('invalid_password', `kafka authentication failed for user "${cfg.user ?? ''}"`, {
      detail,
      hint: 'check user, password and sasl_mechanism of the kafka peer',
    })
  }
  switch (root.type) {
    case 'TOPIC_AUTHORIZATION_FAILED':
    case 'CLUSTER_AUTHORIZATION_FAILED':
      return new PgMirrorError('insufficient_privilege', `could not ${action} kafka: ${detail}`, {
        hint: 'grant the peer user WRITE and DESCRIBE on the mapped topics and on "_pgmirror_checkpoints"',
      })
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return new PgMirrorError('program_limit_exceeded', `could not ${action} kafka: ${detail}`, {
        hint: "lower the peer's max_record_batch_bytes, or raise the broker's message.max.bytes",
      })
    case 'INVALID_TOPIC_EXCEPTION':
      return new PgMirrorError('invalid_parameter_value', `could not ${action} kafka: ${detail}`)
  }
  return new PgMirrorError('connection_failure', `could not ${action} kafka brokers ${brokers}: ${detail}`, {
    hint: 'check that the brokers are up and reachable; pgmirror retries with backoff',
  })
}
