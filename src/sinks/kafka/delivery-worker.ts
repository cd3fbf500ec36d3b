/**
 * Entry of the delivery thread (delivery-thread.ts): one kafkajs producer, fed chunks in order by the sink's
 * thread. Errors go back as PgMirrorError fields; the thread ends on `close` after disconnecting.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { Kafka } from 'kafkajs'
import { toPgMirrorError } from '../../errors.ts'
import { kafkaClientConfig } from './connect.ts'
import type { FromWorker, ToWorker, WorkerInit } from './delivery-thread.ts'
import { PackDispatcher, ProducerLink } from './producer-link.ts'

const port = parentPort
if (port === null) throw new Error('delivery-worker.ts runs as a worker thread')
const init = workerData as WorkerInit
const reply = (m: FromWorker) => port.postMessage(m)

const link = new ProducerLink(new Kafka(kafkaClientConfig(init.cfg, init.clientId)), init.cfg, {
  skipIdempotence: init.skipIdempotence,
  onNoIdempotence: () => reply({ type: 'no-idempotence' }),
})
const dispatcher = new PackDispatcher(link)

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'send':
      dispatcher.handle(m.call, m.pack).then(
        () => reply({ type: 'done', id: m.id }),
        (e: unknown) => {
          const err = toPgMirrorError(e)
          reply({
            type: 'failed',
            id: m.id,
            error: { kind: err.kind, message: err.message, hint: err.hint, detail: err.detail },
          })
        },
      )
      return
    case 'end':
      dispatcher.done(m.call)
      return
    case 'close':
      void link.close().finally(() => {
        reply({ type: 'closed' })
        port.close()
      })
      return
  }
})
