import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTopic, removeTestTopics, TEST_BROKERS, testKafka, uniqueName } from '../../../test/helpers.js';
import { runImportCommand } from './import-command.js';

const FIXTURES = resolve(import.meta.dirname, '../../../sample/import');
const kafka = testKafka();
const topic = uniqueName('cli-import.raw');

afterAll(async () => {
  await removeTestTopics(kafka, [topic]);
});

function capture() {
  let text = '';
  return {
    write: (s: string) => {
      text += s;
      return true;
    },
    get text() {
      return text;
    },
  };
}

describe('gridstream import (Kafka from the environment)', () => {
  it('creates the raw topic if needed and publishes every row, one sample each', async () => {
    const out = capture();
    const code = await runImportCommand(
      [
        join(FIXTURES, 'mixed-devices.csv'),
        '--time-column',
        'RECORD_TIME',
        '--values',
        'DRIVE_SPEED|RPM',
        '--device-column',
        'PHONE_NUM',
        '--site',
        'cli-site',
        '--measurement',
        'vehicle',
        '--samples-per-message',
        '10',
      ],
      out,
      {
        err: capture(),
        env: { KAFKA_BROKERS: TEST_BROKERS.join(','), KAFKA_TOPIC_RAW: topic, KAFKA_TOPIC_PARTITIONS: '2' },
      },
    );
    expect(out.text).toContain(`30 sent to ${topic}`);
    expect(code).toBe(0);
    const messages = await readTopic(kafka, topic, 3);
    expect(messages).toHaveLength(3);
    const samples = messages.flatMap((m) => JSON.parse(m.value!.toString()).samples);
    expect(samples).toHaveLength(30);
    expect(new Set(samples.map((s: { device: string }) => s.device)).size).toBe(3);
    expect(
      messages.every(
        (m) => m.key?.toString() === 'cli-site' && m.headers['gs-source'] === 'file://mixed-devices.csv',
      ),
    ).toBe(true);
  });
});
