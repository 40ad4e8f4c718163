import { deadLetter, ReliableProducer } from '@gridstream/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  testKafka,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { DeadLetterStore } from './dead-letters.js';

/**
 * Replay against a real DLQ: ids the topic does not hold (past a partition's end, a partition it does not
 * have) are refused as not found at once — a reader waiting for them used to hang the request 20 s and end
 * in 503 — and a letter chosen twice is replayed once.
 */
const kafka = testKafka();
const names = { dlq: uniqueName('dl.dlq'), raw: uniqueName('dl.raw'), replays: uniqueName('dl.replays') };
let producer: ReliableProducer;

beforeAll(async () => {
  await createTestTopics(kafka, [names.dlq, names.raw], 2);
  await createTestTopics(kafka, [names.replays], 1);
  producer = new ReliableProducer(kafka, testLogger());
  await producer.connect();
  await producer.sendBatch([
    {
      topic: names.dlq,
      messages: [
        {
          ...deadLetter({ stage: 'parser', reason: 'not_json', payload: Buffer.from('{one'), key: 'a' }),
          partition: 0,
        },
        {
          ...deadLetter({ stage: 'parser', reason: 'not_json', payload: Buffer.from('{two'), key: 'b' }),
          partition: 1,
        },
      ],
    },
  ]);
});

afterAll(async () => {
  await producer?.disconnect();
  await removeTestTopics(kafka, Object.values(names));
});

describe('DeadLetterStore.replay', () => {
  it('refuses ids the topic does not hold as not found, and replays a letter chosen twice once', async () => {
    const store = new DeadLetterStore(kafka, names.dlq, names.raw, names.replays);
    const result = await store.replay(producer, [
      { partition: 0, offset: 0n },
      { partition: 0, offset: 0n },
      { partition: 0, offset: 99n },
      { partition: 7, offset: 0n },
      { partition: 1, offset: 0n },
    ]);
    expect(result).toEqual({
      replayed: ['0/0', '1/0'],
      refused: [
        { id: '0/99', reason: 'not found (deleted by retention?)' },
        { id: '7/0', reason: 'not found (deleted by retention?)' },
      ],
    });
    const raw = await readTopic(kafka, names.raw, 2, 10_000);
    expect(raw.map((m) => m.value?.toString()).sort()).toEqual(['{one', '{two']);
  });
});
