import { mkdir } from 'node:fs/promises';
import { openKafkaImportSink } from '@gridstream/importer';
import {
  alarmActionsTopicRequest,
  alarmsTopicRequest,
  COMPACTED_TOPIC_CONFIG,
  createKafka,
  ensureConfiguredTopics,
  ReliableProducer,
  tailTopic,
} from '@gridstream/kafka';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import type { FastifyInstance } from 'fastify';
import { AlarmBoard } from './alarm-board.js';
import { buildConsoleApp } from './app.js';
import type { ConsoleConfig } from './config.js';
import { DeadLetterStore } from './dead-letters.js';
import { ImportJobs } from './import-jobs.js';
import { PipelineMonitor } from './pipeline-monitor.js';

export interface RunningConsole extends RunningService {
  /** Where the web UI listens (useful with CONSOLE_PORT=0 in tests). */
  url: string;
  app: FastifyInstance;
  monitor: PipelineMonitor;
}

/**
 * The operator console: pipeline health, dead letters and replay, file import, archive queries and active
 * alarms, in one process that only reads from the pipeline — except for replays and imports, which go
 * to telemetry.raw through the same idempotent acks=all producer every service uses.
 */
export async function startConsole(ctx: ServiceContext<ConsoleConfig>): Promise<RunningConsole> {
  const { config, logger, metrics, readiness } = ctx;
  const kafka = createKafka(config, logger);
  await ensureConfiguredTopics(
    kafka,
    config,
    [
      config.KAFKA_TOPIC_RAW,
      config.KAFKA_TOPIC_DLQ,
      alarmsTopicRequest(config),
      alarmActionsTopicRequest(config),
      // Replay marks are keyed by the letter they mark; one partition keeps reading them back simple.
      { topic: config.KAFKA_TOPIC_DLQ_REPLAYS, partitions: 1, config: { ...COMPACTED_TOPIC_CONFIG } },
    ],
    logger,
  );
  await mkdir(config.CONSOLE_IMPORT_DIR, { recursive: true });

  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

  const deadLetters = new DeadLetterStore(
    kafka,
    config.KAFKA_TOPIC_DLQ,
    config.KAFKA_TOPIC_RAW,
    config.KAFKA_TOPIC_DLQ_REPLAYS,
  );
  const replaysReader = await tailTopic(
    kafka,
    config.KAFKA_TOPIC_DLQ_REPLAYS,
    'replays',
    (m) => deadLetters.recordMark(m.key === null ? null : m.key.toString('utf8'), m.value),
    logger,
  );
  const alarms = new AlarmBoard();
  // Every action ever taken (acknowledged, shelved…), read from the start: the console keeps no state of
  // its own, so a restart (or a second console) shows the same handling.
  const actionsReader = await tailTopic(
    kafka,
    config.KAFKA_TOPIC_ALARM_ACTIONS,
    'alarm-actions',
    (m) => alarms.applyAction(m.value),
    logger,
  );
  const alarmsReader = await tailTopic(
    kafka,
    config.KAFKA_TOPIC_ALARMS,
    'alarms',
    (m) => alarms.apply(m.value, m.key),
    logger,
  );

  const monitor = new PipelineMonitor({
    services: config.CONSOLE_SERVICES,
    kafka,
    groups: [
      { service: 'parser', group: config.PARSER_GROUP_ID, topics: [config.KAFKA_TOPIC_RAW] },
      { service: 'influx-writer', group: config.WRITER_GROUP_ID, topics: [config.KAFKA_TOPIC_PARSED] },
      { service: 'archiver', group: config.ARCHIVER_GROUP_ID, topics: [config.KAFKA_TOPIC_PARSED] },
      // The optional sinks, where the operator runs them (listed in CONSOLE_SERVICES).
      ...(
        [
          ['timescale-writer', config.TIMESCALE_WRITER_GROUP_ID],
          ['opentsdb-writer', config.OPENTSDB_WRITER_GROUP_ID],
        ] as const
      )
        .filter(([service]) => service in config.CONSOLE_SERVICES)
        .map(([service, group]) => ({ service, group, topics: [config.KAFKA_TOPIC_PARSED] })),
    ],
    dlqTopic: config.KAFKA_TOPIC_DLQ,
    intervalMs: config.CONSOLE_POLL_INTERVAL_MS,
    logger,
  });
  monitor.start();

  const jobs = new ImportJobs({ logger });
  // Imports go through the source seam (direct outbox: each batch waits for Kafka's acks, which is the
  // job's progress) on the console's producer, counted in gridstream_source_*{source="import"}.
  const importSink = await openKafkaImportSink({ config, logger, metrics, kafka, producer });
  const app = await buildConsoleApp({
    config,
    logger,
    metrics,
    monitor,
    deadLetters,
    producer,
    alarms,
    jobs,
    importSink,
  });
  const url = await app.listen({ host: config.CONSOLE_HOST, port: config.CONSOLE_PORT });
  logger.info({ url }, 'console listening');

  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: producer.isConnected ? 'connected' : 'disconnected',
  }));
  readiness.add('replays-reader', () => replaysReader.check());
  readiness.add('alarms-reader', () => alarmsReader.check());
  readiness.add('alarm-actions-reader', () => actionsReader.check());

  return {
    url,
    app,
    monitor,
    async stop() {
      await app.close(); // no new requests; SSE streams end
      await jobs.drain(); // imports in flight finish (or fail) before the producer goes
      await importSink.close(); // the producer is the console's: closed below
      await monitor.stop();
      await alarmsReader.stop();
      await actionsReader.stop();
      await replaysReader.stop();
      await producer.disconnect();
    },
  };
}
