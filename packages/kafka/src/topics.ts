import type { Logger } from '@gridstream/runtime';
import { DEFAULT_TOPICS } from '@gridstream/schema';
import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet; existing topics are left exactly as they are (changing
 * partition counts would move keys between partitions and break per-device ordering).
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], logger?: Logger): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      // Waited for below: kafkajs's own wait gives up on "does not host this topic-partition", which a
      // multi-broker cluster answers for a moment while the new topic's metadata reaches every broker.
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(
      admin,
      missing.map((s) => s.topic),
    );
    logger?.info({ topics: missing.map((s) => s.topic) }, 'created topics');
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}

/** Until every partition of `topics` has a leader (any metadata error meanwhile is a "not yet"). */
async function waitForLeaders(
  admin: ReturnType<Kafka['admin']>,
  topics: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (
        found.length === topics.length &&
        found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms: ${String(last ?? '')}`);
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Topic settings for topics keyed by what they describe, where only the latest value per key matters
 * (alarm state, DLQ replay marks). Compaction keeps that latest value however old it is; with plain
 * retention an alarm active for longer than the retention period would be forgotten and raised again
 * after a restart.
 */
export const COMPACTED_TOPIC_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact' };

/** A topic a service needs: by name (configured partitions, default settings) or with its own settings. */
export type TopicRequest = string | { topic: string; partitions?: number; config?: Record<string, string> };

/**
 * The alarms topic as every service that touches it creates it. Defined once so that whichever service
 * starts first (parser, writer, console, `topics create`) creates it the same way.
 */
export function alarmsTopicRequest(cfg: { KAFKA_TOPIC_ALARMS?: string | undefined }): TopicRequest {
  return { topic: cfg.KAFKA_TOPIC_ALARMS ?? DEFAULT_TOPICS.alarms, config: { ...COMPACTED_TOPIC_CONFIG } };
}

/**
 * The alarm-actions topic: every action kept (delete policy with no time limit) — the audit trail of alarm
 * handling, which compaction would cut down to the last action per alarm. Human-written, so it stays small.
 */
export function alarmActionsTopicRequest(cfg: {
  KAFKA_TOPIC_ALARM_ACTIONS?: string | undefined;
}): TopicRequest {
  return {
    topic: cfg.KAFKA_TOPIC_ALARM_ACTIONS ?? DEFAULT_TOPICS.alarmActions,
    config: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
  };
}

/**
 * The topics a service needs, created with the configured partitions and replication unless
 * KAFKA_CREATE_TOPICS=false (where topics are managed elsewhere, a missing topic is then an error from Kafka).
 */
export async function ensureConfiguredTopics(
  kafka: Kafka,
  cfg: { KAFKA_CREATE_TOPICS: boolean; KAFKA_TOPIC_PARTITIONS: number; KAFKA_REPLICATION_FACTOR: number },
  topics: TopicRequest[],
  logger?: Logger,
): Promise<string[]> {
  if (!cfg.KAFKA_CREATE_TOPICS) return [];
  return ensureTopics(
    kafka,
    topics.map((request) => {
      const { topic, partitions, config } = typeof request === 'string' ? { topic: request } : request;
      return {
        topic,
        partitions: partitions ?? cfg.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
        ...(config ? { config } : {}),
      };
    }),
    logger,
  );
}

/** Partitions of an existing topic (at least 1): for mirroring a topic's partitioning, or murmur2 ownership. */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return Math.max(1, topics[0]?.partitions.length ?? 1);
  } finally {
    await admin.disconnect();
  }
}
