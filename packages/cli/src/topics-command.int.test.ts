import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  removeTestTopics,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { createTopics, showLag } from './topics-command.js';

/**
 * `gridstream topics lag` against the real Kafka: a topic of two partitions with 5 and 3 messages, a group
 * that committed offset 2 on partition 0 and never committed on partition 1.
 */

const kafka = testKafka();
const topic = uniqueName('test.lag');
const group = uniqueName('test-lag-group');
const BIN = join(import.meta.dirname, '..', 'bin', 'gridstream.js');

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 2);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      ...[0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `p0-${i}` })),
      ...[0, 1, 2].map((i) => ({ partition: 1, value: `p1-${i}` })),
    ],
  });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
  } finally {
    await admin.disconnect();
  }
}, 120_000);

afterAll(async () => {
  await removeTestTopics(kafka, [topic]);
});

describe('gridstream topics lag (Kafka)', () => {
  it('prints committed offset, high watermark and lag per partition, and the total', async () => {
    const text = await showLag({ KAFKA_BROKERS: TEST_BROKERS.join(',') }, testLogger(), group, [topic]);
    expect(text.split('\n')).toEqual([
      'topic\tpartition\tcommitted\thigh\tlag',
      `${topic}\t0\t2\t5\t3`,
      // Never committed: the lag counts from the earliest offset.
      `${topic}\t1\t-1\t3\t3`,
      'total lag: 6',
    ]);
  });

  it('--json through the built command: one JSON document on stdout and nothing else', async () => {
    // The bin runs dist/ (`make test` and `npx tsc -b` build it), as `npx gridstream` does.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'topics', 'lag', group, topic, '--json'],
      { env: { ...process.env, KAFKA_BROKERS: TEST_BROKERS.join(',') }, timeout: 60_000 },
    );
    expect(stdout.split('\n')).toHaveLength(2); // one document, one line
    expect(JSON.parse(stdout)).toEqual({
      group,
      partitions: [
        { group, topic, partition: 0, committed: '2', end: '5', lag: 3 },
        { group, topic, partition: 1, committed: null, end: '3', lag: 3 },
      ],
      total: 6,
    });
  }, 90_000);
});

describe('gridstream topics create', () => {
  it('creates every topic of the pipeline — alarm actions kept for ever, forecasts — and leaves existing ones alone', async () => {
    const t = {
      KAFKA_TOPIC_RAW: uniqueName('tc.raw'),
      KAFKA_TOPIC_PARSED: uniqueName('tc.parsed'),
      KAFKA_TOPIC_DLQ: uniqueName('tc.dlq'),
      KAFKA_TOPIC_ALARMS: uniqueName('tc.alarms'),
      KAFKA_TOPIC_ALARM_ACTIONS: uniqueName('tc.actions'),
      KAFKA_TOPIC_FORECASTS: uniqueName('tc.forecasts'),
    };
    const env = { KAFKA_BROKERS: TEST_BROKERS.join(','), KAFKA_TOPIC_PARTITIONS: '2', ...t };
    try {
      const first = await createTopics(env, testLogger());
      expect(first.split('\n')).toEqual(
        Object.values(t).map((name) => `${name}: created (2 partitions, replication 1)`),
      );
      expect((await createTopics(env, testLogger())).split('\n')).toEqual(
        Object.values(t).map((name) => `${name}: exists, left as it is`),
      );
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            { type: 2, name: t.KAFKA_TOPIC_ALARM_ACTIONS, configNames: ['cleanup.policy', 'retention.ms'] },
            { type: 2, name: t.KAFKA_TOPIC_ALARMS, configNames: ['cleanup.policy'] },
          ],
        });
        const config = (name: string) =>
          Object.fromEntries(
            resources
              .find((r) => r.resourceName === name)!
              .configEntries.map((e) => [e.configName, e.configValue]),
          );
        expect(config(t.KAFKA_TOPIC_ALARM_ACTIONS)).toEqual({
          'cleanup.policy': 'delete',
          'retention.ms': '-1',
        });
        expect(config(t.KAFKA_TOPIC_ALARMS)).toEqual({ 'cleanup.policy': 'compact' });
      } finally {
        await admin.disconnect();
      }
    } finally {
      await removeTestTopics(kafka, Object.values(t));
    }
  });
});
