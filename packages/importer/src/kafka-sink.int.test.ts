import { join, resolve } from 'node:path';
import { ReliableProducer } from '@gridstream/kafka';
import { SamplesMessageSchema } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  testKafka,
  testLogger,
  uniqueName,
} from '../../../test/helpers.js';
import { importFiles } from './import-files.js';
import type { ImportOptionsInput } from './options.js';
import { type ImportMessage, type ImportSink, KafkaImportSink } from './sink.js';

/**
 * The importer against a real Kafka topic: exactly the samples it built arrive, keyed by site, with the
 * raw headers; a second run of the same files produces the same message ids.
 */
const FIXTURES = resolve(import.meta.dirname, '../../../sample/import');
const kafka = testKafka();
const topic = uniqueName('import.raw');
const producer = new ReliableProducer(kafka, testLogger());

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

class Recorder implements ImportSink {
  readonly messages: ImportMessage[] = [];
  async publish(messages: ImportMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
}

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 3);
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await removeTestTopics(kafka, [topic]);
});

describe('importFiles → KafkaImportSink → telemetry.raw', () => {
  it('publishes exactly the samples built from the files, keyed by site, in file order', async () => {
    const expected = new Recorder();
    await importFiles(options, expected);
    const summary = await importFiles(options, new KafkaImportSink(producer, topic));
    expect(summary.rowsSent).toBe(40); // 30 CSV rows + 2 sheets × 5
    expect(summary.rowsRejected).toBe(0);
    expect(summary.messagesSent).toBe(expected.messages.length);

    const received = await readTopic(kafka, topic, expected.messages.length);
    expect(received).toHaveLength(expected.messages.length);
    // One key (the site) → one partition → the order the importer sent them in.
    expect(new Set(received.map((m) => m.partition)).size).toBe(1);
    received.forEach((m, i) => {
      const want = expected.messages[i]!;
      expect(m.key?.toString()).toBe('depot-int');
      expect(m.headers['gs-schema']).toBe('samples.v1');
      expect(m.headers['gs-source']).toBe(want.headers['gs-source']);
      expect(m.headers['gs-message-id']).toBe(want.headers['gs-message-id']);
      const value = SamplesMessageSchema.parse(JSON.parse(m.value!.toString('utf8')));
      expect(value).toEqual(want.value);
    });
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
  });
});
