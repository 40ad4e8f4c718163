import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BatchItem, PointBatcher, type RejectedItem } from './point-batcher.js';

/** Items whose refs are unique across callers, as the writer's (one InMessage object per line). */
const items = (caller: string, n: number): BatchItem<string, string>[] =>
  Array.from({ length: n }, (_, i) => ({ point: `m,caller=${caller} v=${i} ${i}`, ref: `${caller}#${i}` }));

/**
 * A write that records every call and settles only when the test says so, so each test decides exactly
 * when InfluxDB "answers" and what: accepted, some lines refused, or a failure to retry.
 */
function recordingWrite() {
  const calls: {
    items: BatchItem<string, string>[];
    settle: (rejected: RejectedItem<string>[]) => void;
    fail: (e: unknown) => void;
  }[] = [];
  const write = (batch: BatchItem<string, string>[]) =>
    new Promise<RejectedItem<string>[]>((resolve, reject) => {
      calls.push({ items: batch, settle: resolve, fail: reject });
    });
  return { calls, write };
}

/** Settled state of a promise without awaiting it (for "not settled yet" checks). */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Lets the promise callbacks queued so far run. */
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('PointBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins concurrent add() calls into one write as soon as maxLines is reached, without waiting for the linger', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 10, 60_000);

    const a = track(batcher.add(items('a', 3)));
    const b = track(batcher.add(items('b', 3)));
    expect(calls).toHaveLength(0); // 6 < 10: waiting for more or for the linger
    const c = track(batcher.add(items('c', 4)));

    // 10 lines: one write, sent at once (no timer advanced), lines in arrival order.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items.map((i) => i.ref)).toEqual([
      ...items('a', 3).map((i) => i.ref),
      ...items('b', 3).map((i) => i.ref),
      ...items('c', 4).map((i) => i.ref),
    ]);

    // The next add starts a new batch; it does not ride along with the one in flight.
    const d = track(batcher.add(items('d', 2)));
    expect(calls).toHaveLength(1);
    await tick();
    expect([a.settled, b.settled, c.settled, d.settled]).toEqual([false, false, false, false]);

    calls[0]!.settle([]);
    await tick();
    expect([a.value, b.value, c.value]).toEqual([[], [], []]);
    expect(d.settled).toBe(false); // its write has not even been sent yet

    vi.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.items.map((i) => i.ref)).toEqual(['d#0', 'd#1']);
  });

  it('sends a batch below maxLines after lingerMs, counted from the first add', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 1_000, 100);

    const a = track(batcher.add(items('a', 2)));
    vi.advanceTimersByTime(60);
    const b = track(batcher.add(items('b', 1))); // must not restart the linger
    vi.advanceTimersByTime(39);
    expect(calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items).toHaveLength(3);

    calls[0]!.settle([]);
    await tick();
    expect(a.value).toEqual([]);
    expect(b.value).toEqual([]);

    // No stray timer fires a second (empty) write.
    vi.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(1);
  });

  it("resolves each caller with only ITS refused items, even when others' lines were refused in the same write", async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 9, 100);

    const a = track(batcher.add(items('a', 3)));
    const b = track(batcher.add(items('b', 3)));
    const c = track(batcher.add(items('c', 3)));
    expect(calls).toHaveLength(1);

    calls[0]!.settle([
      { ref: 'c#2', message: 'field type conflict (c2)' },
      { ref: 'a#0', message: 'field type conflict (a0)' },
      { ref: 'c#0', message: 'field type conflict (c0)' },
    ]);
    await tick();
    expect(a.value).toEqual([{ ref: 'a#0', message: 'field type conflict (a0)' }]);
    expect(b.value).toEqual([]);
    // In the caller's own item order, with InfluxDB's message kept per item.
    expect(c.value).toEqual([
      { ref: 'c#0', message: 'field type conflict (c0)' },
      { ref: 'c#2', message: 'field type conflict (c2)' },
    ]);
  });

  it('rejects every waiter of a batch whose write failed (so each partition retries), and the next batch works', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 1_000, 100);

    const a = track(batcher.add(items('a', 2)));
    const b = track(batcher.add(items('b', 5)));
    vi.advanceTimersByTime(100);
    const outage = new Error('connect ECONNREFUSED 127.0.0.1:8086');
    calls[0]!.fail(outage);
    await tick();
    expect(a.error).toBe(outage);
    expect(b.error).toBe(outage);

    // A retried slice goes out in a fresh batch; the failure left nothing behind.
    const retry = track(batcher.add(items('a', 2)));
    vi.advanceTimersByTime(100);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.items.map((i) => i.ref)).toEqual(['a#0', 'a#1']);
    calls[1]!.settle([]);
    await tick();
    expect(retry.value).toEqual([]);
  });

  it('flush() sends what is waiting immediately (shutdown does not wait out the linger)', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 1_000, 60_000);

    const a = track(batcher.add(items('a', 4)));
    expect(calls).toHaveLength(0);
    batcher.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items).toHaveLength(4);
    calls[0]!.settle([]);
    await tick();
    expect(a.value).toEqual([]);

    // The cancelled linger timer does not fire a second write, and flushing nothing sends nothing.
    batcher.flush();
    vi.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(1);
  });

  it('resolves an empty add() at once with nothing refused, without a write or a timer', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 10, 100);

    await expect(batcher.add([])).resolves.toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(calls).toHaveLength(0);

    // ...and does not count towards a batch of real lines.
    const a = track(batcher.add(items('a', 1)));
    await batcher.add([]);
    vi.advanceTimersByTime(100);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items).toHaveLength(1);
    calls[0]!.settle([]);
    await tick();
    expect(a.value).toEqual([]);
  });

  it('keeps at most maxInFlight writes going; a full batch waits for a slot and room() holds intake meanwhile', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 4, 60_000, 2);

    const a = track(batcher.add(items('a', 4)));
    const b = track(batcher.add(items('b', 4)));
    expect(calls).toHaveLength(2); // two writes in flight at once
    expect(track(batcher.room()).settled).toBe(false);
    await tick();

    // A third full batch: both slots are taken, so it waits, and intake is told to wait with it.
    const c = track(batcher.add(items('c', 4)));
    expect(calls).toHaveLength(2);
    const room = track(batcher.room());
    await tick();
    expect(room.settled).toBe(false);

    // The second write returns first: its callers settle, the waiting batch takes the slot, intake resumes.
    calls[1]!.settle([]);
    await tick();
    expect(b.value).toEqual([]);
    expect(a.settled).toBe(false);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.items.map((i) => i.ref)).toEqual(items('c', 4).map((i) => i.ref));
    expect(room.settled).toBe(true);

    const idle = track(batcher.idle());
    calls[0]!.settle([]);
    await tick();
    expect(idle.settled).toBe(false); // c's write is still out
    calls[2]!.settle([]);
    await tick();
    expect([a.value, c.value, idle.settled]).toEqual([[], [], true]);
  });

  it('room() gives way when its signal aborts (a stopping service does not wait for InfluxDB)', async () => {
    const { calls, write } = recordingWrite();
    const batcher = new PointBatcher(write, 2, 60_000, 1);
    track(batcher.add(items('a', 2)));
    track(batcher.add(items('b', 2)));
    expect(calls).toHaveLength(1);
    const stop = new AbortController();
    const room = track(batcher.room(stop.signal));
    await tick();
    expect(room.settled).toBe(false);
    stop.abort();
    await tick();
    expect(room.settled).toBe(true);
  });
});
