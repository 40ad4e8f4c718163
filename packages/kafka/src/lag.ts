import type { Kafka } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; -1 when it has never committed. */
  committed: string;
  high: string;
  lag: number;
}

/** Consumer lag of a group per partition, from the broker's view (what the console and the bench show). */
export async function consumerLag(kafka: Kafka, groupId: string, topics: string[]): Promise<PartitionLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: PartitionLag[] = [];
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const { topic, partitions } of committed) {
      const high = await admin.fetchTopicOffsets(topic);
      const highBy = new Map(high.map((h) => [h.partition, h]));
      for (const p of partitions) {
        const h = highBy.get(p.partition);
        const highOffset = h?.high ?? '0';
        const low = BigInt(h?.low ?? '0');
        const from = p.offset === '-1' ? low : BigInt(p.offset);
        out.push({
          topic,
          partition: p.partition,
          committed: p.offset,
          high: highOffset,
          lag: Number(BigInt(highOffset) - from),
        });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
