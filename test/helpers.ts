import { randomBytes } from 'node:crypto';
import { createKafka, deleteTopics, ensureTopics, type Kafka, type KafkaEnv } from '@gridstream/kafka';
import { createLogger, type Logger } from '@gridstream/runtime';

/**
 * Shared by integration tests: every test gets its own topics/queues/databases (unique names) and
 * removes them afterwards, so tests never see each other's data and can run in any order.
 */
export const TEST_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const TEST_INFLUX_URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';
export const TEST_AMQP_URL = process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672';

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testLogger(): Logger {
  return createLogger({ service: 'test', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' });
}

export function testKafkaEnv(overrides: Partial<KafkaEnv> = {}): KafkaEnv {
  return {
    KAFKA_BROKERS: TEST_BROKERS,
    KAFKA_CLIENT_ID: 'gridstream-test',
    KAFKA_SSL: false,
    KAFKA_TOPIC_RAW: uniqueName('test.raw'),
    KAFKA_TOPIC_PARSED: uniqueName('test.parsed'),
    KAFKA_TOPIC_DLQ: uniqueName('test.dlq'),
    KAFKA_TOPIC_PARTITIONS: 3,
    KAFKA_REPLICATION_FACTOR: 1,
    KAFKA_CREATE_TOPICS: true,
    ...overrides,
  };
}

export function testKafka(logger = testLogger()): Kafka {
  return createKafka(testKafkaEnv(), logger);
}

export async function createTestTopics(kafka: Kafka, topics: string[], partitions = 3): Promise<void> {
  await ensureTopics(
    kafka,
    topics.map((topic) => ({ topic, partitions, replicationFactor: 1 })),
  );
}

export async function removeTestTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await deleteTopics(kafka, topics).catch(() => undefined);
}

/** Polls until `probe` returns a value that `done` accepts, or fails with the last value seen. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  { timeoutMs = 60_000, intervalMs = 250, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}

/** Reads every message of a topic from the beginning (a throwaway consumer group), up to `expected`. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<import('@gridstream/kafka').InMessage[]> {
  const { toInMessage } = await import('@gridstream/kafka');
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader') });
  const out: import('@gridstream/kafka').InMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  if (expected === 0) resolveDone();
  await consumer.run({
    eachMessage: async ({ topic: t, partition, message }) => {
      out.push(toInMessage(t, partition, message));
      if (out.length >= expected) resolveDone();
    },
  });
  const timer = new Promise<void>((r) => setTimeout(r, timeoutMs));
  await Promise.race([done, timer]);
  // Linger briefly so that more-than-expected (duplicates) would be seen too.
  await new Promise((r) => setTimeout(r, expected === 0 ? 3_000 : 500));
  await consumer.disconnect();
  return out;
}

/** Runs a service's start function in this process, as `runService` would, minus signals and exit. */
export async function startInProcess<C>(
  name: string,
  schema: import('zod').ZodType<C>,
  start: (
    ctx: import('@gridstream/runtime').ServiceContext<C>,
  ) => Promise<import('@gridstream/runtime').RunningService>,
  env: Record<string, string>,
): Promise<{
  stop: () => Promise<void>;
  readiness: import('@gridstream/runtime').Readiness;
  metrics: import('prom-client').Registry;
}> {
  const { loadConfig } = await import('@gridstream/config');
  const { Readiness, createMetricsRegistry } = await import('@gridstream/runtime');
  const config = loadConfig(schema, { HEALTH_PORT: '0', ...env });
  const readiness = new Readiness();
  const metrics = createMetricsRegistry(name);
  const running = await start({ config, logger: testLogger().child({ service: name }), metrics, readiness });
  readiness.state = 'running';
  return {
    readiness,
    metrics,
    stop: async () => {
      readiness.state = 'stopping';
      await running.stop();
    },
  };
}
