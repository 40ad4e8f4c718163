import type { Logger } from '@gridstream/runtime';
import type { CompressionTypes, Producer } from 'kafkajs';
import { isProducerStateError } from './kafka-errors.js';
import { type Kafka, Partitioners } from './kafkajs.js';
import type { OutMessage } from './messages.js';

/**
 * The only producer configuration gridstream uses: idempotent, acks=all, one request in flight per
 * broker. `send` resolves only when every message is acknowledged by all in-sync replicas, which is
 * the point after which a caller may ack or commit its input. Broker retries cannot duplicate or
 * reorder messages because the broker de-duplicates by producer id and sequence.
 *
 * When the broker stops accepting the producer's sequence numbers (isProducerStateError), the producer is
 * replaced by one with a new producer id and the failed send is thrown to the caller, which sends its batch
 * again: messages of it the broker did write are then written twice, with the same `gs-message-id`, and the
 * parser drops the copies. Stuck for ever is the alternative.
 */
export class ReliableProducer {
  private producer: Producer;
  private connected = false;
  /** A replaced producer has not connected yet: the next send connects it. */
  private mustConnect = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly compression?: CompressionTypes,
    private readonly maxRequestBytes = 768 * 1024,
  ) {
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java-compatible murmur2 partitioning: a key lands on the same partition from any client.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.connected = true;
    });
    return producer;
  }

  /** Drops the producer (its id and sequences) for a new one, connected on the next send. */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.connected = false;
    this.mustConnect = true;
    await old.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'disconnecting the replaced producer failed');
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
    if (this.mustConnect) {
      await this.producer.connect();
      this.mustConnect = false;
      this.connected = true;
    }
    for (const request of splitRequests(batches, this.maxRequestBytes)) {
      const payload = { acks: -1, topicMessages: request } as Parameters<Producer['sendBatch']>[0];
      if (this.compression !== undefined) payload.compression = this.compression;
      try {
        await this.producer.sendBatch(payload);
      } catch (error) {
        if (isProducerStateError(error)) {
          this.logger.warn(
            { err: error },
            'the broker no longer accepts this producer id and sequence; continuing with a new producer id (what the broker already wrote of this batch will be written again, with the same message ids)',
          );
          await this.replaceProducer();
        }
        throw error;
      }
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
