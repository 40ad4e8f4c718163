/**
 * Where line protocol goes. One instance is shared by a whole consumer: `write` may be called again before
 * an earlier call has settled (several batches in flight), and each call is exactly one HTTP request whose
 * outcome is final — no hidden buffer, no background retry — so "the promise resolved" means "InfluxDB
 * answered 2xx for these lines" and the caller may commit their offsets.
 */
export interface InfluxSink {
  readonly api: 'v1' | 'v2';
  /**
   * Sends the lines as one request. Resolves on 2xx; rejects with an InfluxWriteError whose `retriable`
   * decides retry (true) or dead-letter/split (false). An empty array is a no-op.
   */
  write(lines: readonly string[]): Promise<void>;
  /** v1: CREATE DATABASE (idempotent on the server). Absent on v2: buckets are an administrator's job. */
  ensureDatabase?(): Promise<void>;
  /** True when the server answers /ping with 2xx within the timeout; never throws. */
  ping(): Promise<boolean>;
  /** Waits for writes in flight to settle, then refuses new ones. */
  close(): Promise<void>;
}

/** Tracks the writes in flight so that close() can drain them, as the shutdown order requires. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('InfluxDB sink is closed'));
    const promise = work();
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
  }

  get size(): number {
    return this.pending.size;
  }
}
