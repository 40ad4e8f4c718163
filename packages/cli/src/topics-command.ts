import { loadConfig } from '@gridstream/config';
import {
  alarmsTopicRequest,
  consumerLag,
  createKafka,
  ensureConfiguredTopics,
  kafkaEnvShape,
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

/** `gridstream topics lag <group> [topic…]`: committed offset, high watermark and lag per partition. */
export async function showLag(
  env: Record<string, string | undefined>,
  logger: Logger,
  groupId: string,
  topics: string[],
): Promise<string> {
  const cfg = loadConfig(topicsConfigSchema, env);
  const kafka = createKafka(cfg, logger);
  const rows = await consumerLag(kafka, groupId, topics.length > 0 ? topics : [cfg.KAFKA_TOPIC_RAW]);
  const lines = rows.map((r) => `${r.topic}\t${r.partition}\t${r.committed}\t${r.high}\t${r.lag}`);
  const total = rows.reduce((n, r) => n + r.lag, 0);
  return ['topic\tpartition\tcommitted\thigh\tlag', ...lines, `total lag: ${total}`].join('\n');
}
