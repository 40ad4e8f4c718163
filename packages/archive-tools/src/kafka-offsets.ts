import type { Kafka } from '@gridstream/kafka';
import type { KafkaPartitionOffsets } from './archive-verify.js';

/**
 * What the archiver consumed, from the broker: per partition of the topic, the earliest offset still
 * held and the archiver group's committed offset (the next one it will read). The archiver commits only
 * after the upload, so every offset below the committed one must be in the archive.
 */
export async function fetchArchiverOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<KafkaPartitionOffsets[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topicOffsets = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committedBy = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    return topicOffsets
      .map((t) => {
        const c = committedBy.get(t.partition);
        return {
          partition: t.partition,
          earliest: BigInt(t.low),
          committed: c === undefined || c === '-1' ? null : BigInt(c),
        };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
