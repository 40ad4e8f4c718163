import type { Logger } from '@gridstream/runtime';
import type { CompressionTypes, Producer } from 'kafkajs';
import { isProducerStateError } from './kafka-errors.js';
import { type Kafka, Partitioners } from './kafkajs.js';
import type { OutMessage } from './messages.js';
import { PartitionRouter, type TopicMessages } from './partition-requests.js';

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
  private readonly router: PartitionRouter;
  private connected = false;
  /** A replaced producer has not connected yet: the next send connects it. */
  private mustConnect = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly compression?: CompressionTypes,
    maxRequestBytes = 768 * 1024,
  ) {
    this.producer = this.createProducer();
    this.router = new PartitionRouter(kafka, maxRequestBytes);
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
    // One request per topic partition (see PartitionRouter for the message loss that prevents); the
    // partitions go out side by side, each partition's requests one after the other, in order.
    const chains = new Map<string, TopicMessages[][]>();
    for (const request of await this.router.requests(batches)) {
      const key = `${request[0]!.topic}\u0000${request[0]!.messages[0]!.partition}`;
      const chain = chains.get(key);
      if (chain) chain.push(request);
      else chains.set(key, [request]);
    }
    // Every chain finishes (or fails) before this returns: a caller that sends the batch again must not
    // overlap a part of it that is still on its way.
    const outcomes = await Promise.allSettled(
      [...chains.values()].map(async (chain) => {
        for (const request of chain) await this.sendRequest(request);
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async sendRequest(request: TopicMessages[]): Promise<void> {
    const producer = this.producer;
    const payload = { acks: -1, topicMessages: request } as Parameters<Producer['sendBatch']>[0];
    if (this.compression !== undefined) payload.compression = this.compression;
    try {
      await producer.sendBatch(payload);
    } catch (error) {
      // Several partitions may meet the same dead producer id at once: it is replaced once.
      if (isProducerStateError(error) && producer === this.producer) {
        this.logger.warn(
          { err: error },
          'the broker no longer accepts this producer id and sequence; continuing with a new producer id (what the broker already wrote of this batch will be written again, with the same message ids)',
        );
        await this.replaceProducer();
      }
      throw error;
    }
  }

  send(topic: string, messages: OutMessage[]): Promise<void> {
    return this.sendBatch([{ topic, messages }]);
  }

  async disconnect(): Promise<void> {
    await this.router.close();
    try {
      await this.producer.disconnect();
    } catch (error) {
      this.logger.warn({ err: error }, 'producer disconnect failed');
    }
    this.connected = false;
  }
}
