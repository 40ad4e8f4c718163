import {
  type InMessage,
  type Kafka,
  type OffsetRange,
  type OutMessage,
  type ReliableProducer,
  readRanges,
} from '@gridstream/kafka';
import { DLQ_HEADER, type PipelineStage, type Problem, RAW_HEADER } from '@gridstream/schema';

/** Stages whose letters hold parsed records (written after the parser): they cannot go back to the raw topic. */
const SINK_STAGES = new Set<string>([
  'influx-writer',
  'timescale-writer',
  'opentsdb-writer',
  'archiver',
] satisfies PipelineStage[]);

export const REPLAYED_FROM_HEADER = RAW_HEADER.replayedFrom;

/** Letters one replay request may name (a page shows at most 500 per partition). */
export const MAX_REPLAY_IDS = 1_000;

export interface ReplayMark {
  dlqTopic: string;
  partition: number;
  offset: string;
  replayedAt: string;
  rawTopic: string;
}

export interface DeadLetterView {
  partition: number;
  offset: string;
  timestamp: number;
  stage: string;
  reason: string;
  message: string;
  at: string;
  problems: Problem[];
  headers: Record<string, string>;
  key: string | null;
  payload: Buffer;
  size: number;
  truncated: boolean;
  replayed?: ReplayMark;
}

export function toDeadLetterView(m: InMessage, replayed?: ReplayMark): DeadLetterView {
  const h = m.headers;
  let problems: Problem[] = [];
  if (h[DLQ_HEADER.problems]) {
    try {
      const parsed = JSON.parse(h[DLQ_HEADER.problems]!) as unknown;
      if (Array.isArray(parsed)) problems = parsed as Problem[];
    } catch {
      // a letter from a foreign producer: shown without problems rather than not at all
    }
  }
  const payload = m.value ?? Buffer.alloc(0);
  const view: DeadLetterView = {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    stage: h[DLQ_HEADER.stage] ?? '?',
    reason: h[DLQ_HEADER.reason] ?? '?',
    message: h[DLQ_HEADER.message] ?? '',
    at: h[DLQ_HEADER.at] ?? new Date(m.timestamp).toISOString(),
    problems,
    headers: h,
    key: m.key === null ? null : m.key.toString('utf8'),
    payload,
    size: Number(h[DLQ_HEADER.originalSize] ?? payload.length),
    truncated: h[DLQ_HEADER.truncated] === 'true',
  };
  if (replayed) view.replayed = replayed;
  return view;
}

/** Where a page ends in each partition: the next (older) page reads below these offsets. */
export type Cursor = Map<number, bigint>;

export function encodeCursor(cursor: Cursor): string {
  return [...cursor].map(([p, o]) => `${p}:${o}`).join(',');
}

/** Parses `0:15,1:7`; anything malformed gives undefined (= the newest page), never an exception. */
export function decodeCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined;
  const cursor: Cursor = new Map();
  for (const part of text.split(',')) {
    const match = /^(\d{1,6}):(\d{1,19})$/.exec(part);
    if (!match) return undefined;
    cursor.set(Number(match[1]), BigInt(match[2]!));
  }
  return cursor;
}

/**
 * Newest first over all partitions: a k-way merge of each partition's letters (read newest-first) by
 * timestamp. Taking from each partition only from its newest end keeps what a page took contiguous per
 * partition, so the cursor (lowest offset taken per partition) loses nothing and repeats nothing.
 */
export function mergeNewestFirst(
  perPartition: Map<number, InMessage[]>,
  pageSize: number,
  upper: Cursor,
): { items: InMessage[]; next: Cursor } {
  const stacks = new Map<number, InMessage[]>();
  for (const [p, list] of perPartition) {
    stacks.set(
      p,
      [...list].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1)),
    );
  }
  const next: Cursor = new Map(upper);
  const items: InMessage[] = [];
  while (items.length < pageSize) {
    let best: number | undefined;
    for (const [p, stack] of stacks) {
      const top = stack.at(-1);
      if (top === undefined) continue;
      const current = best === undefined ? undefined : stacks.get(best)!.at(-1)!;
      if (
        current === undefined ||
        top.timestamp > current.timestamp ||
        (top.timestamp === current.timestamp && p < best!)
      )
        best = p;
    }
    if (best === undefined) break;
    const message = stacks.get(best)!.pop()!;
    items.push(message);
    next.set(best, BigInt(message.offset));
  }
  return { items, next };
}

export interface DeadLetterPage {
  items: DeadLetterView[];
  /** Cursor of the next (older) page, or null when this is the last one. */
  next: string | null;
  /** Letters in the topic (high − low watermarks summed). */
  total: number;
}

export class DeadLetterStore {
  /** `<partition>/<offset>` → the latest replay of that letter. */
  readonly replays = new Map<string, ReplayMark>();
  replayCount = 0;

  constructor(
    private readonly kafka: Kafka,
    readonly dlqTopic: string,
    readonly rawTopic: string,
    readonly replaysTopic: string,
  ) {}

  /** Fed by the reader of the replays topic (also with this console's own marks, read back). */
  recordMark(key: string | null, value: Buffer | null): void {
    if (key === null || value === null) return;
    const mark = JSON.parse(value.toString('utf8')) as ReplayMark;
    if (mark.dlqTopic !== this.dlqTopic || `${mark.partition}/${mark.offset}` !== key) return;
    this.replays.set(key, mark);
  }

  private async watermarks(): Promise<{ partition: number; low: bigint; high: bigint }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(this.dlqTopic);
      return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
    } finally {
      await admin.disconnect();
    }
  }

  async page(pageSize: number, before?: Cursor): Promise<DeadLetterPage> {
    const marks = await this.watermarks();
    const total = marks.reduce((sum, m) => sum + Number(m.high - m.low), 0);
    const upper: Cursor = new Map();
    const ranges: OffsetRange[] = [];
    for (const m of marks) {
      const end = before?.get(m.partition) ?? (before === undefined ? m.high : m.low);
      const to = minBig(end, m.high);
      upper.set(m.partition, to);
      const from = maxBig(to - BigInt(pageSize), m.low);
      if (to > from) ranges.push({ partition: m.partition, from, to });
    }
    const messages = await readRanges(this.kafka, this.dlqTopic, ranges);
    const perPartition = new Map<number, InMessage[]>();
    for (const m of messages) perPartition.set(m.partition, [...(perPartition.get(m.partition) ?? []), m]);
    const { items, next } = mergeNewestFirst(perPartition, pageSize, upper);
    const more = marks.some((m) => (next.get(m.partition) ?? m.low) > m.low);
    return {
      items: items.map((m) => toDeadLetterView(m, this.replays.get(`${m.partition}/${m.offset}`))),
      next: more ? encodeCursor(next) : null,
      total,
    };
  }

  async get(partition: number, offset: bigint): Promise<DeadLetterView | undefined> {
    const [message] = await readRanges(this.kafka, this.dlqTopic, [
      { partition, from: offset, to: offset + 1n },
    ]);
    if (message === undefined || BigInt(message.offset) !== offset) return undefined;
    return toDeadLetterView(message, this.replays.get(`${partition}/${offset}`));
  }

  /**
   * Republishes the ORIGINAL payload and headers of each letter to the raw topic, then records the replay
   * on the compacted replays topic. The letter itself stays on the DLQ (Kafka is append-only): a replay
   * that fails again simply becomes a new letter. A truncated letter is refused — its payload is only the
   * first bytes of the message, and replaying it would dead-letter garbage. At most MAX_REPLAY_IDS letters
   * per call (RangeError beyond).
   */
  async replay(
    producer: ReliableProducer,
    ids: { partition: number; offset: bigint }[],
    payloadOverride?: Map<string, Buffer>,
  ): Promise<{ replayed: string[]; refused: { id: string; reason: string }[] }> {
    if (ids.length > MAX_REPLAY_IDS)
      throw new RangeError(`at most ${MAX_REPLAY_IDS} letters per replay (${ids.length} chosen)`);
    const refused: { id: string; reason: string }[] = [];
    const toSend: OutMessage[] = [];
    const marks: OutMessage[] = [];
    const replayed: string[] = [];
    // The same letter chosen twice is replayed once.
    const unique = [...new Map(ids.map((id) => [`${id.partition}/${id.offset}`, id])).values()];
    // Only offsets the partition still holds are read: a reader asked for an offset past the end (or in a
    // partition the topic does not have) waits for a message that never comes — the request hung 20 s and
    // answered 503 instead of "not found".
    const held = new Map((await this.watermarks()).map((w) => [w.partition, w]));
    const inRange = unique.filter(({ partition, offset }) => {
      const w = held.get(partition);
      return w !== undefined && offset >= w.low && offset < w.high;
    });
    const byPartition = new Map<number, bigint[]>();
    for (const id of inRange)
      byPartition.set(id.partition, [...(byPartition.get(id.partition) ?? []), id.offset]);
    const found = new Map<string, InMessage>();
    // One reader per distinct offset would be slow; read each partition's span once and keep only the
    // wanted letters, so ids far apart do not hold every letter in between in memory.
    const wanted = new Set(inRange.map(({ partition, offset }) => `${partition}/${offset}`));
    const spans: OffsetRange[] = [...byPartition].map(([partition, offsets]) => ({
      partition,
      from: offsets.reduce(minBig),
      to: offsets.reduce(maxBig) + 1n,
    }));
    if (spans.length > 0)
      for (const m of await readRanges(this.kafka, this.dlqTopic, spans, undefined, (p, o) =>
        wanted.has(`${p}/${o}`),
      ))
        found.set(`${m.partition}/${m.offset}`, m);
    const now = new Date().toISOString();
    for (const { partition, offset } of unique) {
      const id = `${partition}/${offset}`;
      const message = found.get(id);
      if (message === undefined) {
        refused.push({ id, reason: 'not found (deleted by retention?)' });
        continue;
      }
      const stage = message.headers[DLQ_HEADER.stage];
      if (stage !== undefined && SINK_STAGES.has(stage)) {
        // A sink's letter holds a parsed record, not a raw message: in the raw topic the parser would only
        // dead-letter it again. What to replay is the raw message it came from, named by its lineage.
        refused.push({
          id,
          reason: `a letter of the ${stage} holds a parsed record, not a raw message; fix the cause and replay the raw message of its lineage`,
        });
        continue;
      }
      if (message.headers[DLQ_HEADER.truncated] === 'true' && !payloadOverride?.has(id)) {
        refused.push({ id, reason: 'the letter holds only the first bytes of the message (truncated)' });
        continue;
      }
      toSend.push({
        key: message.key,
        value: payloadOverride?.get(id) ?? message.value ?? Buffer.alloc(0),
        headers: replayHeaders(message.headers, partition, offset),
      });
      const mark: ReplayMark = {
        dlqTopic: this.dlqTopic,
        partition,
        offset: String(offset),
        replayedAt: now,
        rawTopic: this.rawTopic,
      };
      marks.push({ key: id, value: JSON.stringify(mark) });
      replayed.push(id);
    }
    if (toSend.length > 0) {
      await producer.send(this.rawTopic, toSend);
      await producer.send(this.replaysTopic, marks);
      for (const m of marks) this.recordMark(m.key as string, Buffer.from(m.value as string));
      this.replayCount += toSend.length;
    }
    return { replayed, refused };
  }
}

/**
 * The original raw headers: every `gs-dlq-*` removed, plus where the replay came from, and — for a letter
 * of a partly parsed message — which records went through the first time, so the parser emits only the
 * rest.
 */
export function replayHeaders(
  headers: Record<string, string>,
  partition: number,
  offset: bigint | string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('gs-dlq-') && name !== REPLAYED_FROM_HEADER) out[name] = value;
  }
  out[REPLAYED_FROM_HEADER] = `dlq/${partition}/${offset}`;
  const emitted = headers[DLQ_HEADER.emitted];
  if (emitted) out[RAW_HEADER.replaySkip] = emitted;
  else delete out[RAW_HEADER.replaySkip];
  return out;
}

// Math.min/max do not take bigint (offsets are int64).
function minBig(a: bigint, b: bigint): bigint {
  return b < a ? b : a;
}
function maxBig(a: bigint, b: bigint): bigint {
  return b > a ? b : a;
}
