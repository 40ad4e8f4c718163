import {
  COMPACTED_TOPIC_CONFIG,
  type Kafka,
  type OutMessage,
  readRanges,
  type TopicRequest,
} from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { DedupWindow } from './dedup-window.js';

/**
 * The parser's duplicate windows, one per raw partition, kept on a compacted changelog topic of its own
 * (`<group>.dedup` by default, one partition per raw partition): each transaction writes the window of its
 * partition as it stands after the slice, so the last committed snapshot always matches the committed raw
 * offset. A member that takes a partition over reads that one snapshot back — the last record of one
 * changelog partition — instead of re-reading thousands of raw messages.
 */
export class DedupStore {
  private readonly windows = new Map<number, DedupWindow>();
  private readonly log: Logger;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly rawTopic: string,
    readonly capacity: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'dedup', topic });
  }

  /** The changelog as the parser creates it: compacted, small segments so that compaction keeps up. */
  static topicRequest(topic: string, partitions: number): TopicRequest {
    return {
      topic,
      partitions,
      config: {
        ...COMPACTED_TOPIC_CONFIG,
        'segment.bytes': String(16 * 1024 * 1024),
        'min.cleanable.dirty.ratio': '0.2',
        'max.compaction.lag.ms': String(10 * 60_000),
      },
    };
  }

  /**
   * The window of a raw partition as of `committed` (the group's committed raw offset): the one in memory
   * when it is at that offset, else the snapshot on the changelog. Without a matching snapshot (dedup just
   * turned on, the changelog deleted) the window starts empty, and says so.
   */
  async windowFor(partition: number, committed: bigint | null): Promise<DedupWindow> {
    const current = this.windows.get(partition);
    if (current && current.nextOffset === committed) return current;
    const restored = await this.readSnapshot(partition);
    let window: DedupWindow;
    if (restored && restored.nextOffset === committed) {
      window = restored;
      this.log.info(
        { partition, committed: String(committed), identities: window.size },
        'duplicate window restored',
      );
    } else {
      window = new DedupWindow(this.capacity);
      window.nextOffset = committed;
      if (committed !== null)
        this.log.warn(
          {
            partition,
            committed: String(committed),
            snapshotAt: restored ? String(restored.nextOffset) : null,
          },
          'no duplicate window for the committed offset: starting an empty one (a redelivery of messages before it is not recognised)',
        );
    }
    this.windows.set(partition, window);
    return window;
  }

  /** The changelog record that goes into the slice's transaction. */
  snapshotMessage(
    partition: number,
    window: DedupWindow,
    pending: readonly bigint[],
    next: bigint,
  ): OutMessage {
    return {
      key: `${this.rawTopic}/${partition}`,
      partition,
      value: window.snapshotWith(pending, next),
    };
  }

  /** A partition that moved to another member: its window is rebuilt from the changelog if it comes back. */
  forget(keep: ReadonlySet<number>): void {
    for (const partition of this.windows.keys()) if (!keep.has(partition)) this.windows.delete(partition);
  }

  private async readSnapshot(partition: number): Promise<DedupWindow | undefined> {
    const admin = this.kafka.admin();
    await admin.connect();
    let low: bigint;
    let end: bigint;
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      const mine = offsets.find((o) => o.partition === partition);
      if (!mine) return undefined;
      low = BigInt(mine.low);
      end = BigInt(mine.high);
    } finally {
      await admin.disconnect();
    }
    // Each transaction writes one record and one marker per partition; aborted ones are invisible. Look
    // back a little, further if the tail holds only aborted attempts.
    for (let span = 16n; ; span *= 8n) {
      const from = end - span > low ? end - span : low;
      if (from >= end) return undefined;
      const key = `${this.rawTopic}/${partition}`;
      const records = (await readRanges(this.kafka, this.topic, [{ partition, from, to: end }])).filter(
        (m) => m.key?.toString('utf8') === key && m.value !== null,
      );
      const last = records.at(-1);
      if (last) {
        const window = DedupWindow.restore(last.value!, this.capacity);
        if (!window)
          this.log.warn({ partition, offset: last.offset }, 'unreadable duplicate-window snapshot');
        return window;
      }
      if (from === low) return undefined;
    }
  }
}
