import type { Logger } from '@gridstream/runtime';
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
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    logger?.info({ topics: missing.map((s) => s.topic) }, 'created topics');
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
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
 * The topics a service needs, created with the configured partitions and replication unless
 * KAFKA_CREATE_TOPICS=false (where topics are managed elsewhere, a missing topic is then an error from Kafka).
 */
export async function ensureConfiguredTopics(
  kafka: Kafka,
  cfg: { KAFKA_CREATE_TOPICS: boolean; KAFKA_TOPIC_PARTITIONS: number; KAFKA_REPLICATION_FACTOR: number },
  topics: string[],
  logger?: Logger,
): Promise<string[]> {
  if (!cfg.KAFKA_CREATE_TOPICS) return [];
  return ensureTopics(
    kafka,
    topics.map((topic) => ({
      topic,
      partitions: cfg.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
    })),
    logger,
  );
}
