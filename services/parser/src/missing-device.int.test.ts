import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import { type AlarmEvent, AlarmEventSchema, RAW_HEADER } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  startInProcess,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { parserConfigSchema } from './config.js';
import { startParser } from './parser-service.js';

// Real Kafka: an expected device reports, goes silent past its limit (device_missing raised once, however
// many checks run meanwhile), then reports again (cleared once).

const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const ALARMS = uniqueName('test.alarms');
const producer = new ReliableProducer(kafka, logger);
const dir = mkdtempSync(join(tmpdir(), 'missing-int-'));
const CONFIG = join(dir, 'quality.yaml');
writeFileSync(
  CONFIG,
  'expectedDevices:\n  - { site: quiet, equipment: pcs, device: pcs1, silentAfterSeconds: 2, level: warning }\n',
);
const TOPICS = [kafkaEnv.KAFKA_TOPIC_RAW, kafkaEnv.KAFKA_TOPIC_PARSED, kafkaEnv.KAFKA_TOPIC_DLQ, ALARMS];

function reading(): OutMessage {
  const sample = {
    site: 'quiet',
    equipment: 'pcs',
    device: 'pcs1',
    ts: new Date().toISOString(),
    fields: { p: 1 },
  };
  return {
    key: 'quiet',
    value: JSON.stringify({ v: 1, samples: [sample] }),
    headers: { [RAW_HEADER.schema]: 'samples.v1', [RAW_HEADER.receivedAt]: new Date().toISOString() },
  };
}

async function alarmEvents(expected: number): Promise<AlarmEvent[]> {
  return (await readTopic(kafka, ALARMS, expected, 3_000)).map((m) =>
    AlarmEventSchema.parse(JSON.parse(m.value!.toString('utf8'))),
  );
}

beforeAll(async () => {
  await createTestTopics(kafka, TOPICS, 3);
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer.disconnect();
  await removeTestTopics(kafka, TOPICS);
});

describe('missing devices through the parser', () => {
  it('raises device_missing once while the device is silent and clears it once when it is back', async () => {
    const parser = await startInProcess('parser', parserConfigSchema, startParser, {
      KAFKA_BROKERS: kafkaEnv.KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_RAW: kafkaEnv.KAFKA_TOPIC_RAW,
      KAFKA_TOPIC_PARSED: kafkaEnv.KAFKA_TOPIC_PARSED,
      KAFKA_TOPIC_DLQ: kafkaEnv.KAFKA_TOPIC_DLQ,
      KAFKA_TOPIC_ALARMS: ALARMS,
      PARSER_GROUP_ID: uniqueName('test-parser-missing'),
      QUALITY_CONFIG: CONFIG,
      QUALITY_MISSING_CHECK_MS: '200',
    });
    try {
      await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [reading()]);
      const raised = await waitFor(
        () => alarmEvents(1),
        (list) => list.length >= 1,
        { what: 'device_missing raised', timeoutMs: 60_000 },
      );
      expect(raised.map((e) => `${e.rule} ${e.state} ${e.level}`)).toEqual(['device_missing raised warning']);
      // Many more checks run while it stays silent: still one event.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await alarmEvents(2)).toHaveLength(1);
      await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [reading()]);
      const all = await waitFor(
        () => alarmEvents(2),
        (list) => list.length >= 2,
        { what: 'device_missing cleared', timeoutMs: 30_000 },
      );
      expect(all.map((e) => `${e.rule} ${e.state} ${e.level}`)).toEqual([
        'device_missing raised warning',
        'device_missing cleared warning',
      ]);
      expect(all[1]!.id).toBe(all[0]!.id);
      expect(all[0]!).toMatchObject({
        site: 'quiet',
        equipment: 'pcs',
        device: 'pcs1',
        value: null,
        threshold: 2,
      });
    } finally {
      await parser.stop();
    }
  }, 120_000);
});
