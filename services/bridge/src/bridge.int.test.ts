import { createHash } from 'node:crypto';
import {
  type AmqpConfig,
  AmqpPublisher,
  amqpConfigFromEnv,
  amqpEnvSchema,
  deleteTopology,
  openConnection,
} from '@gridstream/amqp';
import { loadConfig } from '@gridstream/config';
import type { InMessage } from '@gridstream/kafka';
import { RawHeadersSchema } from '@gridstream/schema';
import { afterEach, describe, expect, it } from 'vitest';
import {
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_AMQP_URL,
  testKafka,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { createMicrogridSite } from '../../simulator/src/microgrid-generator.js';
import { startBridge } from './bridge-service.js';
import { bridgeConfigSchema } from './config.js';

// Real RabbitMQ and Kafka; every test has its own exchange, queue and topics and removes them.
const kafka = testKafka();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

interface Setup {
  env: Record<string, string>;
  amqp: AmqpConfig;
  rawTopic: string;
  dlqTopic: string;
}

function setup(): Setup {
  const name = uniqueName('gs-test-bridge');
  const env = {
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: name,
    AMQP_QUEUE: name,
    KAFKA_TOPIC_RAW: `${name}.raw`,
    KAFKA_TOPIC_DLQ: `${name}.dlq`,
    KAFKA_TOPIC_PARTITIONS: '3',
    LOG_LEVEL: 'silent',
  };
  const amqp = amqpConfigFromEnv(loadConfig(amqpEnvSchema, env));
  cleanups.push(() => removeTestTopics(kafka, [env.KAFKA_TOPIC_RAW, env.KAFKA_TOPIC_DLQ]));
  cleanups.push(async () => {
    const connection = await openConnection(amqp.connection, 'gs-test-cleanup');
    try {
      await deleteTopology(await connection.createChannel(), amqp.topology);
    } finally {
      await connection.close();
    }
  });
  return { env, amqp, rawTopic: env.KAFKA_TOPIC_RAW, dlqTopic: env.KAFKA_TOPIC_DLQ };
}

async function startTestBridge(env: Record<string, string>) {
  const bridge = await startInProcess('bridge', bridgeConfigSchema, startBridge, env);
  cleanups.push(() => bridge.stop());
  await waitFor(
    () => bridge.readiness.report(),
    (r) => r.ready,
    { what: 'bridge ready', timeoutMs: 30_000 },
  );
  return bridge;
}

async function publisherFor(amqp: AmqpConfig): Promise<AmqpPublisher> {
  const publisher = new AmqpPublisher({
    amqp,
    declare: 'exchange',
    connectionName: 'gs-test-bridge-publisher',
  });
  cleanups.push(() => publisher.close());
  await publisher.connect(10_000);
  return publisher;
}

async function queueDepth(amqp: AmqpConfig): Promise<number> {
  const connection = await openConnection(amqp.connection, 'gs-test-inspect');
  try {
    return (await (await connection.createChannel()).checkQueue(amqp.topology.queue)).messageCount;
  } finally {
    await connection.close();
  }
}

const header = (m: InMessage, name: string) => m.headers[name];

describe('bridge: RabbitMQ -> Kafka', () => {
  it('forwards 2,000 gateway messages of 2 sites byte for byte, keyed by site, with raw headers', async () => {
    const { env, amqp, rawTopic } = setup();
    await startTestBridge(env);
    const publisher = await publisherFor(amqp);

    const sites = ['000001', '000002'].map((siteId, i) => createMicrogridSite({ siteId, seed: 100 + i }));
    const sent = new Map<string, Buffer>();
    const start = Date.parse('2024-03-01T00:00:00Z');
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const site = sites[i % 2]!;
      const body = site.next(new Date(start + Math.floor(i / 2) * 1_000), 'Asia/Seoul');
      const messageId = `${site.siteId}-${site.sequence}`;
      sent.set(messageId, body);
      pending.push(
        publisher.publish(`site.${site.siteId}`, body, { messageId, contentType: 'application/json' }),
      );
    }
    await Promise.all(pending);

    const got = await readTopic(kafka, rawTopic, 2_000, 90_000);
    expect(got).toHaveLength(2_000);
    const ids = new Set<string>();
    const lastSeqBySite = new Map<string, number>();
    for (const m of [...got].sort(
      (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
    )) {
      const messageId = header(m, 'gs-message-id')!;
      ids.add(messageId);
      const [siteId, seq] = messageId.split('-') as [string, string];
      expect(m.value!.equals(sent.get(messageId)!), messageId).toBe(true);
      expect(m.key?.toString()).toBe(siteId);
      expect(RawHeadersSchema.safeParse(m.headers).success).toBe(true);
      expect(header(m, 'gs-schema')).toBe('microgrid.v1');
      expect(header(m, 'gs-source')).toBe(`amqp://127.0.0.1/${amqp.topology.queue}`);
      expect(Date.now() - Date.parse(header(m, 'gs-received-at')!)).toBeLessThan(120_000);
      // One site, one partition, in publish order.
      expect(Number(seq)).toBeGreaterThan(lastSeqBySite.get(siteId) ?? 0);
      lastSeqBySite.set(siteId, Number(seq));
    }
    expect(ids.size).toBe(2_000);
    const partitionsBySite = new Map<string, Set<number>>();
    for (const m of got) {
      const site = m.key!.toString();
      if (!partitionsBySite.has(site)) partitionsBySite.set(site, new Set());
      partitionsBySite.get(site)!.add(m.partition);
    }
    expect([...partitionsBySite.values()].every((p) => p.size === 1)).toBe(true);
    await waitFor(
      () => queueDepth(amqp),
      (n) => n === 0,
      { what: 'queue drained (all acked)' },
    );
  });

  it('dead-letters a 2 MB message as oversized and keeps forwarding the rest', async () => {
    const { env, amqp, rawTopic, dlqTopic } = setup();
    const bridge = await startTestBridge(env);
    const publisher = await publisherFor(amqp);
    const site = createMicrogridSite({ siteId: '000003', seed: 3 });
    const now = Date.now();
    const normal = (i: number) => site.next(new Date(now + i * 1_000), 'Asia/Seoul');

    const big = Buffer.concat([
      Buffer.from('{"header":{"site_id":"000003","timestamp":"2024-03-01 09:00:00"},"blob":"'),
      Buffer.alloc(2 * 1024 * 1024, 'x'),
      Buffer.from('"}'),
    ]);
    const before = Array.from({ length: 5 }, (_, i) => normal(i));
    const after = Array.from({ length: 5 }, (_, i) => normal(10 + i));
    for (const [i, body] of before.entries())
      await publisher.publish('site.000003', body, { messageId: `b-${i}` });
    await publisher.publish('site.000003', big, { messageId: 'big-1' });
    for (const [i, body] of after.entries())
      await publisher.publish('site.000003', body, { messageId: `a-${i}` });

    const letters = await readTopic(kafka, dlqTopic, 1, 60_000);
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter.key?.toString()).toBe('000003');
    expect(letter.headers).toMatchObject({
      'gs-dlq-stage': 'bridge',
      'gs-dlq-reason': 'oversized',
      'gs-dlq-original-size': String(big.length),
      'gs-dlq-truncated': 'true',
      'gs-dlq-sha256': createHash('sha256').update(big).digest('hex'),
      'gs-dlq-source-topic': amqp.topology.queue,
      'gs-schema': 'microgrid.v1',
      'gs-message-id': 'big-1',
    });
    expect(letter.value!.length).toBeLessThan(big.length);
    expect(big.subarray(0, letter.value!.length).equals(letter.value!)).toBe(true);

    const forwarded = await readTopic(kafka, rawTopic, 10, 60_000);
    expect(forwarded.map((m) => m.headers['gs-message-id'])).toEqual([
      ...before.map((_, i) => `b-${i}`),
      ...after.map((_, i) => `a-${i}`),
    ]);
    await waitFor(
      () => queueDepth(amqp),
      (n) => n === 0,
      { what: 'queue drained (all acked)' },
    );
    const metrics = await bridge.metrics.metrics();
    expect(metrics).toMatch(/gridstream_dead_letters_total\{stage="bridge",reason="oversized"[^}]*\} 1/);
    expect(metrics).toMatch(/gridstream_bridge_messages_forwarded_total\{[^}]*\} 10/);
  });

  it('refuses to start when BRIDGE_MAX_MESSAGE_BYTES exceeds what the raw topic accepts', async () => {
    const { env } = setup();
    await expect(
      startInProcess('bridge', bridgeConfigSchema, startBridge, {
        ...env,
        BRIDGE_MAX_MESSAGE_BYTES: '2000000',
      }),
    ).rejects.toThrow(/does not fit topic .*max\.message\.bytes=/);
  });
});
