import type { OutMessage } from '@gridstream/kafka';
import { backoffDelay, type Logger } from '@gridstream/runtime';

export interface OutboxOptions {
  /** Messages held while Kafka does not acknowledge; beyond this the oldest are dropped. */
  capacity: number;
  /** Messages per produce request. */
  maxBatch: number;
  send: (messages: OutMessage[]) => Promise<void>;
  logger: Logger;
  onDropped?: (count: number) => void;
  onSent?: (count: number) => void;
  /** Retry delays after a failed send (ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Between the pollers and Kafka. Polling never waits for Kafka: a Modbus device keeps no history, so a
 * poll that is not taken is a reading lost for good, and a stalled poller would also hide the device's
 * own health (breaker, latency) behind Kafka's. While Kafka is away the outbox keeps the newest
 * `capacity` messages in memory and drops the OLDEST beyond that (counted and logged): when Kafka comes
 * back operators get the most recent stretch first-in-first-out, in order, instead of a stale hour.
 *
 * One produce request is in flight at a time, so messages reach Kafka in the order they were polled.
 */
export class SampleOutbox {
  private readonly queue: OutMessage[] = [];
  private sending: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private dropped = 0;
  private closed = false;

  constructor(private readonly options: OutboxOptions) {}

  get size(): number {
    return this.queue.length;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  push(message: OutMessage): void {
    this.queue.push(message);
    const excess = this.queue.length - this.options.capacity;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.options.onDropped?.(excess);
      // Log the first drop of an outage and then every 100th, not every poll.
      if (this.dropped === excess || this.dropped % 100 < excess) {
        this.options.logger.warn(
          { dropped: this.dropped, capacity: this.options.capacity },
          'Kafka is not taking samples: outbox full, dropping the oldest',
        );
      }
    }
    this.kick();
  }

  /**
   * Shutdown: no more retry timers; sends what is queued until it is empty or `deadline` (epoch ms)
   * passes. Returns how many messages are left unsent (the caller logs them as lost).
   */
  async flush(deadline: number): Promise<number> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (Date.now() < deadline) {
      if (!this.sending) {
        if (this.queue.length === 0) break;
        this.sending = this.sendOnce().finally(() => {
          this.sending = undefined;
        });
      }
      const before = this.failures;
      await Promise.race([this.sending, sleep(deadline - Date.now())]);
      if (this.failures > before) await sleep(Math.min(250, deadline - Date.now()));
    }
    return this.queue.length;
  }

  private kick(): void {
    if (this.sending || this.retryTimer || this.closed || this.queue.length === 0) return;
    this.sending = this.sendOnce().finally(() => {
      this.sending = undefined;
      if (this.closed) return;
      if (this.failures > 0) {
        const delay = backoffDelay(
          this.failures,
          this.options.retryBaseMs ?? 200,
          this.options.retryMaxMs ?? 5_000,
        );
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, delay);
      } else this.kick();
    });
  }

  private async sendOnce(): Promise<void> {
    const batch = this.queue.slice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    try {
      await this.options.send(batch);
    } catch (error) {
      this.failures++;
      if (this.failures === 1 || this.failures % 20 === 0) {
        this.options.logger.warn(
          { err: error, queued: this.queue.length, attempts: this.failures },
          'producing samples failed; keeping them and retrying',
        );
      }
      return;
    }
    if (this.failures > 0)
      this.options.logger.info({ attempts: this.failures }, 'producing samples works again');
    this.failures = 0;
    // Drops may have removed part of this batch from the head meanwhile; what is left of it is still the
    // head of the queue.
    const delivered = new Set(batch);
    while (this.queue.length > 0 && delivered.has(this.queue[0] as OutMessage)) this.queue.shift();
    this.options.onSent?.(batch.length);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}
