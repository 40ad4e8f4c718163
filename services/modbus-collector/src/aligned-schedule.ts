import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds: wall-clock steps (NTP, DST-less but still) must not bend the schedule. */
export const monotonicNow = (): number => performance.now();

/**
 * Poll slots at `first + k·interval`. Each slot is computed from the first one, never from the end of
 * the previous poll, so slow polls and late timers do not accumulate drift (a 1 s poll that takes
 * 40 ms would otherwise drift 40 ms per cycle and lose a reading every 25 s against the wall clock).
 * The first slot is aligned to a multiple of the interval on the wall clock (plus `phaseMs`), so that
 * devices polled at the same interval read together and timestamps are easy to line up downstream.
 */
export class AlignedSchedule {
  /** Monotonic time of slot 0. */
  readonly first: number;

  constructor(
    readonly intervalMs: number,
    { phaseMs = 0, wallNow = Date.now(), monoNow = monotonicNow() } = {},
  ) {
    const wallFirst = Math.ceil((wallNow - phaseMs) / intervalMs) * intervalMs + phaseMs;
    this.first = monoNow + (wallFirst - wallNow);
  }

  at(slot: number): number {
    return this.first + slot * this.intervalMs;
  }

  /**
   * The slot to run after `slot` finished at monotonic `now`: the next one that has not started yet.
   * Slots that passed while the poll overran are skipped (the result minus `slot + 1` of them), never
   * run back to back: a burst of catch-up reads would only hammer a slow device harder and return the
   * same instantaneous values.
   */
  nextSlot(slot: number, now: number): number {
    const due = Math.ceil((now - this.first) / this.intervalMs);
    return Math.max(slot + 1, due);
  }
}

/** Resolves at monotonic `target` (or at once if past), or early when `signal` aborts. */
export function sleepUntil(target: number, signal: AbortSignal): Promise<void> {
  const delay = target - monotonicNow();
  if (delay <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, delay);
    signal.addEventListener('abort', done, { once: true });
  });
}
