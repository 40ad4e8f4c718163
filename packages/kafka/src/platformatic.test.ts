import { describe, expect, it } from 'vitest';
import type { KafkaEnv } from './kafka-env.js';
import { connectionOptions, retryDelay } from './platformatic.js';

const base: KafkaEnv = {
  KAFKA_BROKERS: ['kafka-1:9092', 'kafka-2:9092'],
  KAFKA_CLIENT_ID: 'site-7',
  KAFKA_SSL: false,
  KAFKA_TOPIC_RAW: 'raw',
  KAFKA_TOPIC_PARSED: 'parsed',
  KAFKA_TOPIC_DLQ: 'dlq',
  KAFKA_TOPIC_PARTITIONS: 6,
  KAFKA_REPLICATION_FACTOR: 1,
  KAFKA_CREATE_TOPICS: true,
};

describe('@platformatic/kafka connection settings', () => {
  it('reach the same brokers as the kafkajs client, with TLS and SASL when configured', () => {
    expect(connectionOptions(base)).toEqual({
      clientId: 'site-7',
      bootstrapBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      connectTimeout: 5_000,
      requestTimeout: 30_000,
    });
    const secured = connectionOptions({
      ...base,
      KAFKA_SSL: true,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gridstream',
      KAFKA_SASL_PASSWORD: 'from-a-secret-file',
    });
    expect(secured.tls).toEqual({});
    expect(secured.sasl).toEqual({
      mechanism: 'SCRAM-SHA-512',
      username: 'gridstream',
      password: 'from-a-secret-file',
    });
    expect(connectionOptions({ ...base, KAFKA_SASL_MECHANISM: 'plain' }).sasl?.mechanism).toBe('PLAIN');
  });

  it('back off from 300 ms, doubling, to at most 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelay(null, 'produce', attempt))).toEqual([
      300, 600, 1_200, 2_400, 4_800, 9_600, 10_000, 10_000,
    ]);
  });
});
