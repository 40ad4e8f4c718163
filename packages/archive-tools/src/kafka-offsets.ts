import { type Kafka, readRanges } from '@gridstream/kafka';
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

/**
 * For verify: which offsets of the given ranges of a partition hold a committed record, read from Kafka
 * (read_committed: transaction markers and aborted records are not records). One pass over the span of
 * the ranges, keeping only offsets inside them.
 */
export function kafkaRecordOffsets(
  kafka: Kafka,
  topic: string,
): (partition: number, ranges: { from: bigint; to: bigint }[]) => Promise<Set<bigint>> {
  return async (partition, ranges) => {
    if (ranges.length === 0) return new Set();
    const sorted = [...ranges].sort((a, b) => (a.from < b.from ? -1 : 1));
    const from = sorted[0]!.from;
    // Math.max takes no bigint (offsets are int64).
    let to = sorted[0]!.to;
    for (const r of sorted) if (r.to > to) to = r.to;
    to += 1n;
    const inside = (offset: bigint) => {
      // Binary search: thousands of one-offset gaps (one per transaction) are normal.
      let lo = 0;
      let hi = sorted.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = sorted[mid]!;
        if (offset < r.from) hi = mid - 1;
        else if (offset > r.to) lo = mid + 1;
        else return true;
      }
      return false;
    };
    const span = Number(to - from);
    const messages = await readRanges(
      kafka,
      topic,
      [{ partition, from, to }],
      60_000 + span,
      (p, o) => p === partition && inside(o),
    );
    return new Set(messages.map((m) => BigInt(m.offset)));
  };
}
