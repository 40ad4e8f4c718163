import type { Logger } from '@gridstream/runtime';
import { Producer } from '@platformatic/kafka';
import type { Kafka } from './kafkajs.js';
import type { OutMessage } from './messages.js';
import { PartitionRouter, type TopicMessages } from './partition-requests.js';
import { connectionOf, retryDelay } from './platformatic.js';

/** Tries of one request inside the client (backoff 0.3 s doubling to 10 s, ~50 s in all) before it fails. */
const CLIENT_RETRIES = 8;

type Message = {
  topic: string;
  partition: number;
  key?: Buffer;
  value: Buffer;
  headers?: Map<string, string>;
};

/**
 * The only producer configuration gridstream uses: idempotent, acks=all, one request in flight per
 * broker. `send` resolves only when every message is acknowledged by all in-sync replicas, which is
 * the point after which a caller may ack or commit its input. Broker retries cannot duplicate or
 * reorder messages because the broker de-duplicates by producer id and sequence.
 *
 * Runs on @platformatic/kafka (`make bench`, 2026-12-07: 3.3× kafkajs's produce rate at 26% of its CPU per record).
 * When a send fails for good (its retries spent, or the broker no longer accepts the producer's sequence
 * numbers), the client drops its producer id and the next send starts a new one; the caller sends its batch
 * again, and messages of it the broker did write are written twice, with the same `gs-message-id`, which
 * the parser drops. Stuck for ever on a dead sequence is the alternative.
 */
export class ReliableProducer {
  private readonly producer: Producer<Buffer, Buffer, string, string>;
  private readonly router: PartitionRouter;
  /** The last connect or send reached the cluster (readiness); a failed send clears it until one succeeds. */
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    maxRequestBytes = 768 * 1024,
  ) {
    this.producer = new Producer({
      ...connectionOf(kafka),
      idempotent: true,
      acks: -1,
      // The produce request's own timeout: how long the leader may wait for the in-sync replicas.
      timeout: 25_000, // below requestTimeout (30 s): the broker answers before the client gives up on it
      retries: CLIENT_RETRIES,
      retryDelay,
      autocreateTopics: false,
      serializers: {
        key: (key?: Buffer) => key,
        value: (value?: Buffer) => value,
        headerKey: (name?: string) => (name === undefined ? undefined : Buffer.from(name)),
        headerValue: (value?: string) => (value === undefined ? undefined : Buffer.from(value)),
      },
    });
    this.router = new PartitionRouter(async (topic) => {
      const metadata = await this.producer.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitionsCount ?? 1;
    }, maxRequestBytes);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Reaches the cluster and obtains a producer id; throws when no broker answers. */
  async connect(): Promise<void> {
    await this.producer.initIdempotentProducer({});
    this.connected = true;
  }

  /**
   * Produces to several topics; resolves after acks=all for every message. Large inputs are split into
   * requests of at most `maxRequestBytes`: the broker rejects a record batch over `message.max.bytes`
   * (1 MB by default) with MESSAGE_TOO_LARGE, which no retry would ever fix.
   */
  async sendBatch(batches: { topic: string; messages: OutMessage[] }[]): Promise<void> {
    try {
      await this.sendChains(batches);
      this.connected = true;
    } catch (error) {
      this.connected = false;
      throw error;
    }
  }

  private async sendChains(batches: { topic: string; messages: OutMessage[] }[]): Promise<void> {
    // One request per topic partition (see PartitionRouter): @platformatic/kafka sends a request spanning
    // partitions to one broker and, after a leader change, retries all of it at the first partition's new
    // leader. The partitions go out side by side, each partition's requests one after the other, in order.
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
        for (const request of chain) await this.producer.send({ messages: toMessages(request) });
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  send(topic: string, messages: OutMessage[]): Promise<void> {
    return this.sendBatch([{ topic, messages }]);
  }

  async disconnect(): Promise<void> {
    try {
      await this.producer.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'producer disconnect failed');
    }
    this.connected = false;
  }
}

function toMessages(request: TopicMessages[]): Message[] {
  const out: Message[] = [];
  for (const { topic, messages } of request) {
    for (const m of messages) {
      const message: Message = {
        topic,
        partition: m.partition as number, // PartitionRouter set it on every message
        value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value,
      };
      if (m.key != null) message.key = typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
      if (m.headers) message.headers = new Map(Object.entries(m.headers));
      out.push(message);
    }
  }
  return out;
}
