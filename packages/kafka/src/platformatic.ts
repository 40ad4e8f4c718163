/**
 * Connection settings for @platformatic/kafka clients, built from the same KafkaEnv as the kafkajs client.
 * packages/kafka is moving from kafkajs to @platformatic/kafka one part at a time (issue 12); the producers
 * moved first. createKafka() records each Kafka's settings here so that a part already moved connects
 * exactly as the rest of the service does (same brokers, client id, TLS and SASL).
 */
import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import { type KafkaEnv, kafkaTlsOptions } from './kafka-env.js';
import type { Kafka } from './kafkajs.js';

const SASL_MECHANISMS: Record<NonNullable<KafkaEnv['KAFKA_SASL_MECHANISM']>, SASLOptions['mechanism']> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

/** What a @platformatic/kafka client needs to reach the cluster; no retry policy (each user sets its own). */
export type ConnectionOptions = Pick<
  BaseOptions,
  'clientId' | 'bootstrapBrokers' | 'tls' | 'sasl' | 'connectTimeout' | 'requestTimeout'
>;

export function connectionOptions(cfg: KafkaEnv): ConnectionOptions {
  const options: ConnectionOptions = {
    clientId: cfg.KAFKA_CLIENT_ID,
    bootstrapBrokers: cfg.KAFKA_BROKERS,
    connectTimeout: 5_000,
    requestTimeout: 30_000,
  };
  const tls = kafkaTlsOptions(cfg);
  if (tls) options.tls = tls;
  if (cfg.KAFKA_SASL_MECHANISM) {
    options.sasl = {
      mechanism: SASL_MECHANISMS[cfg.KAFKA_SASL_MECHANISM],
      username: cfg.KAFKA_SASL_USERNAME ?? '',
      password: cfg.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  return options;
}

const SETTINGS = new WeakMap<Kafka, ConnectionOptions>();

export function rememberConnection(kafka: Kafka, options: ConnectionOptions): void {
  SETTINGS.set(kafka, options);
}

/** The settings createKafka() built `kafka` from; every Kafka in the project comes from createKafka(). */
export function connectionOf(kafka: Kafka): ConnectionOptions {
  const options = SETTINGS.get(kafka);
  if (!options)
    throw new Error('this Kafka was not made by createKafka(): its connection settings are unknown');
  return options;
}

/**
 * Backoff between a client's own retries of one request: 300 ms doubling to 10 s, as the kafkajs client is
 * configured. The client gives up after its retries and the caller's loop pauses and tries again, so a long
 * outage is logged and seen by readiness instead of hidden inside one request that never returns.
 */
export function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(10_000, 300 * 2 ** Math.max(0, attempt - 1));
}
