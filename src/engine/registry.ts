/**
 * Which Source and Sink serve which peer type. The only place that knows the concrete connector classes.
 */
import { PgMirrorError } from '../errors.ts'
import type { Peer } from '../model/peer.ts'
import type { Sink, SinkSettings } from '../sinks/sink.ts'
import { createClickhouseSink } from '../sinks/clickhouse/clickhouse-sink.ts'
import { createKafkaSink } from '../sinks/kafka/kafka-sink.ts'
import { createPostgresSink } from '../sinks/postgres/postgres-sink.ts'
import { PostgresSource } from '../sources/postgres/postgres-source.ts'
import type { Source } from '../sources/source.ts'

export interface Connectors {
  source(peer: Peer): Source
  sink(peer: Peer, settings: SinkSettings): Sink
}

export const connectors: Connectors = {
  source(peer) {
    if (peer.type !== 'POSTGRES') {
      throw new PgMirrorError(
        'feature_not_supported',
        `a mirror source must be a postgres peer; "${peer.name}" is ${peer.type.toLowerCase()}`,
      )
    }
    return new PostgresSource(peer.config)
  },
  sink(peer, settings) {
    switch (peer.type) {
      case 'POSTGRES':
        return createPostgresSink(peer.config, settings)
      case 'KAFKA':
        return createKafkaSink(peer.config, settings)
      case 'CLICKHOUSE':
        return createClickhouseSink(peer.config, settings)
    }
  },
}
