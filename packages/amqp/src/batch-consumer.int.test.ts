import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@gridstream/config';
import { afterEach, describe, expect, it } from 'vitest';
import { AmqpBatchConsumer, type AmqpDelivery } from './batch-consumer.js';
import { openConnection } from './connect.js';
import { type AmqpConfig, amqpConfigFromEnv, amqpEnvSchema } from './env.js';
import { AmqpPublisher } from './publisher.js';
import { deleteTopology } from './topology.js';

// Real RabbitMQ (deploy/local/rabbitmq.sh start). Every test gets its own exchange and queue and deletes them.
const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

function testConfig(prefetch = 1000): AmqpConfig {
  const id = randomUUID().slice(0, 8);
  const cfg = amqpConfigFromEnv(
    loadConfig(amqpEnvSchema, {
      AMQP_URL: process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672',
      AMQP_EXCHANGE: `gs-test-${id}`,
      AMQP_QUEUE: `gs-test-${id}`,
      AMQP_PREFETCH: String(prefetch),
    }),
  );
  cleanups.push(async () => {
    const connection = await openConnection(cfg.connection, 'gs-test-cleanup');
    try {
      await deleteTopology(await connection.createChannel(), cfg.topology);
    } finally {
      await connection.close();
    }
  });
  return cfg;
}

async function publisherFor(cfg: AmqpConfig): Promise<AmqpPublisher> {
  const publisher = new AmqpPublisher({
    amqp: cfg,
    declare: 'topology',
    connectionName: 'gs-test-publisher',
  });
  cleanups.push(() => publisher.close());
  await publisher.connect(10_000);
  return publisher;
}

async function publishNumbered(publisher: AmqpPublisher, from: number, to: number): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = from; i < to; i++) {
    pending.push(
      publisher.publish(`site.${i % 3}`, Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i % 50) })), {
        messageId: `m-${i}`,
        timestamp: Math.floor(Date.now() / 1000),
        contentType: 'application/json',
      }),
    );
  }
  await Promise.all(pending);
}

function consumerFor(
  cfg: AmqpConfig,
  onBatch: (deliveries: AmqpDelivery[]) => Promise<void>,
  extra: Partial<ConstructorParameters<typeof AmqpBatchConsumer>[0]> = {},
): AmqpBatchConsumer {
  const consumer = new AmqpBatchConsumer({
    amqp: cfg,
    onBatch,
    batchSize: 200,
    lingerMs: 20,
    retryBackoff: { initialMs: 20, maxMs: 200 },
    reconnectBackoff: { initialMs: 100, maxMs: 1_000 },
    connectionName: `gs-test-consumer-${randomUUID()}`,
    ...extra,
  });
  cleanups.push(() => consumer.stop());
  return consumer;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function queueDepth(cfg: AmqpConfig): Promise<number> {
  const connection = await openConnection(cfg.connection, 'gs-test-inspect');
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(cfg.topology.queue)).messageCount;
  } finally {
    await connection.close();
  }
}

const indexOf = (d: AmqpDelivery) => (JSON.parse(d.body.toString('utf8')) as { i: number }).i;

describe('AmqpBatchConsumer against RabbitMQ', () => {
  it('delivers 5,000 messages in order, in batches, with bodies and properties intact', async () => {
    const cfg = testConfig();
    const publisher = await publisherFor(cfg);
    const received: AmqpDelivery[] = [];
    const batchSizes: number[] = [];
    const consumer = consumerFor(cfg, async (batch) => {
      batchSizes.push(batch.length);
      received.push(...batch);
    });
    consumer.start();
    await consumer.whenConsuming(10_000);
    await publishNumbered(publisher, 0, 5_000);
    await waitFor('5,000 deliveries acked', () => consumer.counters.acked === 5_000);

    expect(received.map(indexOf)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(received[7]!.body.toString()).toBe(JSON.stringify({ i: 7, pad: 'x'.repeat(7) }));
    expect(received[7]).toMatchObject({
      messageId: 'm-7',
      routingKey: 'site.1',
      exchange: cfg.topology.exchange,
      contentType: 'application/json',
      redelivered: false,
    });
    expect(typeof received[7]!.timestamp).toBe('number');
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(200);
    expect(consumer.counters).toMatchObject({
      deliveries: 5_000,
      acked: 5_000,
      failedAttempts: 0,
      abandoned: 0,
    });
    expect(consumer.state.connected).toBe(true);
    expect(consumer.state.lastBatchAt).toBeInstanceOf(Date);

    await consumer.stop();
    expect(consumer.state).toMatchObject({ connected: false, stopped: true });
    expect(await queueDepth(cfg)).toBe(0);
  });

  it('retries a failing batch as it is until it succeeds: nothing lost, nothing delivered twice', async () => {
    const cfg = testConfig();
    const publisher = await publisherFor(cfg);
    await publishNumbered(publisher, 0, 1_000);
    const attempts: string[][] = [];
    const handled: AmqpDelivery[] = [];
    let failuresLeft = 3;
    const consumer = consumerFor(cfg, async (batch) => {
      attempts.push(batch.map((d) => d.messageId!));
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('downstream unavailable');
      }
      handled.push(...batch);
    });
    consumer.start();
    await waitFor('1,000 deliveries acked', () => consumer.counters.acked === 1_000);
    await sleep(300); // would expose a late redelivery

    // The first four calls saw the very same batch.
    expect(attempts.slice(1, 4)).toEqual([attempts[0], attempts[0], attempts[0]]);
    expect(handled.map(indexOf)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(handled.every((d) => !d.redelivered)).toBe(true);
    expect(consumer.counters).toMatchObject({ deliveries: 1_000, acked: 1_000, failedAttempts: 3 });
  });

  it('stop() acks the batch in flight and releases the rest, which a new consumer gets exactly once', async () => {
    const cfg = testConfig();
    const publisher = await publisherFor(cfg);
    await publishNumbered(publisher, 0, 3_000);

    const first: number[] = [];
    const slow = consumerFor(
      cfg,
      async (batch) => {
        await sleep(25);
        first.push(...batch.map(indexOf));
      },
      { batchSize: 100 },
    );
    slow.start();
    await waitFor('the first consumer to handle some batches', () => first.length >= 500);
    await slow.stop();
    const firstCount = first.length;
    expect(slow.counters.acked).toBe(firstCount);
    expect(firstCount).toBeLessThan(3_000);
    // Everything the first consumer did not finish is back in the queue.
    expect(await queueDepth(cfg)).toBe(3_000 - firstCount);

    const second: AmqpDelivery[] = [];
    const fresh = consumerFor(cfg, async (batch) => {
      second.push(...batch);
    });
    fresh.start();
    await waitFor('the rest', () => fresh.counters.acked >= 3_000 - firstCount);
    await sleep(300);

    const secondIds = second.map(indexOf);
    expect(secondIds.length).toBe(3_000 - firstCount);
    const union = new Set([...first, ...secondIds]);
    expect(union.size).toBe(3_000);
    // Prefetched-but-unhandled deliveries were released by stop(), so some arrive marked redelivered.
    expect(second.some((d) => d.redelivered)).toBe(true);
  });

  it('reconnects after the broker closes its connection and still gets every message', async () => {
    const cfg = testConfig();
    const publisher = await publisherFor(cfg);
    const seen = new Set<number>();
    let deliveries = 0;
    const connectionName = `gs-test-reconnect-${randomUUID()}`;
    const consumer = consumerFor(
      cfg,
      async (batch) => {
        await sleep(5);
        deliveries += batch.length;
        for (const d of batch) seen.add(indexOf(d));
      },
      { connectionName, batchSize: 50 },
    );
    consumer.start();
    await consumer.whenConsuming(10_000);

    await publishNumbered(publisher, 0, 1_000);
    await waitFor('some messages before the cut', () => seen.size >= 200);
    await closeConnectionsNamed(connectionName);
    await waitFor('the consumer to notice', () => consumer.counters.reconnects >= 1, 10_000);
    await publishNumbered(publisher, 1_000, 2_000);
    await waitFor('every message after reconnecting', () => seen.size === 2_000, 60_000);

    expect(consumer.state.connected).toBe(true);
    // At-least-once: the batch cut mid-flight may come twice, nothing may be missing.
    expect(deliveries).toBeGreaterThanOrEqual(2_000);
    await consumer.stop();
    expect(await queueDepth(cfg)).toBe(0);
  });
});

describe('AmqpBatchConsumer channel boundaries', () => {
  it('never acks a batch of a dead channel on the new one: the broker redelivers it instead', async () => {
    const cfg = testConfig();
    const publisher = await publisherFor(cfg);
    await publishNumbered(publisher, 0, 500);
    const connectionName = `gs-test-stale-${randomUUID()}`;
    const calls: AmqpDelivery[][] = [];
    let consumer: AmqpBatchConsumer | undefined;
    consumer = consumerFor(
      cfg,
      async (batch) => {
        calls.push(batch);
        if (calls.length === 1) {
          // Cut the connection under the first batch and finish it only once a new channel is consuming:
          // an ack now would go to the new channel, where tag N names a different message.
          await closeConnectionsNamed(connectionName);
          await waitFor(
            'the new session',
            () => consumer!.counters.reconnects >= 1 && consumer!.state.connected,
          );
        }
      },
      { connectionName, batchSize: 100 },
    );
    consumer.start();
    await waitFor('all 500 acked after the cut', () => consumer!.counters.acked === 500, 60_000);
    await sleep(300);

    const firstBatch = calls[0]!.map(indexOf);
    expect(firstBatch).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const afterCut = calls.slice(1).flat();
    // Exactly the 500 messages once more after the cut, the first batch's among them, marked redelivered.
    expect(afterCut.map(indexOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(afterCut.filter((d) => firstBatch.includes(indexOf(d))).every((d) => d.redelivered)).toBe(true);
    expect(consumer.counters.abandoned).toBeGreaterThanOrEqual(100);
    // A stale ack would hit an unknown or already-acked tag, RabbitMQ would close the channel (406) and
    // the consumer would have to reconnect a second time.
    expect(consumer.counters.reconnects).toBe(1);
    expect(await queueDepth(cfg)).toBe(0);
  });
});

describe('AmqpPublisher', () => {
  it('resumes publishing after its connection is closed by the broker', async () => {
    const cfg = testConfig();
    const connectionName = `gs-test-pub-${randomUUID()}`;
    const publisher = new AmqpPublisher({ amqp: cfg, declare: 'topology', connectionName });
    cleanups.push(() => publisher.close());
    await publisher.connect(10_000);
    await publishNumbered(publisher, 0, 100);
    await closeConnectionsNamed(connectionName);
    await waitFor('the publisher to notice', () => publisher.counters.reconnects >= 1, 10_000);
    await publishNumbered(publisher, 100, 200);
    expect(publisher.connected).toBe(true);
    expect(await queueDepth(cfg)).toBe(200);
  });
});

/**
 * Closes our own connection from the server side (what a broker restart or a network cut looks like to the
 * client) through the management API, leaving every other client of the shared broker alone. The API
 * lists a new connection only after its next stats tick (a few seconds), hence the polling.
 */
async function closeConnectionsNamed(connectionName: string): Promise<void> {
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(
      `${MANAGEMENT_URL}/api/connections?columns=name,client_properties.connection_name`,
      {
        headers: { authorization: auth },
      },
    );
    if (!res.ok) throw new Error(`management API ${res.status}: is the rabbitmq_management plugin enabled?`);
    const list = (await res.json()) as Array<{
      name: string;
      client_properties?: { connection_name?: string };
    }>;
    const ours = list.filter((c) => c.client_properties?.connection_name === connectionName);
    if (ours.length > 0) {
      for (const c of ours) {
        const del = await fetch(`${MANAGEMENT_URL}/api/connections/${encodeURIComponent(c.name)}`, {
          method: 'DELETE',
          headers: { authorization: auth, 'x-reason': 'gridstream reconnect test' },
        });
        if (!del.ok && del.status !== 404) throw new Error(`closing ${c.name} failed: ${del.status}`);
      }
      return;
    }
    if (Date.now() > deadline) throw new Error(`no connection named ${connectionName} on the broker`);
    await sleep(250);
  }
}
