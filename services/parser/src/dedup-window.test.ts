import type { InMessage } from '@gridstream/kafka';
import { describe, expect, it } from 'vitest';
import { DedupWindow, messageIdentity } from './dedup-window.js';

const message = (headers: Record<string, string>, value = '{"a":1}'): InMessage => ({
  topic: 'raw',
  partition: 0,
  offset: '0',
  key: null,
  value: Buffer.from(value),
  headers,
  timestamp: 0,
});

describe('messageIdentity', () => {
  it('is the source and message id when there is one, whatever the payload', () => {
    const a = message({ 'gs-source': 'amqp://q', 'gs-message-id': '000001-7' }, '{"x":1}');
    const b = message({ 'gs-source': 'amqp://q', 'gs-message-id': '000001-7' }, '{"x":2}');
    const other = message({ 'gs-source': 'amqp://other', 'gs-message-id': '000001-7' }, '{"x":1}');
    expect(messageIdentity(a)).toBe(messageIdentity(b));
    expect(messageIdentity(a)).not.toBe(messageIdentity(other));
  });

  it('falls back to the payload bytes without an id', () => {
    expect(messageIdentity(message({}, 'same'))).toBe(messageIdentity(message({ 'gs-source': 'x' }, 'same')));
    expect(messageIdentity(message({}, 'same'))).not.toBe(messageIdentity(message({}, 'other')));
  });

  it('tells a replay from its original, and one replay of a letter from another', () => {
    const original = message({ 'gs-source': 'amqp://q', 'gs-message-id': '9' });
    const replay = message({ 'gs-source': 'amqp://q', 'gs-message-id': '9', 'gs-replayed-from': 'dlq/0/4' });
    const replayAgain = message({
      'gs-source': 'amqp://q',
      'gs-message-id': '9',
      'gs-replayed-from': 'dlq/0/4',
    });
    const otherLetter = message({
      'gs-source': 'amqp://q',
      'gs-message-id': '9',
      'gs-replayed-from': 'dlq/1/4',
    });
    expect(messageIdentity(replay)).not.toBe(messageIdentity(original));
    expect(messageIdentity(replay)).toBe(messageIdentity(replayAgain));
    expect(messageIdentity(replay)).not.toBe(messageIdentity(otherLetter));
  });
});

describe('DedupWindow', () => {
  it('remembers the last `capacity` identities and forgets the oldest first', () => {
    const w = new DedupWindow(3);
    w.addAll([1n, 2n, 3n], 3n);
    expect([1n, 2n, 3n].map((i) => w.has(i))).toEqual([true, true, true]);
    w.addAll([4n], 4n);
    expect([1n, 2n, 3n, 4n].map((i) => w.has(i))).toEqual([false, true, true, true]);
    expect(w.size).toBe(3);
    expect(w.nextOffset).toBe(4n);
  });

  it('a snapshot holds the window as it will be after the pending identities, and changes nothing now', () => {
    const w = new DedupWindow(3);
    w.addAll([1n, 2n], 2n);
    const bytes = w.snapshotWith([3n, 4n], 9n);
    expect(w.has(3n)).toBe(false);
    expect(w.nextOffset).toBe(2n);
    const restored = DedupWindow.restore(bytes, 3)!;
    expect(restored.nextOffset).toBe(9n);
    expect([1n, 2n, 3n, 4n].map((i) => restored.has(i))).toEqual([false, true, true, true]);
    // Order survives: the next addition evicts 2, the oldest.
    restored.addAll([5n], 10n);
    expect([2n, 3n, 4n, 5n].map((i) => restored.has(i))).toEqual([false, true, true, true]);
  });

  it('restores into a smaller window keeping the newest, and refuses bytes that are not a snapshot', () => {
    const w = new DedupWindow(5);
    w.addAll([1n, 2n, 3n, 4n, 5n], 5n);
    const small = DedupWindow.restore(w.snapshotWith([], 5n), 2)!;
    expect([3n, 4n, 5n].map((i) => small.has(i))).toEqual([false, true, true]);
    expect(DedupWindow.restore(Buffer.from('not a snapshot at all'), 5)).toBeUndefined();
    expect(DedupWindow.restore(w.snapshotWith([], 5n).subarray(0, 20), 5)).toBeUndefined();
  });

  it('ignores an identity it already holds instead of holding it twice', () => {
    const w = new DedupWindow(2);
    w.addAll([7n, 7n, 8n], 3n);
    expect(w.size).toBe(2);
    w.addAll([9n], 4n);
    expect(w.has(7n)).toBe(false);
    expect(w.has(8n)).toBe(true);
  });
});
