import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  removeTestTopics,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { runConsumer } from './consumer-loop.js';
import { consumerLag } from './lag.js';
import type { InMessage } from './messages.js';
import { ReliableProducer } from './reliable-producer.js';

const logger = testLogger();
const kafka = testKafka(logger);
const topic = uniqueName('test.consumer');
const bigTopic = uniqueName('test.big');
let producer: ReliableProducer;

beforeAll(async () => {
  await createTestTopics(kafka, [topic, bigTopic], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: `device-${i % 7}`,
    value: JSON.stringify({ i }),
    headers: { 'gs-schema': 'samples.v1' },
  }));
  await producer.send(topic, messages);
});

afterAll(async () => {
  await producer.disconnect();
  await removeTestTopics(kafka, [topic, bigTopic]);
});

const ids = (messages: InMessage[]) => messages.map((m) => JSON.parse(m.value!.toString()).i as number);

describe('runConsumer', () => {
  it('retries a failing batch until it succeeds: every message handled, none skipped, offsets committed', async () => {
    const groupId = uniqueName('group');
    const handled: number[] = [];
    let failures = 0;
    const consumer = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      retryBaseMs: 20,
      retryCapMs: 50,
      handle: async (messages) => {
        if (failures < 4) {
          failures++;
          throw new Error('downstream unavailable');
        }
        handled.push(...ids(messages));
      },
    });
    await waitFor(
      () => handled.length,
      (n) => n >= 300,
      { what: '300 handled' },
    );
    const lag = await waitFor(
      () => consumerLag(kafka, groupId, [topic]),
      (l) => l.length === 3 && l.every((p) => p.lag === 0),
      { what: 'committed offsets' },
    );
    await consumer.stop();
    expect(failures).toBe(4);
    expect(handled).toHaveLength(300);
    expect(new Set(handled).size).toBe(300);
    expect(lag.reduce((n, p) => n + Number(p.high), 0)).toBe(300);
    // Headers come through decoded.
  });

  it('commits nothing for a batch that never succeeded: the next consumer of the group gets it again', async () => {
    const groupId = uniqueName('group');
    let attempts = 0;
    const failing = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      retryBaseMs: 20,
      retryCapMs: 50,
      stuckAfterMs: 300,
      handle: async () => {
        attempts++;
        throw new Error('always failing');
      },
    });
    await waitFor(
      () => attempts,
      (n) => n >= 5,
      { what: 'failed attempts' },
    );
    // A partition failing for longer than stuckAfterMs makes the service unready.
    await waitFor(
      () => failing.check().ok,
      (ok) => !ok,
      { what: 'stuck check' },
    );
    expect(failing.check().detail).toMatch(/failing for/);
    await failing.stop();

    const handled: number[] = [];
    const ok = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      handle: async (messages) => {
        handled.push(...ids(messages));
      },
    });
    await waitFor(
      () => handled.length,
      (n) => n >= 300,
      { what: 'redelivery' },
    );
    await ok.stop();
    expect(new Set(handled).size).toBe(300);
    expect(ok.check().ok).toBe(true);
  });

  it('hands headers and keys through, and slices large batches', async () => {
    const groupId = uniqueName('group');
    const sliceSizes: number[] = [];
    const seen: InMessage[] = [];
    const consumer = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      maxMessagesPerCall: 16,
      handle: async (messages) => {
        sliceSizes.push(messages.length);
        seen.push(...messages);
      },
    });
    await waitFor(
      () => seen.length,
      (n) => n >= 300,
      { what: 'all messages' },
    );
    await consumer.stop();
    expect(Math.max(...sliceSizes)).toBeLessThanOrEqual(16);
    expect(seen[0]!.headers['gs-schema']).toBe('samples.v1');
    expect(seen.every((m) => /^device-\d$/.test(m.key!.toString()))).toBe(true);
  });
});

describe('runConsumer with a buffering handler (commitOffset, commit(), onAssignment, beforeLeave)', () => {
  it('commits only what the handler says is durable; commit() and beforeLeave move it on; a restart resumes there', async () => {
    const groupId = uniqueName('group');
    const buffered = new Map<number, InMessage[]>();
    const assignments: number[][] = [];
    let handleRef: Awaited<ReturnType<typeof runConsumer>> | undefined;
    const consumer = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      maxMessagesPerCall: 50,
      onAssignment: (assigned) => assignments.push(assigned.flatMap((a) => a.partitions).sort()),
      // Accepts every slice into a buffer and reports nothing durable: nothing may be committed.
      handle: async (messages, ctx) => {
        buffered.set(ctx.partition, [...(buffered.get(ctx.partition) ?? []), ...messages]);
        return { commitOffset: null };
      },
      beforeLeave: async () => {
        // "Flush": everything buffered is now durable; commit it while the partitions are still ours.
        await handleRef!.commit(
          [...buffered].map(([partition, ms]) => ({
            topic,
            partition,
            offset: (BigInt(ms[ms.length - 1]!.offset) + 1n).toString(),
          })),
        );
      },
    });
    handleRef = consumer;
    const total = () => [...buffered.values()].reduce((n, ms) => n + ms.length, 0);
    await waitFor(total, (n) => n >= 300, { what: '300 buffered' });
    expect(assignments).toEqual([[0, 1, 2]]);
    await new Promise((r) => setTimeout(r, 500));
    let lag = await consumerLag(kafka, groupId, [topic]);
    expect(lag.map((p) => p.committed)).toEqual(['-1', '-1', '-1']);

    // Out-of-band commit: 10 messages per partition "uploaded"; a partition we do not own is left out.
    const firstTen = [...buffered].map(([partition, ms]) => ({ topic, partition, offset: ms[10]!.offset }));
    await consumer.commit([...firstTen, { topic, partition: 7, offset: '5' }]);
    lag = await consumerLag(kafka, groupId, [topic]);
    expect(lag.map((p) => p.committed)).toEqual(
      [0, 1, 2].map((p) => firstTen.find((o) => o.partition === p)!.offset),
    );

    // stop(): intake stops, then beforeLeave commits the rest while the partitions are still ours.
    await consumer.stop();
    lag = await consumerLag(kafka, groupId, [topic]);
    expect(lag.every((p) => p.lag === 0)).toBe(true);
    expect(new Set(ids([...buffered.values()].flat())).size).toBe(300);
  });

  it('a restarted member resumes at the last commit(), not past the buffered slices', async () => {
    const groupId = uniqueName('group');
    const seen: InMessage[] = [];
    const first = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      handle: async (messages) => {
        seen.push(...messages);
        // Durable up to the first message of the slice only.
        return { commitOffset: messages[0]!.offset };
      },
    });
    await waitFor(
      () => seen.length,
      (n) => n >= 300,
      { what: 'first pass' },
    );
    await first.stop();
    const lag = await consumerLag(kafka, groupId, [topic]);
    const again: InMessage[] = [];
    const second = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger,
      handle: async (messages) => {
        again.push(...messages);
      },
    });
    const expected = lag.reduce((n, p) => n + p.lag, 0);
    expect(expected).toBeGreaterThan(0);
    await waitFor(
      () => again.length,
      (n) => n >= expected,
      { what: 'redelivery from the commit' },
    );
    await second.stop();
    expect(again).toHaveLength(expected);
    for (const p of lag) {
      const mine = again.filter((m) => m.partition === p.partition);
      if (mine.length > 0) expect(mine[0]!.offset).toBe(p.committed);
    }
  });
});

describe('ReliableProducer', () => {
  it('produces far more than one record batch worth in one call without MESSAGE_TOO_LARGE', async () => {
    const messages = Array.from({ length: 4_000 }, (_, i) => ({
      key: `k${i % 3}`,
      value: Buffer.alloc(1_000, i % 256),
    }));
    await producer.send(bigTopic, messages);
    const groupId = uniqueName('group');
    let count = 0;
    const consumer = await runConsumer({
      kafka,
      groupId,
      topics: [bigTopic],
      logger,
      handle: async (m) => {
        count += m.length;
      },
    });
    await waitFor(
      () => count,
      (n) => n >= 4_000,
      { what: '4000 big messages' },
    );
    await consumer.stop();
    expect(count).toBe(4_000);
  });
});
