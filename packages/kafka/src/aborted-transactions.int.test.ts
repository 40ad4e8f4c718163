import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readCommitted,
  removeTestTopics,
  sleep,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { runConsumer } from './consumer-loop.js';

// Two transactions interleaved on one partition, the earlier-started one aborted last: the broker lists it
// second among the aborted transactions, and kafkajs 2.2.4 alone delivered its record as committed (the
// soak's archive duplicates). Every reader of ours must see only the committed transaction.
const logger = testLogger();
const kafka = testKafka(logger);
const topic = uniqueName('test.aborted');
const producers: Producer[] = [];

function transactional(name: string): Producer {
  const producer = kafka.producer({
    transactionalId: uniqueName(name),
    idempotent: true,
    maxInFlightRequests: 1,
  });
  producers.push(producer);
  return producer;
}

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 1);
  const [first, second, third] = [transactional('first'), transactional('second'), transactional('third')];
  await Promise.all(producers.map((p) => p.connect()));
  const a = await first.transaction();
  await a.send({ topic, messages: [{ key: 'a', value: 'first-aborted' }] }); // offset 0
  const b = await second.transaction();
  await b.send({ topic, messages: [{ key: 'b', value: 'second-aborted' }] }); // offset 1
  await b.abort(); // marker 2: listed first
  await a.abort(); // marker 3: listed second, but began first
  // abort() returns once the coordinator has decided; the marker is written after. A busy broker (the suite
  // runs this after the soak) wrote the committed record before a's marker. The last stable offset (what a
  // read_committed ListOffsets gives) reaches 4 only once both markers are in the log.
  await untilStableOffset(4);
  const c = await third.transaction();
  await c.send({ topic, messages: [{ key: 'c', value: 'committed' }] }); // offset 4
  await c.commit();
});

async function untilStableOffset(offset: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      // kafkajs's admin lists offsets read_committed: `high` is the last stable offset.
      async () => Number((await admin.fetchTopicOffsets(topic))[0]!.high),
      (end) => end >= offset,
      { timeoutMs: 30_000, what: `last stable offset ${offset} of ${topic}` },
    );
  } finally {
    await admin.disconnect();
  }
}

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect()));
  await removeTestTopics(kafka, [topic]);
});

describe('aborted transactions', () => {
  it('a topic reader sees only the committed record', async () => {
    const messages = await readCommitted(kafka, topic, 30_000);
    expect(messages.map((m) => m.value?.toString())).toEqual(['committed']);
    expect(messages.map((m) => m.offset)).toEqual(['4']);
  });

  it('a consumer group sees only the committed record', async () => {
    const seen: string[] = [];
    const consumer = await runConsumer({
      kafka,
      groupId: uniqueName('group'),
      topics: [topic],
      logger,
      handle: async (messages) => {
        seen.push(...messages.map((m) => `${m.offset}:${m.value?.toString()}`));
      },
    });
    try {
      await waitFor(
        () => seen.length,
        (n) => n >= 1,
        { timeoutMs: 30_000, what: 'the committed record' },
      );
      await sleep(1_000); // anything more would be a leak
      expect(seen).toEqual(['4:committed']);
    } finally {
      await consumer.stop();
    }
  });
});
