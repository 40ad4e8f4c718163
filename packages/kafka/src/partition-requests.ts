import type { Admin } from 'kafkajs';
import type { Kafka } from './kafkajs.js';
import type { OutMessage } from './messages.js';
import { partitionOfKey } from './partitioner.js';

export interface TopicMessages {
  topic: string;
  messages: OutMessage[];
}

/** How long a topic's partition count is trusted before it is read again (partitions can be added). */
const PARTITION_COUNT_TTL_MS = 5 * 60_000;

/**
 * Cuts what a producer sends into requests of ONE topic partition each, routed the way kafkajs's default
 * partitioner would (Java-compatible murmur2 of the key; no key: partition 0), in order, each at most
 * `maxRequestBytes`. Every producer here sends this way, because kafkajs mishandles a request that spans
 * brokers in two ways:
 * - its retry skips every broker that answered the first attempt, and if a failed partition's leadership
 *   moved to one of those brokers meanwhile (the leader was killed), that partition's messages are never
 *   sent again and the send still succeeds: acks=all messages silently lost (the full soak lost one raw
 *   message this way when it killed a partition leader under the bridge);
 * - inside a transaction a retried request is sent whole again, and the part already written is written
 *   twice (see PartitionTransactions).
 * A request for one partition goes to one broker, so a retry can only repeat what was not acknowledged.
 */
export class PartitionRouter {
  private readonly counts = new Map<string, { count: number; at: number }>();

  /** `readCount` asks the cluster how many partitions a topic has; the answer is cached for a while. */
  constructor(
    private readonly readCount: (topic: string) => Promise<number>,
    private readonly maxRequestBytes = 768 * 1024,
  ) {}

  /** The requests for `outputs`: one topic partition each, in the order given. */
  async requests(outputs: TopicMessages[]): Promise<TopicMessages[][]> {
    const requests: TopicMessages[][] = [];
    for (const { topic, messages } of outputs) {
      if (messages.length === 0) continue;
      const count = await this.partitionCount(topic);
      const byPartition = new Map<number, OutMessage[]>();
      for (const message of messages) {
        const partition = message.partition ?? (message.key == null ? 0 : partitionOfKey(message.key, count));
        const routed = message.partition === partition ? message : { ...message, partition };
        const list = byPartition.get(partition);
        if (list) list.push(routed);
        else byPartition.set(partition, [routed]);
      }
      for (const list of byPartition.values())
        requests.push(...splitRequests([{ topic, messages: list }], this.maxRequestBytes));
    }
    return requests;
  }

  private async partitionCount(topic: string): Promise<number> {
    const known = this.counts.get(topic);
    if (known !== undefined && Date.now() - known.at < PARTITION_COUNT_TTL_MS) return known.count;
    const count = Math.max(1, await this.readCount(topic));
    this.counts.set(topic, { count, at: Date.now() });
    return count;
  }
}

/** Partition counts through a kafkajs admin client, connected on first use; `close` when done. */
export class AdminPartitionCounts {
  private admin: Admin | undefined;

  constructor(private readonly kafka: Kafka) {}

  readonly read = async (topic: string): Promise<number> => {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 1;
  };

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

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
