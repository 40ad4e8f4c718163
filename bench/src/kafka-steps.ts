import {
  consumerLag,
  deleteTopics,
  ensureTopics,
  type Kafka,
  type OutMessage,
  ReliableProducer,
  readRanges,
  wholeTopicRanges,
} from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { decodeParsedMessage } from '@gridstream/schema';
import { onCleanup } from './cleanup.js';
import type { CpuMeter, CpuReport } from './cpu-meter.js';
import type { RunningServiceProcess } from './service-process.js';

/** Creates fresh topics and registers their deletion (and the consumer groups') with the run's cleanup. */
export async function freshTopics(kafka: Kafka, topics: string[], partitions: number, groups: string[] = []) {
  await ensureTopics(
    kafka,
    topics.map((topic) => ({ topic, partitions, replicationFactor: 1 })),
  );
  onCleanup(`delete topics ${topics.join(', ')}`, () => deleteTopics(kafka, topics));
  if (groups.length > 0) onCleanup(`delete groups ${groups.join(', ')}`, () => deleteGroups(kafka, groups));
}

async function deleteGroups(kafka: Kafka, groups: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groups);
  } catch {
    // A group that never committed does not exist; nothing to remove.
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces everything through the project's own ReliableProducer (idempotent, acks=all), several requests
 * at a time from independent producers so that preloading is not the slow part of the run.
 */
export async function produceAll(
  kafka: Kafka,
  logger: Logger,
  topic: string,
  messages: OutMessage[],
  parallel = 4,
) {
  const chunk = 2_000;
  let next = 0;
  const worker = async () => {
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    try {
      for (;;) {
        const from = next;
        next += chunk;
        if (from >= messages.length) return;
        await producer.send(topic, messages.slice(from, from + chunk));
      }
    } finally {
      await producer.disconnect();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Messages in a topic written without transactions (the bridge's raw topic): the sum of the partitions'
 * offset spans, cheap enough to poll every 100 ms.
 */
export async function offsetSpan(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Committed records in a topic. The parser writes in transactions, so offsets are not records: every commit
 * leaves a marker per partition (and an aborted attempt leaves records no reader sees). The records are
 * read, read_committed, and counted without being kept.
 */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const ranges = await wholeTopicRanges(kafka, topic);
  let count = 0;
  await readRanges(kafka, topic, ranges, 120_000, () => {
    count++;
    return false;
  });
  return count;
}

export interface DrainTiming {
  /** Rate over the observed window, in input messages per second. */
  perSecond: number;
  /** Seconds between the first observation of progress and the last message handled. */
  seconds: number;
  /** Messages handled inside that window (the ones before the first observation are not counted). */
  counted: number;
  /** CPU use over the same window, when a meter was given. */
  cpu?: CpuReport;
}

export interface TimingOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** Started at the first observation, stopped at the last: CPU over exactly the timed window. */
  cpu?: CpuMeter;
  cores?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls a consumer group's lag every `intervalMs` (as an operator's dashboard would) while a service drains
 * a preloaded topic. The clock starts at the first poll that sees a commit, with the messages committed by
 * then subtracted, so process start, group join and the first fetch are not charged to the service; it
 * stops at the first poll that sees lag 0 on every partition.
 */
export async function timeDrain(
  kafka: Kafka,
  groupId: string,
  topic: string,
  total: number,
  service: RunningServiceProcess,
  { intervalMs = 200, timeoutMs = 300_000, cpu, cores = 1 }: TimingOptions = {},
): Promise<DrainTiming> {
  const deadline = Date.now() + timeoutMs;
  let first: { at: number; committed: number } | undefined;
  for (;;) {
    service.assertAlive();
    const polledAt = Date.now();
    const lag = await consumerLag(kafka, groupId, [topic]);
    const committed = lag.reduce((n, p) => n + (p.committed === '-1' ? 0 : Number(p.committed)), 0);
    const remaining = lag.reduce((n, p) => n + p.lag, 0);
    if (first === undefined && committed > 0) {
      first = { at: polledAt, committed };
      cpu?.start();
    }
    if (first !== undefined && remaining === 0 && lag.length > 0) {
      // A topic written in transactions (the parser's) has a marker offset after every commit, so its end
      // offsets exceed its records; one written without them ends exactly at `total`.
      if (committed < total)
        throw new Error(`${groupId} committed ${committed} offsets for ${total} messages on ${topic}`);
      const seconds = (polledAt - first.at) / 1000;
      // The records among the offsets handled in the window (markers are spread evenly over the topic).
      const counted = Math.round(((committed - first.committed) * total) / committed);
      return { perSecond: counted / seconds, seconds, counted, ...(cpu ? { cpu: cpu.stop(cores) } : {}) };
    }
    if (Date.now() > deadline) {
      throw new Error(`${service.name} did not drain ${topic} in ${timeoutMs / 1000} s (lag ${remaining})`);
    }
    await sleep(Math.max(0, intervalMs - (Date.now() - polledAt)));
  }
}

/**
 * Same idea for a producer-side service (the bridge): clock from the first poll that sees messages in the
 * topic to the first that sees all of them.
 */
export async function timeFill(
  kafka: Kafka,
  topic: string,
  total: number,
  service: RunningServiceProcess,
  { intervalMs = 100, timeoutMs = 300_000, cpu, cores = 1 }: TimingOptions = {},
): Promise<DrainTiming> {
  const deadline = Date.now() + timeoutMs;
  let first: { at: number; size: number } | undefined;
  for (;;) {
    service.assertAlive();
    const polledAt = Date.now();
    const size = await offsetSpan(kafka, topic);
    if (first === undefined && size > 0) {
      first = { at: polledAt, size };
      cpu?.start();
    }
    if (first !== undefined && size >= total) {
      if (size > total)
        throw new Error(`${topic} holds ${size} messages, ${total} were published: duplicates`);
      const seconds = (polledAt - first.at) / 1000;
      const counted = total - first.size;
      return { perSecond: counted / seconds, seconds, counted, ...(cpu ? { cpu: cpu.stop(cores) } : {}) };
    }
    if (Date.now() > deadline)
      throw new Error(`${topic} reached ${size} of ${total} in ${timeoutMs / 1000} s`);
    await sleep(Math.max(0, intervalMs - (Date.now() - polledAt)));
  }
}

/**
 * Every message of a topic (value and key) from the beginning, with a throwaway group: the parser's output,
 * read back so the writer is measured on exactly the records the parser produced.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  groupId: string,
  timeoutMs = 120_000,
): Promise<OutMessage[]> {
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
  });
  const out: OutMessage[] = [];
  await consumer.connect();
  onCleanup(`delete group ${groupId}`, () => deleteGroups(kafka, [groupId]));
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value) out.push({ key: m.key, value: m.value });
        }
        if (out.length >= expected) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (out.length < expected) throw new Error(`read ${out.length} of ${expected} messages from ${topic}`);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

/** Records on a parsed topic (either format: a v2 message carries several, docs/messages.md). */
export async function parsedRecordCount(kafka: Kafka, topic: string, groupId: string): Promise<number> {
  const messages = await topicSize(kafka, topic);
  const all = await readTopic(kafka, topic, messages, groupId);
  return all.reduce((n, m) => n + decodeParsedMessage(m.value).length, 0);
}
