import type { Logger } from '@gridstream/runtime';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { type KafkaEnv, kafkaTlsOptions } from './kafka-env.js';
import { crc32cImplementation, Kafka, logLevel } from './kafkajs.js';
import { connectionOptions, rememberConnection } from './platformatic.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs is used only inside this package; services see `Kafka` from here and never import kafkajs. */
export function createKafka(cfg: KafkaEnv, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  const sasl: SASLOptions | undefined = cfg.KAFKA_SASL_MECHANISM
    ? ({
        mechanism: cfg.KAFKA_SASL_MECHANISM,
        username: cfg.KAFKA_SASL_USERNAME ?? '',
        password: cfg.KAFKA_SASL_PASSWORD ?? '',
      } as SASLOptions)
    : undefined;
  const config: KafkaConfig = {
    clientId: cfg.KAFKA_CLIENT_ID,
    brokers: cfg.KAFKA_BROKERS,
    ssl: kafkaTlsOptions(cfg) ?? false,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // Retries here cover a broker blip; longer outages are handled by our own loops, which pause and
    // retry forever instead of giving up (a give-up would mean a dropped batch or a crashed service).
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        kafkaLogger[LEVEL[level] ?? 'info'](extra, message);
      },
  };
  if (sasl) config.sasl = sasl;
  // A JavaScript CRC32C costs the producers a large share of their CPU: worth seeing in the start-up log.
  if (crc32cImplementation !== 'native')
    kafkaLogger.warn('no native CRC32C for this platform (@node-rs/crc32): producing costs more CPU');
  const kafka = new Kafka(config);
  rememberConnection(kafka, connectionOptions(cfg));
  return kafka;
}

export type { Kafka } from './kafkajs.js';
