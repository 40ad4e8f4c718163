import { join, resolve } from 'node:path';
import { ReliableProducer } from '@gridstream/kafka';
import type { Sample } from '@gridstream/schema';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  testKafka,
  testKafkaEnv,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { importFiles } from './import-files.js';
import { openKafkaImportSink } from './kafka-import-sink.js';
import type { ImportOptionsInput } from './options.js';
import { type ImportSendOptions, type ImportSink, importMessages } from './sink.js';

/**
 * The importer against a real Kafka topic, through the source seam's direct outbox: exactly the messages
 * its envelope builds arrive, byte for byte, keyed by site, with the raw headers and the importer's ids;
 * gridstream_source_* count them (source="import") once Kafka acknowledged them.
 */
const FIXTURES = resolve(import.meta.dirname, '../../../sample/import');
const kafka = testKafka();
const topic = uniqueName('import.raw');

const options: ImportOptionsInput = {
  files: [join(FIXTURES, 'mixed-devices.csv'), join(FIXTURES, 'vehicle-two-sheets.xlsx')],
  timeColumn: 'RECORD_TIME',
  valueColumns: 'DRIVE_SPEED|RPM',
  deviceColumn: 'PHONE_NUM',
  site: 'depot-int',
  equipment: 'vehicle',
  timeZone: 'Asia/Seoul',
  samplesPerMessage: 7,
};

/** What the Kafka sink would send, kept. */
class Recorder implements ImportSink {
  readonly messages: ReturnType<typeof importMessages> = [];
  async send(samples: readonly Sample[], sendOptions: ImportSendOptions): Promise<number> {
    const messages = importMessages(samples, sendOptions);
    this.messages.push(...messages);
    return messages.length;
  }
}

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 3);
});

afterAll(async () => {
  await removeTestTopics(kafka, [topic]);
});

describe('importFiles → openKafkaImportSink → telemetry.raw', () => {
  it('publishes exactly the messages built from the files, keyed by site, in file order', async () => {
    const expected = new Recorder();
    await importFiles(options, expected);
    const registry = new Registry();
    const sink = await openKafkaImportSink({
      config: testKafkaEnv({ KAFKA_TOPIC_RAW: topic }),
      logger: testLogger(),
      metrics: registry,
    });
    let summary: Awaited<ReturnType<typeof importFiles>>;
    try {
      summary = await importFiles(options, sink);
    } finally {
      await sink.close();
    }
    expect(summary.rowsSent).toBe(40); // 30 CSV rows + 2 sheets × 5
    expect(summary.rowsRejected).toBe(0);
    expect(summary.messagesSent).toBe(expected.messages.length);
    expect(summary.messagesSent).toBe(5 + 2); // 30 rows in 7s, each sheet's 5 in one

    // Acknowledged when importFiles returned: everything is there at the first read.
    const received = await readTopic(kafka, topic, expected.messages.length, 0);
    expect(received).toHaveLength(expected.messages.length);
    // One key (the site) → one partition → the order the importer sent them in.
    expect(new Set(received.map((m) => m.partition)).size).toBe(1);
    received.forEach((m, i) => {
      const want = expected.messages[i]!;
      expect(m.key?.toString()).toBe('depot-int');
      expect(m.headers['gs-schema']).toBe('samples.v1');
      expect(m.headers['gs-source']).toBe(want.headers?.['gs-source']);
      expect(m.headers['gs-message-id']).toBe(want.headers?.['gs-message-id']);
      expect(m.value!.toString('utf8')).toBe(want.value);
    });
    expect(
      received.map((m) => m.headers['gs-message-id']?.replace(/^import:[0-9a-f]+\.[0-9a-f]+/, '')),
    ).toEqual([':2', ':9', ':16', ':23', ':30', '#Morning:2', '#Afternoon:2']);
    const samples = received.flatMap((m) => JSON.parse(m.value!.toString('utf8')).samples);
    expect(samples).toHaveLength(40);
    // Row 0 of mixed-devices.csv: 2019-12-01 10:20:01.000 in Seoul, device …0010.
    expect(samples[0]).toEqual({
      site: 'depot-int',
      equipment: 'vehicle',
      device: '01000000010',
      ts: '2019-12-01T01:20:01.000Z',
      fields: { DRIVE_SPEED: 0, RPM: 700 },
    });
    expect(samples.slice(0, 30).map((s: { device: string }) => s.device)).toEqual(
      Array.from({ length: 30 }, (_, i) => `0100000${String(10 + (i % 3)).padStart(4, '0')}`),
    );

    const metric = async (name: string) =>
      (await registry.getSingleMetric(name)?.get())?.values.find(
        (v) => v.labels.source === 'import' && v.labels.endpoint === 'files',
      )?.value;
    expect(await metric('gridstream_source_samples_total')).toBe(40);
    expect(await metric('gridstream_source_messages_total')).toBe(7);
    expect(await metric('gridstream_source_connected')).toBe(1);
  });

  it('uses a producer it is given and leaves it open', async () => {
    const producer = new ReliableProducer(kafka, testLogger());
    await producer.connect();
    const sink = await openKafkaImportSink({
      config: testKafkaEnv({ KAFKA_TOPIC_RAW: topic }),
      logger: testLogger(),
      kafka,
      producer,
    });
    const before = (await readTopic(kafka, topic, 0, 0)).length;
    const summary = await importFiles(
      { ...options, files: [join(FIXTURES, 'vehicle-telematics.csv')] },
      sink,
    );
    await sink.close();
    expect(summary.rowsSent).toBe(20);
    await producer.send(topic, [{ key: 'depot-int', value: 'still open' }]);
    await producer.disconnect();
    expect(await readTopic(kafka, topic, before + summary.messagesSent + 1, 10_000)).toHaveLength(
      before + summary.messagesSent + 1,
    );
  });
});
