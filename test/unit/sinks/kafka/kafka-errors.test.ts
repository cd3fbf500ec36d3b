import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isBrokerNotFound, kafkaError } from '../../../../src/sinks/kafka/kafka-errors.ts'

const cfg = { servers: ['k1:9092', 'k2:9092'], user: 'app' }
const named = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name }, extra)

describe('kafkaError', () => {
  it('maps configuration faults to their kinds, looking through kafkajs retry wrappers', () => {
    const tooLarge = named('KafkaJSNumberOfRetriesExceeded', 'retries exceeded', {
      cause: named(
        'KafkaJSProtocolError',
        'The request included a message larger than the max message size',
        {
          type: 'MESSAGE_TOO_LARGE',
        },
      ),
    })
    const big = kafkaError(tooLarge, cfg, 'write to')
    assert.equal(big.kind, 'program_limit_exceeded')
    assert.match(big.hint ?? '', /max_record_batch_bytes/)

    const sasl = kafkaError(
      named('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed'),
      cfg,
      'connect to',
    )
    assert.deepEqual(
      [sasl.kind, sasl.message],
      ['invalid_password', 'kafka authentication failed for user "app"'],
    )

    const acl = kafkaError(
      named('KafkaJSProtocolError', 'Not authorized', { type: 'TOPIC_AUTHORIZATION_FAILED' }),
      cfg,
      'write to',
    )
    assert.equal(acl.kind, 'insufficient_privilege')
  })

  it('everything else is a retryable connection failure naming the brokers', () => {
    const e = kafkaError(named('KafkaJSConnectionError', 'Connection timeout'), cfg, 'write to')
    assert.equal(e.kind, 'connection_failure')
    assert.equal(e.retryable, true)
    assert.equal(e.message, 'could not write to kafka brokers k1:9092,k2:9092: Connection timeout')
  })

  it('recognises the missing-controller error of the mock broker, also wrapped', () => {
    const inner = named('KafkaJSBrokerNotFound', 'Broker 0 not found in the cached metadata')
    assert.equal(isBrokerNotFound(inner), true)
    assert.equal(isBrokerNotFound(named('KafkaJSNonRetriableError', 'x', { cause: inner })), true)
    assert.equal(isBrokerNotFound(named('KafkaJSConnectionError', 'x')), false)
  })
})
