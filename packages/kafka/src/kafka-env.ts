import { envBoolean, envInt, envList } from '@gridstream/config';
import { DEFAULT_TOPICS } from '@gridstream/schema';
import { z } from 'zod';

/** Kafka variables shared by every service; services merge this shape into their own schema. */
export const kafkaEnvShape = {
  KAFKA_BROKERS: envList('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().default('gridstream'),
  KAFKA_SSL: envBoolean(false),
  /**
   * PEM text of the CA that signed the brokers' certificates (else the system's CAs), and of this client's
   * certificate and private key for brokers that require client authentication (`ssl.client.auth`). Each
   * also comes from a file: KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE.
   */
  KAFKA_SSL_CA: z.string().optional(),
  KAFKA_SSL_CERT: z.string().optional(),
  KAFKA_SSL_KEY: z.string().optional(),
  /** Passphrase of an encrypted KAFKA_SSL_KEY. */
  KAFKA_SSL_KEY_PASSWORD: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_TOPIC_RAW: z.string().default(DEFAULT_TOPICS.raw),
  KAFKA_TOPIC_PARSED: z.string().default(DEFAULT_TOPICS.parsed),
  KAFKA_TOPIC_DLQ: z.string().default(DEFAULT_TOPICS.dlq),
  /** Alarm events (parser's quality stage → influx-writer); key alarmKey(), compaction-friendly. */
  KAFKA_TOPIC_ALARMS: z.string().default(DEFAULT_TOPICS.alarms),
  /** Operator actions on alarms (console → influx-writer, and back into the console at start). */
  KAFKA_TOPIC_ALARM_ACTIONS: z.string().default(DEFAULT_TOPICS.alarmActions),
  /** Predicted values per series (forecaster; `gridstream topics create` makes it with the others). */
  KAFKA_TOPIC_FORECASTS: z.string().default(DEFAULT_TOPICS.forecasts),
  /** Partitions and replication used when a service creates a missing topic (`make topic` does too). */
  KAFKA_TOPIC_PARTITIONS: envInt(6, { min: 1, max: 10_000 }),
  KAFKA_REPLICATION_FACTOR: envInt(1, { min: 1, max: 16 }),
  KAFKA_CREATE_TOPICS: envBoolean(true),
  /**
   * A consumer silent for longer than this leaves its group and its partitions go to another member
   * (the broker bounds it: group.min/max.session.timeout.ms, 6 s to 30 min by default). Shorter moves
   * the work of a crashed replica sooner; the loop heartbeats while a sink is slow, so a slow sink does
   * not cost the membership.
   */
  KAFKA_SESSION_TIMEOUT_MS: envInt(30_000, { min: 1_000, max: 1_800_000 }),
  KAFKA_HEARTBEAT_INTERVAL_MS: envInt(3_000, { min: 100, max: 600_000 }),
};

export type KafkaEnv = {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID: string;
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA?: string | undefined;
  KAFKA_SSL_CERT?: string | undefined;
  KAFKA_SSL_KEY?: string | undefined;
  KAFKA_SSL_KEY_PASSWORD?: string | undefined;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_TOPIC_RAW: string;
  KAFKA_TOPIC_PARSED: string;
  KAFKA_TOPIC_DLQ: string;
  /** Optional here so hand-built envs (tests, tools) that never touch alarms need not name it. */
  KAFKA_TOPIC_ALARMS?: string;
  KAFKA_TOPIC_ALARM_ACTIONS?: string;
  KAFKA_TOPIC_FORECASTS?: string;
  KAFKA_TOPIC_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_CREATE_TOPICS: boolean;
  /** Optional here for hand-built envs (tests, tools); services always have them from kafkaEnvShape. */
  KAFKA_SESSION_TIMEOUT_MS?: number;
  KAFKA_HEARTBEAT_INTERVAL_MS?: number;
};

/** Cross-field rule: SASL needs both halves of the credential, or every connection is refused. */
export function checkKafkaEnv(cfg: KafkaEnv, ctx: z.RefinementCtx): void {
  if (
    cfg.KAFKA_SESSION_TIMEOUT_MS !== undefined &&
    cfg.KAFKA_HEARTBEAT_INTERVAL_MS !== undefined &&
    cfg.KAFKA_HEARTBEAT_INTERVAL_MS * 3 > cfg.KAFKA_SESSION_TIMEOUT_MS
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_HEARTBEAT_INTERVAL_MS'],
      message:
        'must be at most a third of KAFKA_SESSION_TIMEOUT_MS, or one late heartbeat costs the membership and every partition moves',
    });
  }
  if (!cfg.KAFKA_SSL) {
    for (const name of ['KAFKA_SSL_CA', 'KAFKA_SSL_CERT', 'KAFKA_SSL_KEY'] as const) {
      if (cfg[name] !== undefined)
        ctx.addIssue({ code: 'custom', path: [name], message: 'is set, so KAFKA_SSL must be true' });
    }
  }
  if ((cfg.KAFKA_SSL_CERT === undefined) !== (cfg.KAFKA_SSL_KEY === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [cfg.KAFKA_SSL_CERT === undefined ? 'KAFKA_SSL_CERT' : 'KAFKA_SSL_KEY'],
      message: 'a client certificate needs both KAFKA_SSL_CERT and KAFKA_SSL_KEY',
    });
  }
  if (cfg.KAFKA_SASL_MECHANISM && (!cfg.KAFKA_SASL_USERNAME || !cfg.KAFKA_SASL_PASSWORD)) {
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_SASL_USERNAME'],
      message: 'KAFKA_SASL_MECHANISM is set, so KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required',
    });
  }
}

/** Node TLS options for the brokers (both clients take them), or undefined without TLS. */
export function kafkaTlsOptions(
  cfg: KafkaEnv,
): { ca?: string; cert?: string; key?: string; passphrase?: string } | undefined {
  if (!cfg.KAFKA_SSL) return undefined;
  const tls: { ca?: string; cert?: string; key?: string; passphrase?: string } = {};
  if (cfg.KAFKA_SSL_CA !== undefined) tls.ca = cfg.KAFKA_SSL_CA;
  if (cfg.KAFKA_SSL_CERT !== undefined) tls.cert = cfg.KAFKA_SSL_CERT;
  if (cfg.KAFKA_SSL_KEY !== undefined) tls.key = cfg.KAFKA_SSL_KEY;
  if (cfg.KAFKA_SSL_KEY_PASSWORD !== undefined) tls.passphrase = cfg.KAFKA_SSL_KEY_PASSWORD;
  return tls;
}
