import {
  createKafka,
  deleteTopics,
  ensureTopics,
  type InMessage,
  type Kafka,
  type KafkaEnv,
  type OutMessage,
  readTopicToEnd,
} from '@gridstream/kafka';
import { createLogger, type Logger } from '@gridstream/runtime';
import { decodeParsedMessage, type ParsedRecord } from '@gridstream/schema';
import { uniqueName } from './names.js';

/** Where the tests' servers are: the local stack (`make infra-test`) unless the environment says otherwise. */
export const TEST_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const TEST_INFLUX_URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';
export const TEST_AMQP_URL = process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672';

export function testLogger(): Logger {
  return createLogger({ service: 'test', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' });
}

/** Kafka settings with topics of the test's own (unique names). */
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

export function testKafka(logger = testLogger(), brokers = TEST_BROKERS): Kafka {
  return createKafka(testKafkaEnv({ KAFKA_BROKERS: brokers }), logger);
}

export async function createTestTopics(
  kafka: Kafka,
  topics: string[],
  partitions = 3,
  replicationFactor = 1,
  config?: Record<string, string>,
): Promise<void> {
  await ensureTopics(
    kafka,
    topics.map((topic) => ({ topic, partitions, replicationFactor, ...(config ? { config } : {}) })),
  );
}

export async function removeTestTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await deleteTopics(kafka, topics).catch(() => undefined);
}

/**
 * Every committed message of a topic, up to its end now — what a read_committed consumer (every reader
 * of ours) sees: an aborted transaction's records are not there. Exact: a duplicate would be there too.
 */
export function readCommitted(kafka: Kafka, topic: string, timeoutMs = 120_000): Promise<InMessage[]> {
  return readTopicToEnd(kafka, topic, timeoutMs);
}

/**
 * Reads a topic from the beginning until it holds at least `expected` committed messages (or the time is
 * up), then once more a moment later, so that more than expected — duplicates — would be seen too.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<InMessage[]> {
  const deadline = Date.now() + timeoutMs;
  let messages = await readCommitted(kafka, topic);
  while (messages.length < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    messages = await readCommitted(kafka, topic);
  }
  await new Promise((r) => setTimeout(r, expected === 0 ? 3_000 : 500));
  return readCommitted(kafka, topic);
}

/** The records that parsed-topic messages carry (either format, docs/messages.md), in topic order. */
export function parsedRecordsOf(messages: InMessage[]): ParsedRecord[] {
  return messages.flatMap((m) => decodeParsedMessage(m.value));
}

/**
 * Like readTopic, for the parsed topic: reads until its messages carry at least `expected` records, then
 * once more a moment later (so that duplicates would be seen), and returns the records.
 */
export async function readParsedRecords(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<ParsedRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let records = parsedRecordsOf(await readCommitted(kafka, topic));
  while (records.length < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    records = parsedRecordsOf(await readCommitted(kafka, topic));
  }
  await new Promise((r) => setTimeout(r, expected === 0 ? 3_000 : 500));
  return parsedRecordsOf(await readCommitted(kafka, topic));
}

/**
 * A parsed-topic message of format v2 written out by hand from docs/messages.md (not with the parser's
 * encoder, so that tests of its readers check the documented wire format): the records of one raw message,
 * site and day, keyed by site; site, schema and lineage said once.
 */
export function parsedV2Message(records: ParsedRecord[], lineage: ParsedRecord['lineage']): OutMessage {
  const first = records[0]!;
  if (!records.every((r) => r.site === first.site && r.schema === first.schema))
    throw new Error('the records of one v2 message share their site and schema');
  return {
    key: first.site,
    value: JSON.stringify({
      v: 2,
      site: first.site,
      schema: first.schema,
      lineage,
      records: records.map(({ v: _v, site: _site, schema: _schema, lineage: _lineage, ...entry }) => entry),
    }),
    headers: { 'gs-schema': first.schema },
  };
}

/** A record as a reader of a v2 message sees it: with the message's lineage. */
export const asReadIn = (r: ParsedRecord, lineage: ParsedRecord['lineage']): ParsedRecord => ({
  ...r,
  lineage,
});
