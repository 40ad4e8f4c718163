import { randomBytes } from 'node:crypto';
import type { Logger } from '@gridstream/runtime';
import type { Kafka } from 'kafkajs';
import { type InMessage, toInMessage } from './messages.js';

export interface OffsetRange {
  partition: number;
  /** First offset to read (inclusive). */
  from: bigint;
  /** Offset to stop before (exclusive). */
  to: bigint;
}

/**
 * Unique group per reader: readers never commit, so they never move any service's offsets, and always
 * start where they seek (kafkajs has no manual partition assignment, hence a single-member group).
 */
function readerGroup(purpose: string): string {
  return `gridstream-reader-${purpose}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Reads exact offset ranges of a topic (a page of dead letters, one letter, a whole small topic) with a throwaway consumer:
 * kafkajs has no manual assignment, so the consumer joins its own single-member group, seeks each wanted
 * partition and stops once every range is read. Nothing is committed. Offsets that no longer exist
 * (retention deleted them) are simply missing from the answer.
 */
export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: OffsetRange[],
  timeoutMs = 20_000,
  /** Keeps only these offsets of the ranges (the rest is read past, not held in memory). */
  keep?: (partition: number, offset: bigint) => boolean,
): Promise<InMessage[]> {
  const wanted = ranges.filter((r) => r.to > r.from);
  if (wanted.length === 0) return [];
  const consumer = kafka.consumer({
    groupId: readerGroup('reader'),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  const byPartition = new Map(wanted.map((r) => [r.partition, r]));
  const pending = new Set(wanted.map((r) => r.partition));
  const out: InMessage[] = [];
  const seen = new Set<string>();
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  try {
    // Where each partition's fetch has got to, control records (transaction markers) and aborted records
    // included: a transactional topic's range usually ENDS with a marker, which no message ever shows, so
    // "the last message seen is at to - 1" would wait forever. kafkajs reports the position of every
    // fetched batch, also of one that held nothing but markers, in END_BATCH_PROCESS.
    const reached = (partition: number, lastOffset: bigint) => {
      const range = byPartition.get(partition);
      if (range && pending.has(partition) && lastOffset >= range.to - 1n) {
        pending.delete(partition);
        if (pending.size === 0) resolveDone();
      }
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic) reached(payload.partition, BigInt(payload.lastOffset));
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = byPartition.get(batch.partition);
        if (!range || !pending.has(batch.partition)) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (
            offset >= range.from &&
            offset < range.to &&
            !seen.has(`${batch.partition}/${offset}`) &&
            (keep === undefined || keep(batch.partition, offset))
          ) {
            seen.add(`${batch.partition}/${offset}`);
            out.push(toInMessage(topic, batch.partition, message));
          }
        }
        // The range may end at a gap (compaction): the batch's high watermark says nothing more is coming.
        if (BigInt(batch.highWatermark) <= range.to) {
          const last = batch.messages.at(-1);
          if (last === undefined || BigInt(last.offset) >= BigInt(batch.highWatermark) - 1n)
            reached(batch.partition, range.to - 1n);
        }
        reached(batch.partition, BigInt(batch.lastOffset()));
      },
    });
    for (const range of wanted)
      consumer.seek({ topic, partition: range.partition, offset: String(range.from) });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reading ${topic} took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/**
 * Reads a whole topic from the beginning up to the end offsets it had when the read began (restoring
 * state kept on a compacted topic, e.g. the parser's active alarm episodes). The end is the last STABLE
 * offset (kafkajs lists offsets read_committed): a transaction left open by a killed producer is not
 * waited for.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<InMessage[]> {
  return readRanges(kafka, topic, await wholeTopicRanges(kafka, topic), timeoutMs);
}

/** Every partition of a topic from its earliest offset to its last stable one (see readTopicToEnd). */
export async function wholeTopicRanges(
  kafka: Kafka,
  topic: string,
  /** How long leadership may take to settle (a topic created a moment ago, a broker restarting). */
  settleMs = 30_000,
): Promise<OffsetRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + settleMs;
  try {
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        return (await admin.fetchTopicOffsets(topic)).map((o) => ({
          partition: o.partition,
          from: BigInt(o.low),
          to: BigInt(o.high),
        }));
      } catch (error) {
        // Right after a topic is created its leaders are still being elected: ListOffsets answers
        // NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE, and kafkajs's own retries can run out before the
        // election ends (a console that failed to start because its alarms topic was one second old).
        if (!isRetriableKafkaError(error) || Date.now() + wait > deadline) throw error;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** A kafkajs error the broker marks retriable, also when wrapped by kafkajs's retrier. */
function isRetriableKafkaError(error: unknown): boolean {
  for (let e = error as { retriable?: boolean; originalError?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.retriable === true) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/**
 * Follows a whole topic from the beginning for the life of a process (the console's active alarms and
 * replay marks). Meant for keyed, compacted, small topics, whose latest state is cheap to hold in memory.
 * `caughtUp` resolves once the reader has reached the end offsets it saw at start.
 */
export async function tailTopic(
  kafka: Kafka,
  topic: string,
  purpose: string,
  onMessage: (message: InMessage) => void,
  logger: Logger,
): Promise<{ stop(): Promise<void>; caughtUp: Promise<void>; check(): { ok: boolean; detail?: string } }> {
  const ends = new Map<number, bigint>();
  for (const range of await wholeTopicRanges(kafka, topic)) {
    if (range.to > range.from) ends.set(range.partition, range.to);
  }
  let resolveCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => {
    resolveCaughtUp = r;
  });
  if (ends.size === 0) resolveCaughtUp();
  let crashed: string | undefined;
  const consumer = kafka.consumer({ groupId: readerGroup(purpose), allowAutoTopicCreation: false });
  consumer.on(consumer.events.CRASH, (event) => {
    crashed = String(event.payload.error?.message ?? event.payload.error);
    logger.error({ err: event.payload.error, topic }, 'topic reader crashed');
  });
  const reached = (partition: number, lastOffset: bigint) => {
    const end = ends.get(partition);
    if (end !== undefined && lastOffset >= end - 1n) {
      ends.delete(partition);
      if (ends.size === 0) resolveCaughtUp();
    }
  };
  // Also batches of nothing but transaction markers (the end of a transactional topic), see readRanges.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) reached(payload.partition, BigInt(payload.lastOffset));
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      try {
        onMessage(toInMessage(topic, partition, message));
      } catch (error) {
        logger.warn({ err: error, topic, partition, offset: message.offset }, 'unreadable message skipped');
      }
      reached(partition, BigInt(message.offset));
    },
  });
  return {
    caughtUp,
    check: () => (crashed ? { ok: false, detail: `${topic}: ${crashed}` } : { ok: true }),
    stop: () => consumer.disconnect(),
  };
}
