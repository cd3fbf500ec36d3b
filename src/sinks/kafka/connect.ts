import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs'
import { PgMirrorError } from '../../errors.ts'
import type { KafkaConfig } from '../../model/peer.ts'

export function kafkaClientConfig(cfg: KafkaConfig, clientId = 'pgmirror'): KafkaJsConfig {
  const ssl =
    cfg.disable_tls === true
      ? false
      : cfg.root_ca || cfg.certificate
        ? {
            ...(cfg.root_ca ? { ca: [cfg.root_ca] } : {}),
            ...(cfg.certificate ? { cert: cfg.certificate } : {}),
            ...(cfg.private_key ? { key: cfg.private_key } : {}),
          }
        : cfg.disable_tls === false
  const sasl: SASLOptions | undefined =
    cfg.user && cfg.sasl_mechanism
      ? ({
          mechanism: cfg.sasl_mechanism.toLowerCase(),
          username: cfg.user,
          password: cfg.password ?? '',
        } as SASLOptions)
      : undefined
  return {
    clientId,
    brokers: [...cfg.servers],
    ssl,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }
}

/** A metadata request; returns the broker that answered. */
export async function validateKafka(cfg: KafkaConfig): Promise<{ brokers: string[] }> {
  const admin = new Kafka(kafkaClientConfig(cfg, 'pgmirror-validate')).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return { brokers: cluster.brokers.map((b) => `${b.host}:${b.port}`) }
  } catch (e) {
    throw new PgMirrorError(
      'connection_failure',
      `could not reach kafka brokers ${cfg.servers.join(',')}: ${(e as Error).message}`,
      { hint: 'check servers (host:port of at least one broker), TLS (disable_tls) and SASL settings' },
    )
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
