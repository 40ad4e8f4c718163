import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createTestTopics,
  removeTestTopics,
  testKafka,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { createKafka } from './client.js';
import { checkKafkaEnv, type KafkaEnv, kafkaEnvShape } from './kafka-env.js';
import { connectionOf } from './platformatic.js';
import { ReliableProducer } from './reliable-producer.js';
import { readTopicToEnd } from './topic-reader.js';

/**
 * The local Kafka's second listener (deploy/local/kafka.sh) speaks TLS and requires a client certificate,
 * both signed by a throw-away CA under .local/kafka/tls. Both clients of packages/kafka go through it with
 * the KAFKA_SSL_* settings, read from files as an operator would give them.
 */
const TLS_DIR = resolve(import.meta.dirname, '..', '..', '..', '.local', 'kafka', 'tls');
const TLS_BROKER = `127.0.0.1:${process.env.KAFKA_TLS_PORT ?? '9094'}`;
const schema = z.object(kafkaEnvShape).superRefine(checkKafkaEnv);
const logger = testLogger();
const plain = testKafka(logger);
const topic = uniqueName('test.tls');

const tlsEnv = (extra: Record<string, string> = {}) =>
  loadConfig(schema, {
    KAFKA_BROKERS: TLS_BROKER,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: join(TLS_DIR, 'ca.pem'),
    KAFKA_SSL_CERT_FILE: join(TLS_DIR, 'client.pem'),
    KAFKA_SSL_KEY_FILE: join(TLS_DIR, 'client.key'),
    ...extra,
  }) as KafkaEnv;

beforeAll(async () => {
  await createTestTopics(plain, [topic], 3);
});
afterAll(async () => {
  await removeTestTopics(plain, [topic]);
});

/** Whether a client with these settings gets cluster metadata through the TLS listener (no retries). */
async function reaches(env: KafkaEnv): Promise<boolean> {
  const kafka = createKafka(env, logger);
  const producer = new Producer({ ...connectionOf(kafka), retries: 0, requestTimeout: 5_000 });
  const kafkajsAdmin = kafka.admin({ retry: { retries: 0 } });
  try {
    const viaPlatformatic = await producer.metadata({ topics: [topic] }).then(
      () => true,
      () => false,
    );
    const viaKafkajs = await kafkajsAdmin.connect().then(
      () => kafkajsAdmin.fetchTopicMetadata({ topics: [topic] }).then(() => true),
      () => false,
    );
    expect(viaKafkajs).toBe(viaPlatformatic); // both clients read the same settings the same way
    return viaPlatformatic;
  } finally {
    await producer.close().catch(() => undefined);
    await kafkajsAdmin.disconnect().catch(() => undefined);
  }
}

describe('Kafka over TLS with a client certificate', () => {
  it('produces through ReliableProducer and reads back through the topic reader, every message once', async () => {
    const kafka = createKafka(tlsEnv(), logger);
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    try {
      await producer.send(
        topic,
        Array.from({ length: 300 }, (_, i) => ({ key: `k-${i % 7}`, value: JSON.stringify({ i }) })),
      );
    } finally {
      await producer.disconnect();
    }
    const read = await readTopicToEnd(kafka, topic);
    expect(read.map((m) => JSON.parse(m.value!.toString()).i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => i),
    );
    // …and the same records over the plaintext listener: one cluster.
    expect(await readTopicToEnd(plain, topic)).toHaveLength(300);
  });

  it('is refused without the client certificate, and does not trust the broker without the CA', async () => {
    expect(await reaches(tlsEnv())).toBe(true);
    const noClientCert = { ...tlsEnv(), KAFKA_SSL_CERT: undefined, KAFKA_SSL_KEY: undefined };
    expect(await reaches(noClientCert)).toBe(false);
    const noCa = { ...tlsEnv(), KAFKA_SSL_CA: undefined };
    expect(await reaches(noCa)).toBe(false);
  });

  it('names every TLS setting problem at start', () => {
    const key = readFileSync(join(TLS_DIR, 'client.key'), 'utf8');
    expect(() =>
      loadConfig(schema, { KAFKA_SSL_CA: 'x', KAFKA_SSL_KEY: key, KAFKA_BROKERS: TLS_BROKER }),
    ).toThrow(
      /KAFKA_SSL_CA: is set, so KAFKA_SSL must be true[\s\S]*KAFKA_SSL_CERT: a client certificate needs both/,
    );
  });
});
