import type { InMessage, Kafka, ReliableProducer } from '@gridstream/kafka';
import { describe, expect, it } from 'vitest';
import {
  DeadLetterStore,
  decodeCursor,
  encodeCursor,
  MAX_REPLAY_IDS,
  mergeNewestFirst,
  replayHeaders,
  toDeadLetterView,
} from './dead-letters.js';

const msg = (partition: number, offset: number, timestamp: number): InMessage => ({
  topic: 't',
  partition,
  offset: String(offset),
  key: null,
  value: Buffer.from(`${partition}/${offset}`),
  headers: {},
  timestamp,
});

describe('dead-letter paging', () => {
  it('merges partitions newest first and continues exactly where the page ended', () => {
    const p0 = [msg(0, 10, 100), msg(0, 11, 300), msg(0, 12, 500)];
    const p1 = [msg(1, 4, 200), msg(1, 5, 400)];
    const upper = new Map([
      [0, 13n],
      [1, 6n],
    ]);
    const first = mergeNewestFirst(
      new Map([
        [0, p0],
        [1, p1],
      ]),
      3,
      upper,
    );
    expect(first.items.map((m) => `${m.partition}/${m.offset}`)).toEqual(['0/12', '1/5', '0/11']);
    expect([...first.next]).toEqual([
      [0, 11n],
      [1, 5n],
    ]);
    const second = mergeNewestFirst(
      new Map([
        [0, p0.filter((m) => BigInt(m.offset) < first.next.get(0)!)],
        [1, p1.filter((m) => BigInt(m.offset) < first.next.get(1)!)],
      ]),
      3,
      first.next,
    );
    expect(second.items.map((m) => `${m.partition}/${m.offset}`)).toEqual(['1/4', '0/10']);
  });

  it('round-trips cursors and ignores malformed ones', () => {
    const cursor = new Map([
      [0, 15n],
      [3, 7n],
    ]);
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor('0:abc')).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
    expect(decodeCursor(undefined)).toBeUndefined();
  });
});

describe('replay headers', () => {
  it('keeps the original raw headers, drops every gs-dlq-* header and says where the replay came from', () => {
    const headers = replayHeaders(
      {
        'gs-schema': 'microgrid.v1',
        'gs-source': 'amqp://host/q',
        'gs-received-at': '2026-01-01T00:00:00.000Z',
        'gs-dlq-stage': 'parser',
        'gs-dlq-reason': 'not_json',
        'gs-dlq-sha256': 'x',
        'gs-replayed-from': 'dlq/9/9',
      },
      2,
      41n,
    );
    expect(headers).toEqual({
      'gs-schema': 'microgrid.v1',
      'gs-source': 'amqp://host/q',
      'gs-received-at': '2026-01-01T00:00:00.000Z',
      'gs-replayed-from': 'dlq/2/41',
    });
  });

  it('reads a letter’s reason, problems and truncation from its headers', () => {
    const view = toDeadLetterView({
      ...msg(1, 2, 3),
      headers: {
        'gs-dlq-stage': 'parser',
        'gs-dlq-reason': 'wrong_type',
        'gs-dlq-message': 'x: bad',
        'gs-dlq-problems': JSON.stringify([{ reason: 'wrong_type', path: 'a.b', message: 'bad' }]),
        'gs-dlq-truncated': 'true',
        'gs-dlq-original-size': '9999',
      },
    });
    expect(view).toMatchObject({ stage: 'parser', reason: 'wrong_type', truncated: true, size: 9999 });
    expect(view.problems).toHaveLength(1);
    expect(
      toDeadLetterView({ ...msg(1, 2, 3), headers: { 'gs-dlq-problems': '{not json' } }).problems,
    ).toEqual([]);
  });
});

describe('dead-letter replay', () => {
  it(`refuses more than ${MAX_REPLAY_IDS} letters in one request before reading anything`, async () => {
    // Neither Kafka nor the producer may be touched: empty objects would throw on any use.
    const store = new DeadLetterStore({} as Kafka, 'dlq', 'raw', 'dlq.replays');
    const ids = Array.from({ length: MAX_REPLAY_IDS + 1 }, (_, i) => ({
      partition: 0,
      offset: BigInt(i) * 1_000_000n,
    }));
    await expect(store.replay({} as ReliableProducer, ids)).rejects.toThrow(RangeError);
    await expect(store.replay({} as ReliableProducer, ids)).rejects.toThrow(/at most 1000 letters/);
  });
});
