import { loadConfig } from '@gridstream/config';
import {
  alarmActionsTopicRequest,
  alarmsTopicRequest,
  consumerLag,
  createKafka,
  ensureConfiguredTopics,
  kafkaEnvShape,
  type PartitionLag,
} from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { z } from 'zod';

const topicsConfigSchema = z.object(kafkaEnvShape);

/** `gridstream topics create`: the pipeline's topics, with partitions and replication from the environment. */
export async function createTopics(env: Record<string, string | undefined>, logger: Logger): Promise<string> {
  const cfg = loadConfig(topicsConfigSchema, env);
  const kafka = createKafka(cfg, logger);
  const requests = [
    cfg.KAFKA_TOPIC_RAW,
    cfg.KAFKA_TOPIC_PARSED,
    cfg.KAFKA_TOPIC_DLQ,
    alarmsTopicRequest(cfg),
    alarmActionsTopicRequest(cfg),
    cfg.KAFKA_TOPIC_FORECASTS,
  ];
  const topics = requests.map((r) => (typeof r === 'string' ? r : r.topic));
  // An explicit `topics create` creates them even where services are told not to (KAFKA_CREATE_TOPICS=false).
  const created = await ensureConfiguredTopics(kafka, { ...cfg, KAFKA_CREATE_TOPICS: true }, requests);
  return topics
    .map(
      (t) =>
        `${t}: ${created.includes(t) ? `created (${cfg.KAFKA_TOPIC_PARTITIONS} partitions, replication ${cfg.KAFKA_REPLICATION_FACTOR})` : 'exists, left as it is'}`,
    )
    .join('\n');
}

/** One partition of `topics lag --json`. Offsets are strings (64-bit, as Kafka gives them); lag a number. */
export interface PartitionLagJson {
  group: string;
  topic: string;
  partition: number;
  /** Next offset the group will read; null when it never committed on this partition (the table's -1). */
  committed: string | null;
  /** End of the partition: the offset the next message will get (high watermark). */
  end: string;
  lag: number;
}

/** `topics lag --json`: one document, the partitions sorted by topic and partition, and the total lag. */
export function lagToJson(
  group: string,
  rows: readonly PartitionLag[],
): { group: string; partitions: PartitionLagJson[]; total: number } {
  return {
    group,
    partitions: rows.map((r) => ({
      group,
      topic: r.topic,
      partition: r.partition,
      committed: r.committed === '-1' ? null : r.committed,
      end: r.high,
      lag: r.lag,
    })),
    total: rows.reduce((n, r) => n + r.lag, 0),
  };
}

/** The table of `topics lag`: committed offset, high watermark and lag per partition, then the total. */
export function formatLag(rows: readonly PartitionLag[]): string {
  const lines = rows.map((r) => `${r.topic}\t${r.partition}\t${r.committed}\t${r.high}\t${r.lag}`);
  const total = rows.reduce((n, r) => n + r.lag, 0);
  return ['topic\tpartition\tcommitted\thigh\tlag', ...lines, `total lag: ${total}`].join('\n');
}

/**
 * `gridstream topics lag <group> [topic…]`: committed offset, high watermark and lag per partition, as a
 * table or (`json`) as the one-line JSON document of `lagToJson`.
 */
export async function showLag(
  env: Record<string, string | undefined>,
  logger: Logger,
  groupId: string,
  topics: string[],
  options: { json?: boolean } = {},
): Promise<string> {
  const cfg = loadConfig(topicsConfigSchema, env);
  const kafka = createKafka(cfg, logger);
  const rows = await consumerLag(kafka, groupId, topics.length > 0 ? topics : [cfg.KAFKA_TOPIC_RAW]);
  return options.json ? JSON.stringify(lagToJson(groupId, rows)) : formatLag(rows);
}
