/** One point on its way to the sink, and what it came from (so its outcome reaches its partition). */
export interface BatchItem<P, T> {
  point: P;
  ref: T;
}

export interface RejectedItem<T> {
  ref: T;
  message: string;
}

/** Writes points; resolves with the items the sink refused for good (they go to the DLQ), throws to retry. */
export type WritePoints<P, T> = (items: BatchItem<P, T>[]) => Promise<RejectedItem<T>[]>;

interface Waiter<P, T> {
  items: BatchItem<P, T>[];
  resolve: (rejected: RejectedItem<T>[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers points from several partitions into one write of up to `maxPoints`, or whatever has arrived
 * after `lingerMs`, and keeps up to `maxInFlight` writes going at once: databases ingest several requests
 * in parallel, and one write at a time left InfluxDB idle while the writer decoded the next batch (46% of a
 * raw POST's rate). Each caller's promise settles with the outcome of the write that carried its points, so
 * each partition commits only what the sink actually accepted. Writes leave in arrival order; with several
 * in flight the server may apply them in any order, which only matters for one point (same identity)
 * written twice with different values within that window.
 */
export class PointBatcher<P, T> {
  private waiting: Waiter<P, T>[] = [];
  private points = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** The waiting points are due (full, lingered or flushed) but every write slot is taken. */
  private due = false;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: WritePoints<P, T>,
    private readonly maxPoints: number,
    private readonly lingerMs: number,
    private readonly maxInFlight = 1,
  ) {}

  add(items: BatchItem<P, T>[]): Promise<RejectedItem<T>[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.points += items.length;
      if (this.points >= this.maxPoints) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /**
   * Resolves once the batch being gathered has room (fewer than `maxPoints` points waiting), or when `signal`
   * aborts. Intake awaits it, so a slow sink holds at most `maxInFlight` writes plus one full batch
   * (and the slice that filled it) in memory instead of everything Kafka can deliver.
   */
  room(signal?: AbortSignal): Promise<void> {
    if (this.points < this.maxPoints || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.roomWaiters.push(done);
    });
  }

  /** Resolves when nothing waits and no write is in flight (after {@link flush} at shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends whatever is waiting now, or as soon as a write slot frees (used at shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    if (this.inFlight >= this.maxInFlight) {
      this.due = true;
      return;
    }
    this.due = false;
    const waiting = this.waiting;
    this.waiting = [];
    this.points = 0;
    const rooms = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of rooms) r();
    this.inFlight++;
    const items = waiting.flatMap((w) => w.items);
    this.write(items)
      .then(
        (rejected) => {
          // The everyday case, without a lookup (and an empty array) per point.
          if (rejected.length === 0) {
            for (const w of waiting) w.resolve([]);
            return;
          }
          const byRef = new Map<T, RejectedItem<T>[]>();
          for (const r of rejected) byRef.set(r.ref, [...(byRef.get(r.ref) ?? []), r]);
          for (const w of waiting) w.resolve(w.items.flatMap((i) => byRef.get(i.ref) ?? []));
        },
        (error) => {
          for (const w of waiting) w.reject(error);
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.due || this.points >= this.maxPoints) this.flush();
        if (this.inFlight === 0 && this.waiting.length === 0) {
          const idle = this.idleWaiters;
          this.idleWaiters = [];
          for (const r of idle) r();
        }
      });
  }
}
