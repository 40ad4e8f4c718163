import { envBoolean, envInt, envList } from '@gridstream/config';
import { DEFAULT_TOPICS } from '@gridstream/schema';
import { z } from 'zod';

/** Kafka variables shared by every service; services merge this shape into their own schema. */
export const kafkaEnvShape = {
  KAFKA_BROKERS: envList('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().default('gridstream'),
  KAFKA_SSL: envBoolean(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_TOPIC_RAW: z.string().default(DEFAULT_TOPICS.raw),
  KAFKA_TOPIC_PARSED: z.string().default(DEFAULT_TOPICS.parsed),
  KAFKA_TOPIC_DLQ: z.string().default(DEFAULT_TOPICS.dlq),
  /** Alarm events (parser's quality stage → influx-writer); key alarmKey(), compaction-friendly. */
  KAFKA_TOPIC_ALARMS: z.string().default(DEFAULT_TOPICS.alarms),
  /** Partitions and replication used when a service creates a missing topic (`make topic` does too). */
  KAFKA_TOPIC_PARTITIONS: envInt(6, { min: 1, max: 10_000 }),
  KAFKA_REPLICATION_FACTOR: envInt(1, { min: 1, max: 16 }),
  KAFKA_CREATE_TOPICS: envBoolean(true),
};

export type KafkaEnv = {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID: string;
  KAFKA_SSL: boolean;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_TOPIC_RAW: string;
  KAFKA_TOPIC_PARSED: string;
  KAFKA_TOPIC_DLQ: string;
  /** Optional here so hand-built envs (tests, tools) that never touch alarms need not name it. */
  KAFKA_TOPIC_ALARMS?: string;
  KAFKA_TOPIC_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_CREATE_TOPICS: boolean;
};

/** Cross-field rule: SASL needs both halves of the credential, or every connection is refused. */
export function checkKafkaEnv(cfg: KafkaEnv, ctx: z.RefinementCtx): void {
  if (cfg.KAFKA_SASL_MECHANISM && (!cfg.KAFKA_SASL_USERNAME || !cfg.KAFKA_SASL_PASSWORD)) {
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_SASL_USERNAME'],
      message: 'KAFKA_SASL_MECHANISM is set, so KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required',
    });
  }
}
