/**
 * Which offsets are safe to commit when a service finishes its slices out of order (the influx-writer
 * has several InfluxDB writes in flight, and a later slice's write may return before an earlier one's).
 * Each partition keeps its slices in offset order; the committable offset is the end of the longest run
 * of finished slices from the front. Committing a later slice's end while an earlier one is still being
 * written would lose the earlier one on a crash.
 *
 * After a rebalance the client reads every partition again from its last commit, so {@link reset} forgets
 * all slices: those still in flight finish into nothing (their marks belong to an old epoch), and the
 * messages come again.
 */
export class OffsetProgress {
  private epoch = 0;
  private readonly partitions = new Map<string, PartitionProgress>();

  /** Starts tracking a slice whose messages end just before `next`. Slices of a partition open in order. */
  open(topic: string, partition: number, next: bigint): SliceMark {
    const key = `${topic}\u0000${partition}`;
    let p = this.partitions.get(key);
    if (p === undefined) {
      p = { topic, partition, slices: [], done: undefined, reported: undefined };
      this.partitions.set(key, p);
    }
    const mark: SliceMark = { epoch: this.epoch, key, next, finished: false };
    p.slices.push(mark);
    return mark;
  }

  /** The slice's work is durable. Marks from before the last reset are ignored. */
  finish(mark: SliceMark): void {
    if (mark.epoch !== this.epoch) return;
    mark.finished = true;
    const p = this.partitions.get(mark.key);
    if (p === undefined) return;
    while (p.slices.length > 0 && p.slices[0]!.finished) p.done = p.slices.shift()!.next;
  }

  /**
   * Offsets up to `next` hold no records (transaction markers): done as soon as everything before them is.
   */
  skip(topic: string, partition: number, next: bigint): void {
    this.finish(this.open(topic, partition, next));
  }

  /** Slices opened and not finished yet, all partitions. */
  get pending(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.slices.length;
    return n;
  }

  /**
   * The offsets to commit now: per partition the end of its finished front, where it moved since the last
   * call. Call {@link committed} with them once the commit went through (a failed commit is offered again).
   */
  due(): { topic: string; partition: number; offset: string }[] {
    const out: { topic: string; partition: number; offset: string }[] = [];
    for (const p of this.partitions.values()) {
      if (p.done !== undefined && p.done !== p.reported)
        out.push({ topic: p.topic, partition: p.partition, offset: p.done.toString() });
    }
    return out;
  }

  /** These offsets reached the group. */
  committed(offsets: { topic: string; partition: number; offset: string }[]): void {
    for (const o of offsets) {
      const p = this.partitions.get(`${o.topic}\u0000${o.partition}`);
      if (p !== undefined && (p.reported === undefined || BigInt(o.offset) > p.reported))
        p.reported = BigInt(o.offset);
    }
  }

  /** A new assignment: every partition is read again from its last commit. */
  reset(): void {
    this.epoch++;
    this.partitions.clear();
  }
}

export interface SliceMark {
  readonly epoch: number;
  readonly key: string;
  readonly next: bigint;
  finished: boolean;
}

interface PartitionProgress {
  topic: string;
  partition: number;
  /** Open slices in offset order, finished ones included until everything before them finished. */
  slices: SliceMark[];
  /** End of the finished front: the offset to commit. */
  done: bigint | undefined;
  /** The last `done` committed. */
  reported: bigint | undefined;
}
