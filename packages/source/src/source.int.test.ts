import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InMessage, type KafkaEnv, ReliableProducer } from '@gridstream/kafka';
import { Readiness } from '@gridstream/runtime';
import { type Sample, SamplesMessageSchema } from '@gridstream/schema';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  testKafka,
  testKafkaEnv,
  testLogger,
  waitFor,
} from '@gridstream/testkit';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource, type Source, SPOOL_TOPIC_HEADER } from './source.js';

/**
 * Through the real Kafka: the exact messages (keys, headers, ids, bodies) on the raw topic and the dead
 * letters on the DLQ, and a spool filled while Kafka was unreachable — with a restart in between — that
 * arrives whole, once, with the ids it was given when it was read.
 */
const kafka = testKafka();
const topics: string[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await removeTestTopics(kafka, topics);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function env(): KafkaEnv {
  const e = testKafkaEnv({ KAFKA_TOPIC_PARTITIONS: 1 });
  topics.push(e.KAFKA_TOPIC_RAW, e.KAFKA_TOPIC_DLQ);
  return e;
}

function open(kafkaEnv: KafkaEnv, dir: string, readiness = new Readiness()): Source {
  return openSource(
    {
      config: {
        ...kafkaEnv,
        SPOOL_DIR: dir,
        SPOOL_MAX_BYTES: 16 * 1024 * 1024,
        SPOOL_FSYNC: 'interval',
        SPOOL_FSYNC_INTERVAL_MS: 1000,
        SPOOL_WHEN_FULL: 'drop-oldest',
      },
      logger: testLogger(),
      metrics: new Registry(),
      readiness,
    },
    { kind: 'serial', service: 'source-test', maxSamplesPerMessage: 2 },
  );
}

const sample = (site: string, i: number): Sample => ({
  site,
  equipment: 'water_meter',
  device: 'm1',
  ts: new Date(Date.UTC(2026, 11, 7, 0, 0, i)).toISOString(),
  fields: { flow: i / 10 },
});
const body = (m: InMessage) => SamplesMessageSchema.parse(JSON.parse(m.value!.toString()));
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-source-int-'));
  dirs.push(dir);
  return dir;
};

describe('a source through Kafka', () => {
  it('produces exactly the samples.v1 messages and dead letters it was given', async () => {
    const kafkaEnv = env();
    await createTestTopics(kafka, [kafkaEnv.KAFKA_TOPIC_RAW], 1);
    const readiness = new Readiness();
    readiness.state = 'running';
    const source = open(kafkaEnv, newDir(), readiness);
    const port = source.endpoint({
      name: 'p1',
      uri: 'serial:///dev/ttyT1',
      site: 'w1',
      inputFormat: 'serial.line',
    });
    const at = new Date('2026-12-07T12:00:00.000Z');
    port.push([sample('w1', 1), sample('w1', 2), sample('w2', 3), sample('w1', 4)], { receivedAt: at });
    port.deadLetter(Buffer.from([0x31, 0xff, 0x0d, 0x0a]), 'unreadable', 'not UTF-8', { receivedAt: at });
    port.push([sample('w2', 5)], { receivedAt: at });
    await waitFor(
      () => source.pending,
      (n) => n === 0,
      { what: 'the spool drained' },
    );
    await waitFor(
      () => readiness.report().checks.producer?.ok,
      (ok) => ok === true,
      { what: 'producer ready' },
    );

    const raw = await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_RAW, 4);
    expect(raw.map((m) => m.key?.toString())).toEqual(['w1', 'w1', 'w2', 'w2']);
    expect(raw.map((m) => body(m).samples.map((s) => s.fields.flow))).toEqual([
      [0.1, 0.2],
      [0.4],
      [0.3],
      [0.5],
    ]);
    const ids = raw.map((m) => m.headers['gs-message-id']);
    const spoolId = ids[0]!.split('-')[0];
    // sequence 4 is the dead letter: one spool, one sequence for both topics
    expect(ids).toEqual([`${spoolId}-1`, `${spoolId}-2`, `${spoolId}-3`, `${spoolId}-5`]);
    for (const m of raw) {
      expect(m.headers['gs-schema']).toBe('samples.v1');
      expect(m.headers['gs-source']).toBe('serial:///dev/ttyT1');
      expect(m.headers['gs-received-at']).toBe('2026-12-07T12:00:00.000Z');
      expect(m.headers[SPOOL_TOPIC_HEADER]).toBeUndefined();
    }

    const dlq = await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_DLQ, 1);
    expect(dlq).toHaveLength(1);
    const letter = dlq[0]!;
    expect(letter.key?.toString()).toBe('w1');
    expect([...letter.value!]).toEqual([0x31, 0xff, 0x0d, 0x0a]);
    expect(letter.headers).toMatchObject({
      'gs-schema': 'serial.line',
      'gs-source': 'serial:///dev/ttyT1',
      'gs-dlq-stage': 'collector',
      'gs-dlq-reason': 'unreadable',
      'gs-dlq-message': 'not UTF-8',
      'gs-message-id': `${spoolId}-4`,
    });
    expect(letter.headers[SPOOL_TOPIC_HEADER]).toBeUndefined();
    await source.close(Date.now() + 5_000);
  });

  it('keeps what it read while Kafka is unreachable, across a restart, and sends it once with its ids', async () => {
    const kafkaEnv = env();
    await createTestTopics(kafka, [kafkaEnv.KAFKA_TOPIC_RAW], 1);
    const dir = newDir();
    // Kafka away: nothing listens where this source looks for it.
    const away = open({ ...kafkaEnv, KAFKA_BROKERS: ['127.0.0.1:1'] }, dir);
    const port = away.endpoint({ name: 'p1', uri: 'serial:///dev/ttyT2' });
    for (let i = 0; i < 7; i++) port.push([sample('w1', i)]);
    port.deadLetter('12,abc', 'wrong_type', 'abc is not a number');
    await away.close(Date.now() + 1_000); // stopped during the outage: everything stays spooled
    expect(away.pending).toBe(8);
    // Nothing reached Kafka meanwhile.
    expect(await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_RAW, 0)).toHaveLength(0);

    const back = open(kafkaEnv, dir);
    back.endpoint({ name: 'p1', uri: 'serial:///dev/ttyT2' }).push([sample('w1', 7)]);
    await waitFor(
      () => back.pending,
      (n) => n === 0,
      { what: 'the spool drained' },
    );
    const raw = await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_RAW, 8);
    expect(raw.map((m) => body(m).samples[0]!.fields.flow)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    const spoolId = raw[0]!.headers['gs-message-id']!.split('-')[0];
    expect(raw.map((m) => m.headers['gs-message-id'])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 9].map((n) => `${spoolId}-${n}`),
    );
    const dlq = await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_DLQ, 1);
    expect(
      dlq.map((m) => [m.value?.toString(), m.headers['gs-dlq-reason'], m.headers['gs-message-id']]),
    ).toEqual([['12,abc', 'wrong_type', `${spoolId}-8`]]);
    await back.close(Date.now() + 5_000);
  });

  it('direct outbox: send resolves once Kafka has the messages, with the ids given, and counts then', async () => {
    const kafkaEnv = env();
    await createTestTopics(kafka, [kafkaEnv.KAFKA_TOPIC_RAW], 1);
    const registry = new Registry();
    const readiness = new Readiness();
    // A producer of the caller's (the console's): the source uses it and leaves it open.
    const producer = new ReliableProducer(kafka, testLogger());
    await producer.connect();
    const source = openSource(
      { config: kafkaEnv, logger: testLogger(), metrics: registry, readiness },
      { kind: 'import', service: 'source-test', outbox: 'direct', producer },
    );
    const files = source.endpoint({ name: 'files', uri: 'file://', readiness: false });
    const lines = [2, 3, 5, 6, 7];
    const sent = await files.send(
      lines.map((_, i) => sample('w1', i)),
      {
        source: 'file://a.csv',
        maxSamplesPerMessage: 2,
        messageId: (first) => `import:abc.def:${lines[first]}`,
      },
    );
    expect(sent).toBe(3);
    expect(source.pending).toBe(0);
    // Acknowledged when send resolved: all three are readable now, in order, with their ids.
    const raw = await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_RAW, 3, 0); // one read, no waiting
    expect(raw.map((m) => m.headers['gs-message-id'])).toEqual([
      'import:abc.def:2',
      'import:abc.def:5',
      'import:abc.def:7',
    ]);
    expect(raw.map((m) => body(m).samples.length)).toEqual([2, 2, 1]);
    expect(raw.every((m) => m.headers['gs-source'] === 'file://a.csv')).toBe(true);
    const metric = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.source === 'import')?.value;
    expect(await metric('gridstream_source_samples_total')).toBe(5);
    expect(await metric('gridstream_source_messages_total')).toBe(3);
    expect(readiness.report().checks.producer).toBeUndefined();
    await source.close(Date.now() + 1_000);
    // Not closed by the source: still sends.
    await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [{ key: 'w1', value: 'after' }]);
    expect(await readTopic(kafka, kafkaEnv.KAFKA_TOPIC_RAW, 4, 5_000)).toHaveLength(4);
    await producer.disconnect();
    await expect(files.send([sample('w1', 9)])).rejects.toThrow(/closed/);
  });
});
