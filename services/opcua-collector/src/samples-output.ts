import type { OutMessage, ReliableProducer } from '@gridstream/kafka';
import { backoffDelay, type Logger } from '@gridstream/runtime';
import { RAW_HEADER, type Sample, type SamplesMessage } from '@gridstream/schema';
import type { CollectorMetrics } from './collector-metrics.js';

export interface OutputOptions {
  producer: ReliableProducer;
  topic: string;
  endpoint: string;
  /** gs-source header: `opcua://host:port/path`. */
  source: string;
  maxBuffered: number;
  maxPerMessage: number;
  logger: Logger;
  metrics: CollectorMetrics;
}

/**
 * Sends samples to telemetry.raw, one send in flight at a time, in arrival order. A failed send keeps
 * its samples at the head of the queue and is retried with backoff, so a Kafka outage delays data
 * instead of losing it, up to `maxBuffered` samples; beyond that the oldest go (counted), because an
 * OPC UA server cannot be asked to hold them for us.
 */
export class SamplesOutput {
  private queue: Sample[] = [];
  private sending: Promise<void> | undefined;
  private failures = 0;
  private retryAt = 0;

  constructor(private readonly options: OutputOptions) {}

  get pending(): number {
    return this.queue.length;
  }

  push(samples: Sample[]): void {
    if (samples.length === 0) return;
    for (const s of samples) this.queue.push(s);
    const excess = this.queue.length - this.options.maxBuffered;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.options.metrics.dropped.inc({ endpoint: this.options.endpoint }, excess);
      this.options.logger.error(
        { dropped: excess },
        'Kafka unreachable for too long: oldest samples dropped',
      );
    }
  }

  /** Starts a send if none is running and the retry pause has passed; returns the running send. */
  kick(): Promise<void> {
    if (this.sending || this.queue.length === 0 || Date.now() < this.retryAt)
      return this.sending ?? Promise.resolve();
    this.sending = this.sendHead().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Sends everything queued, retrying until done or `deadline` (ms since epoch) passes. */
  async flushAll(deadline: number): Promise<void> {
    while (this.queue.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.kick();
      if (this.queue.length > 0 && this.failures > 0) await new Promise((r) => setTimeout(r, 200));
    }
    await this.sending;
  }

  private async sendHead(): Promise<void> {
    const { producer, topic, source, maxPerMessage, endpoint, metrics, logger } = this.options;
    // Bounded per attempt so one send never grows into a request the broker refuses.
    const batch = this.queue.slice(0, maxPerMessage * 50);
    const bySite = new Map<string, Sample[]>();
    for (const s of batch) {
      const list = bySite.get(s.site);
      if (list) list.push(s);
      else bySite.set(s.site, [s]);
    }
    const receivedAt = new Date().toISOString();
    const messages: OutMessage[] = [];
    for (const [site, samples] of bySite) {
      for (let i = 0; i < samples.length; i += maxPerMessage) {
        const body: SamplesMessage = { v: 1, samples: samples.slice(i, i + maxPerMessage) };
        messages.push({
          key: site,
          value: JSON.stringify(body),
          headers: {
            [RAW_HEADER.schema]: 'samples.v1',
            [RAW_HEADER.source]: source,
            [RAW_HEADER.receivedAt]: receivedAt,
          },
        });
      }
    }
    try {
      await producer.send(topic, messages);
      this.queue.splice(0, batch.length);
      metrics.samples.inc({ endpoint }, batch.length);
      metrics.messages.inc({ endpoint }, messages.length);
      if (this.failures > 0) logger.info({ failures: this.failures }, 'Kafka produce recovered');
      this.failures = 0;
    } catch (error) {
      this.failures++;
      metrics.produceFailures.inc({ endpoint });
      const delay = backoffDelay(this.failures, 250, 10_000);
      this.retryAt = Date.now() + delay;
      logger.warn(
        { err: error, retryInMs: delay, pending: this.queue.length },
        'Kafka produce failed; will retry',
      );
    }
  }
}
