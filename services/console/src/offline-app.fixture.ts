import { loadConfig } from '@gridstream/config';
import { openKafkaImportSink } from '@gridstream/importer';
import { createKafka, ReliableProducer } from '@gridstream/kafka';
import { createLogger, createMetricsRegistry } from '@gridstream/runtime';
import type { FastifyInstance } from 'fastify';
import { AlarmBoard } from './alarm-board.js';
import { buildConsoleApp } from './app.js';
import { consoleConfigSchema } from './config.js';
import { DeadLetterStore } from './dead-letters.js';
import { ImportJobs } from './import-jobs.js';
import { PipelineMonitor } from './pipeline-monitor.js';

/**
 * The console app for unit tests, with no server behind it: a Kafka client pointed at a closed port (never
 * connected), one service that never answers. `env` adds to or overrides those settings.
 */
export async function offlineConsoleApp(
  env: Record<string, string>,
): Promise<{ app: FastifyInstance; alarms: AlarmBoard }> {
  const config = loadConfig(consoleConfigSchema, {
    CONSOLE_SERVICES: 'parser=http://127.0.0.1:1',
    KAFKA_BROKERS: '127.0.0.1:1',
    ...env,
  });
  const logger = createLogger({ service: 'test', level: 'silent' });
  const kafka = createKafka(config, logger);
  const producer = new ReliableProducer(kafka, logger);
  const alarms = new AlarmBoard();
  const app = await buildConsoleApp({
    config,
    logger,
    metrics: createMetricsRegistry('console'),
    monitor: new PipelineMonitor({
      services: config.CONSOLE_SERVICES,
      kafka,
      groups: [],
      dlqTopic: 'dlq',
      intervalMs: 5_000,
      logger,
    }),
    deadLetters: new DeadLetterStore(kafka, 'dlq', 'raw', 'dlq.replays'),
    producer,
    alarms,
    jobs: new ImportJobs(),
    importSink: await openKafkaImportSink({ config, logger, kafka, producer }),
  });
  return { app, alarms };
}
