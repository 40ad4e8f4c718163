import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  removeTestTopics,
  testKafka,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { AdminPartitionCounts, PartitionRouter } from './partition-requests.js';
import { partitionOfKey } from './partitioner.js';
import { ReliableProducer } from './reliable-producer.js';
import { readTopicToEnd } from './topic-reader.js';

const logger = testLogger();
const kafka = testKafka(logger);
const topic = uniqueName('test.routed');
const other = uniqueName('test.routed-other');

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 6);
  await createTestTopics(kafka, [other], 2);
});

afterAll(async () => {
  await removeTestTopics(kafka, [topic, other]);
});

const messages = (n: number, prefix = 'site') =>
  Array.from({ length: n }, (_, i) => ({
    key: i % 13 === 0 ? null : `${prefix}-${i % 17}`,
    value: JSON.stringify({ i }),
    headers: { 'gs-message-id': `m-${i}` },
  }));

describe('PartitionRouter', () => {
  it('cuts a send into requests of one topic partition each, routed like the Java client, in order', async () => {
    const counts = new AdminPartitionCounts(kafka);
    const router = new PartitionRouter(counts.read, 2_000);
    try {
      const input = messages(300);
      const requests = await router.requests([
        { topic, messages: input },
        { topic: other, messages: messages(40, 'dev') },
      ]);
      for (const request of requests) {
        expect(request).toHaveLength(1); // one topic…
        const partitions = new Set(request[0]!.messages.map((m) => m.partition));
        expect(partitions.size).toBe(1); // …and one partition per request
      }
      // Each message where murmur2 puts its key (no key: partition 0), each partition's messages in order.
      const routed = requests.flatMap((r) => r[0]!.messages.map((m) => ({ topic: r[0]!.topic, ...m })));
      expect(routed).toHaveLength(340);
      for (const m of routed.filter((r) => r.topic === topic)) {
        expect(m.partition).toBe(m.key === null ? 0 : partitionOfKey(m.key, 6));
      }
      for (let p = 0; p < 6; p++) {
        const order = routed
          .filter((m) => m.topic === topic && m.partition === p)
          .map((m) => JSON.parse(String(m.value)).i);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      // 2,000-byte requests: the 300 messages needed several per partition.
      expect(requests.filter((r) => r[0]!.topic === topic).length).toBeGreaterThan(6);
    } finally {
      await counts.close();
    }
  });

  it('is how ReliableProducer sends: every message lands once, in its partition, in order', async () => {
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    try {
      await producer.send(topic, messages(600));
    } finally {
      await producer.disconnect();
    }
    const stored = await readTopicToEnd(kafka, topic);
    expect(stored).toHaveLength(600);
    const ids = stored.map((m) => m.headers['gs-message-id']);
    expect(new Set(ids).size).toBe(600);
    for (const m of stored) {
      const key = m.key?.toString() ?? null;
      expect(m.partition).toBe(key === null ? 0 : partitionOfKey(key, 6));
    }
    for (let p = 0; p < 6; p++) {
      const order = stored.filter((m) => m.partition === p).map((m) => JSON.parse(m.value!.toString()).i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});
