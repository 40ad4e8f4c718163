import type { OutMessage } from '@gridstream/kafka';
import { backoffDelay, type Logger } from '@gridstream/runtime';
import type { Spool, SpoolEntry } from './spool.js';

export interface SpoolSenderOptions {
  spool: Spool;
  /** Produces one batch (acks=all); resolves once Kafka has all of it. */
  send: (messages: OutMessage[]) => Promise<void>;
  /**
   * Called (again, after a failure) before the first send: connecting to Kafka and creating the topic. A
   * source must start and read its devices while Kafka is away (a collector restarted during an outage
   * spools from its first poll), so nothing Kafka-related may stand between it and its first poll.
   */
  connect?: () => Promise<void>;
  maxBatch: number;
  maxBatchBytes?: number;
  logger: Logger;
  onSent?: (messages: number) => void;
  onFailure?: (error: unknown) => void;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Drains a spool into Kafka, oldest first, one batch in flight (so messages reach Kafka in the order they
 * were read). A batch is acknowledged in the spool only after Kafka acknowledged it; a failed send keeps
 * it at the head and is retried with backoff, for as long as it takes.
 */
export class SpoolSender {
  private sending: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private lastError: string | undefined;
  private connected = false;

  constructor(private readonly options: SpoolSenderOptions) {}

  /** Kafka's state as the last send saw it. */
  get healthy(): boolean {
    return this.failures === 0;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** Starts sending if idle (call after appending). */
  kick(): void {
    if (this.sending || this.retryTimer || this.closed || this.options.spool.pending === 0) return;
    this.sending = this.sendOnce().finally(() => {
      this.sending = undefined;
      if (this.closed) return;
      if (this.failures > 0) {
        const delay = backoffDelay(
          this.failures,
          this.options.retryBaseMs ?? 250,
          this.options.retryMaxMs ?? 10_000,
        );
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, delay);
      } else this.kick();
    });
  }

  /**
   * Shutdown: sends what is pending until the spool is empty or `deadline` (epoch ms) passes. What is
   * left stays in the spool and goes first after the restart; returns how much that is.
   */
  async flush(deadline: number): Promise<number> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.sending) await race(this.sending, deadline);
    while (Date.now() < deadline && this.options.spool.pending > 0) {
      const before = this.failures;
      await race(this.sendOnce(), deadline);
      if (this.failures > before) await sleep(Math.min(250, deadline - Date.now()));
    }
    return this.options.spool.pending;
  }

  private async sendOnce(): Promise<void> {
    const { spool, maxBatch, maxBatchBytes } = this.options;
    let batch: SpoolEntry[];
    try {
      batch = spool.peek(maxBatch, maxBatchBytes ?? 768 * 1024);
    } catch (error) {
      // A disk read that failed (the file system, not the data): retried like a failed send, never a crash.
      this.failures++;
      this.lastError = (error as Error).message;
      this.options.logger.error({ err: error }, 'reading the spool failed; retrying');
      return;
    }
    if (batch.length === 0) return;
    try {
      if (!this.connected && this.options.connect) {
        await this.options.connect();
        this.connected = true;
      }
      await this.options.send(batch.map((e) => e.message));
    } catch (error) {
      this.failures++;
      this.lastError = (error as Error).message;
      this.options.onFailure?.(error);
      if (this.failures === 1 || this.failures % 20 === 0)
        this.options.logger.warn(
          { err: error, pending: spool.pending, attempts: this.failures },
          'producing spooled messages failed; they stay in the spool and are retried',
        );
      return;
    }
    if (this.failures > 0)
      this.options.logger.info({ attempts: this.failures, pending: spool.pending }, 'producing works again');
    this.failures = 0;
    this.lastError = undefined;
    spool.ack(batch[batch.length - 1]!);
    this.options.onSent?.(batch.length);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

async function race(work: Promise<void>, deadline: number): Promise<void> {
  await Promise.race([work.catch(() => undefined), sleep(deadline - Date.now())]);
}
