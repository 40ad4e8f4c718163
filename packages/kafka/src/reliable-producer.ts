import type { Logger } from '@gridstream/runtime';
import type { CompressionTypes, Producer } from 'kafkajs';
import { type Kafka, Partitioners } from './kafkajs.js';
import type { OutMessage } from './messages.js';

/**
 * The only producer configuration gridstream uses: idempotent, acks=all, one request in flight per
 * broker. `send` resolves only when every message is acknowledged by all in-sync replicas, which is
 * the point after which a caller may ack or commit its input. Broker retries cannot duplicate or
 * reorder messages because the broker de-duplicates by producer id and sequence.
 */
export class ReliableProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly compression?: CompressionTypes,
    private readonly maxRequestBytes = 768 * 1024,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java-compatible murmur2 partitioning: a key lands on the same partition from any client.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Produces to several topics; resolves after acks=all for every message. Large inputs are split into
   * requests of at most `maxRequestBytes`: the broker rejects a record batch over `message.max.bytes`
   * (1 MB by default) with MESSAGE_TOO_LARGE, which no retry would ever fix.
   */
  async sendBatch(batches: { topic: string; messages: OutMessage[] }[]): Promise<void> {
    for (const request of splitRequests(batches, this.maxRequestBytes)) {
      const payload = { acks: -1, topicMessages: request } as Parameters<Producer['sendBatch']>[0];
      if (this.compression !== undefined) payload.compression = this.compression;
      await this.producer.sendBatch(payload);
    }
  }

  send(topic: string, messages: OutMessage[]): Promise<void> {
    return this.sendBatch([{ topic, messages }]);
  }

  async disconnect(): Promise<void> {
    try {
      await this.producer.disconnect();
    } catch (error) {
      this.logger.warn({ err: error }, 'producer disconnect failed');
    }
    this.connected = false;
  }
}

type TopicMessages = { topic: string; messages: OutMessage[] };

function messageBytes(m: OutMessage): number {
  let size =
    64 + (m.key?.length ?? 0) + (typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) size += k.length + v.length + 8;
  return size;
}

/** Splits topic batches into requests whose estimated size stays under `maxBytes`, keeping order. */
export function splitRequests(batches: TopicMessages[], maxBytes: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  for (const { topic, messages } of batches) {
    let slice: OutMessage[] = [];
    for (const message of messages) {
      const bytes = messageBytes(message);
      if (size + bytes > maxBytes && size > 0) {
        if (slice.length > 0) current.push({ topic, messages: slice });
        requests.push(current);
        current = [];
        slice = [];
        size = 0;
      }
      slice.push(message);
      size += bytes;
    }
    if (slice.length > 0) current.push({ topic, messages: slice });
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
