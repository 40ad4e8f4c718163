import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InMessage, KafkaEnv } from '@gridstream/kafka';
import { parseRaw } from '@gridstream/parsing';
import { type Sample, SamplesMessageSchema } from '@gridstream/schema';
import {
  createTestTopics,
  readCommitted,
  readTopic,
  removeTestTopics,
  ServiceProcess,
  sleep,
  startInProcess,
  testKafka,
  testKafkaEnv,
  waitFor,
} from '@gridstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MeterPeer, PtyPair } from '../test/serial-peers.js';
import { checksumOf } from './checksum.js';
import { serialCollectorConfigSchema } from './config.js';
import { startSerialCollector } from './serial-collector-service.js';

/**
 * The serial collector against a Python meter (pyserial) on the far end of a socat pty pair, through the
 * real Kafka: every line format with its good and bad lines counted and dead-lettered exactly, the port
 * vanishing and coming back, and a kill -9 that loses nothing the collector had read.
 */
const kafka = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'gs-serial-'));
const topics: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await removeTestTopics(kafka, topics);
  rmSync(dir, { recursive: true, force: true });
});

function kafkaEnv(): KafkaEnv {
  const env = testKafkaEnv({ KAFKA_TOPIC_PARTITIONS: 1 });
  topics.push(env.KAFKA_TOPIC_RAW, env.KAFKA_TOPIC_DLQ);
  return env;
}

function envStrings(env: KafkaEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(',') : String(value);
  return out;
}

function writeConfig(name: string, config: object): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

interface ReadSample extends Sample {
  source: string;
  id: string;
}

/** The raw topic's samples, read until there are `expected` (then once more: more would show too). */
async function readSamples(topic: string, expected: number): Promise<ReadSample[]> {
  const decode = (messages: InMessage[]) =>
    messages.flatMap((m) => {
      expect(m.headers['gs-schema']).toBe('samples.v1');
      return SamplesMessageSchema.parse(JSON.parse(m.value!.toString())).samples.map((s) => ({
        ...s,
        source: m.headers['gs-source']!,
        id: m.headers['gs-message-id']!,
      }));
    });
  const read = await waitFor(
    async () => decode(await readCommitted(kafka, topic)),
    (samples) => samples.length >= expected,
    { timeoutMs: 60_000, what: `${expected} samples on ${topic}` },
  );
  await sleep(1_000);
  const again = decode(await readCommitted(kafka, topic));
  expect(again.length).toBe(read.length);
  return again;
}

const letters = (messages: InMessage[]) =>
  messages.map((m) => {
    expect(m.headers['gs-dlq-stage']).toBe('collector');
    expect(m.headers['gs-schema']).toBe('serial.line');
    if (m.headers['gs-dlq-reason'] === 'oversized')
      expect(m.headers['gs-dlq-message']).toMatch(/^a line of 100 bytes, longer than maxLineBytes \(64\)/);
    return {
      source: m.headers['gs-source'],
      reason: m.headers['gs-dlq-reason'],
      bytes: m.value!.toString('latin1'),
    };
  });

const nmea = (body: string) => `$${body}${checksumOf(body, 'nmea')}\r\n`;
const sum8 = (body: string) => `${body}${checksumOf(body, 'sum8')}\n`;

describe('serial collector ↔ a pyserial meter on a pty pair', () => {
  it('reads delimited, regex and key=value lines exactly; every bad line is counted and dead-lettered with its bytes', async () => {
    const env = kafkaEnv();
    await createTestTopics(kafka, [env.KAFKA_TOPIC_RAW], 1);
    const csv = await PtyPair.start(dir, 'csv');
    const rx = await PtyPair.start(dir, 'rx');
    const kv = await PtyPair.start(dir, 'kv');
    stops.push(csv.stop.bind(csv), rx.stop.bind(rx), kv.stop.bind(kv));
    const config = writeConfig('formats', {
      site: 'water-1',
      timeZone: 'Asia/Seoul',
      ports: [
        {
          name: 'csv',
          path: csv.a,
          equipment: 'water_meter',
          deviceFrom: 'meter',
          checksum: 'nmea',
          format: { type: 'delimited', columns: ['time', 'meter', 'pressure', 'flow', '-'] },
          fields: { pressure: { scale: 0.01 }, flow: { optional: true } },
          time: { from: 'time' },
          ignore: ['^time,'],
        },
        {
          name: 'rx',
          path: rx.a,
          site: 'water-2',
          equipment: 'pressure_sensor',
          device: 'PT-7',
          format: { type: 'regex', pattern: '^P=(?<p>-?[0-9.]+) kPa T=(?<t>-?[0-9.]+) C$' },
          fields: { pressure_kpa: { from: 'p' }, temperature: { from: 't' } },
        },
        {
          name: 'kv',
          path: kv.a,
          equipment: 'flow_meter',
          deviceFrom: 'id',
          checksum: 'sum8',
          maxLineBytes: 64,
          format: { type: 'keyvalue' },
          fields: { flow: { from: 'f', scale: 0.001 }, total: { from: 'tot' } },
          time: { from: 'ts', format: 'epoch_s' },
        },
      ],
    });
    const collector = await startInProcess(
      'serial-collector',
      serialCollectorConfigSchema,
      startSerialCollector,
      {
        ...envStrings(env),
        SERIAL_CONFIG: config,
      },
    );
    stops.push(collector.stop);
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      const m = collector.metrics.getSingleMetric(name);
      if (!m) return 0;
      return (await m.get()).values
        .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
        .reduce((n, v) => n + v.value, 0);
    };
    await waitFor(
      () => collector.readiness.report().checks,
      (c) => ['serial:csv', 'serial:rx', 'serial:kv'].every((n) => c[n]?.ok === true),
      { what: 'the three ports open' },
    );

    const peer = MeterPeer.start();
    stops.push(() => peer.stop());
    await peer.open('csv', csv.b);
    await peer.open('rx', rx.b);
    await peer.open('kv', kv.b);
    const before = Date.now();

    const badChecksum = `$2026-12-07 09:00:06,JM1,422,1,OK*00\r\n`;
    await peer.write('csv', 'time,meter,pressure,flow,status\r\n'); // ignored: the header printed at power-up
    await peer.write('csv', nmea('2026-12-07 09:00:00,JM1,418,12.5,OK'));
    const split = nmea('2026-12-07 09:00:01,JM1,419,,OK'); // one line in two writes
    await peer.write('csv', split.slice(0, 15));
    await sleep(200);
    await peer.write('csv', split.slice(15));
    await peer.write('csv', badChecksum);
    await peer.write('csv', nmea('2026-12-07 09:00:02,JM1,420'));
    await peer.write('csv', nmea('2026-12-07 09:00:03,JM1,4x0,1,OK'));
    await peer.write('csv', nmea('2026-13-07 09:00:04,JM1,421,1,OK'));
    await peer.writeBytes('csv', Buffer.from([0xff, 0xfe, 0x41, 0x0d, 0x0a]));
    await peer.write('csv', '\r\n'); // empty: skipped
    await peer.write('csv', nmea('2026-12-07 09:00:05,JM2,400,0.5,OK'));

    await peer.write('rx', 'P=101.3 kPa T=21.5 C\n');
    await peer.write('rx', 'P=abc kPa T=1 C\n');
    await peer.write('rx', 'P=99.0 kPa T=-3.25 C\r\n');

    const oversized = 'x'.repeat(100);
    await peer.write('kv', sum8('id=F1 f=12345 tot=998877 ts=1765098000'));
    await peer.write('kv', sum8('id=F1 f=1 tot=2 ts=1765098001 junk'));
    await peer.write('kv', 'id=F2 f=500 tot=3 ts=1765098002*00\n');
    await peer.write('kv', `${oversized}\n`);
    // The same length arriving in two reads, the first already past maxLineBytes: still one letter.
    await peer.write('kv', 'y'.repeat(80));
    await sleep(300);
    await peer.write('kv', `${'y'.repeat(20)}\n`);
    await peer.write('kv', sum8('id=F2 f=7 tot=4 ts=1765098003'));

    const samples = await readSamples(env.KAFKA_TOPIC_RAW, 7);
    const after = Date.now();
    const of = (source: string) =>
      samples.filter((s) => s.source === source).map(({ source: _s, id: _id, ...sample }) => sample);
    expect(of(`serial://${csv.a}`)).toEqual([
      {
        site: 'water-1',
        equipment: 'water_meter',
        device: 'JM1',
        ts: '2026-12-07T00:00:00.000Z',
        fields: { pressure: 418 * 0.01, flow: 12.5 },
      },
      {
        site: 'water-1',
        equipment: 'water_meter',
        device: 'JM1',
        ts: '2026-12-07T00:00:01.000Z',
        fields: { pressure: 419 * 0.01 },
      },
      {
        site: 'water-1',
        equipment: 'water_meter',
        device: 'JM2',
        ts: '2026-12-07T00:00:05.000Z',
        fields: { pressure: 400 * 0.01, flow: 0.5 },
      },
    ]);
    const rxSamples = of(`serial://${rx.a}`);
    expect(rxSamples.map(({ ts: _ts, ...s }) => s)).toEqual([
      {
        site: 'water-2',
        equipment: 'pressure_sensor',
        device: 'PT-7',
        fields: { pressure_kpa: 101.3, temperature: 21.5 },
      },
      {
        site: 'water-2',
        equipment: 'pressure_sensor',
        device: 'PT-7',
        fields: { pressure_kpa: 99, temperature: -3.25 },
      },
    ]);
    for (const s of rxSamples) {
      // No time in the line: the time it was received.
      expect(Date.parse(s.ts)).toBeGreaterThanOrEqual(before - 5);
      expect(Date.parse(s.ts)).toBeLessThanOrEqual(after);
    }
    expect(of(`serial://${kv.a}`)).toEqual([
      {
        site: 'water-1',
        equipment: 'flow_meter',
        device: 'F1',
        ts: '2025-12-07T09:00:00.000Z',
        fields: { flow: 12345 * 0.001, total: 998877 },
      },
      {
        site: 'water-1',
        equipment: 'flow_meter',
        device: 'F2',
        ts: '2025-12-07T09:00:03.000Z',
        fields: { flow: 7 * 0.001, total: 4 },
      },
    ]);
    expect(new Set(samples.map((s) => s.id)).size).toBe(new Set(samples.map((s) => s.id)).size);

    // What the parser makes of them: every sample a record, nothing rejected.
    const parsed = (await readCommitted(kafka, env.KAFKA_TOPIC_RAW)).map((m) =>
      parseRaw(m, { maxBytes: 1024 * 1024, zoneForSite: () => 'UTC' }),
    );
    expect(parsed.flatMap((p) => p.problems)).toEqual([]);
    expect(parsed.flatMap((p) => p.records.map((r) => [r.device, r.ts, r.fields]))).toEqual(
      samples.map((s) => [s.device, s.ts, s.fields]),
    );

    const dlq = letters(await readTopic(kafka, env.KAFKA_TOPIC_DLQ, 10));
    const byPort = (path: string) =>
      dlq.filter((l) => l.source === `serial://${path}`).map(({ source: _s, ...l }) => l);
    expect(byPort(csv.a)).toEqual([
      { reason: 'bad_checksum', bytes: badChecksum.slice(0, -1) },
      { reason: 'unreadable', bytes: nmea('2026-12-07 09:00:02,JM1,420').slice(0, -1) },
      { reason: 'wrong_type', bytes: nmea('2026-12-07 09:00:03,JM1,4x0,1,OK').slice(0, -1) },
      { reason: 'bad_timestamp', bytes: nmea('2026-13-07 09:00:04,JM1,421,1,OK').slice(0, -1) },
      { reason: 'unreadable', bytes: '\xff\xfeA\r' },
    ]);
    expect(byPort(rx.a)).toEqual([{ reason: 'unreadable', bytes: 'P=abc kPa T=1 C' }]);
    expect(byPort(kv.a)).toEqual([
      { reason: 'unreadable', bytes: sum8('id=F1 f=1 tot=2 ts=1765098001 junk').slice(0, -1) },
      { reason: 'bad_checksum', bytes: 'id=F2 f=500 tot=3 ts=1765098002*00' },
      { reason: 'oversized', bytes: oversized.slice(0, 64) },
      { reason: 'oversized', bytes: 'y'.repeat(64) },
    ]);
    expect(dlq).toHaveLength(10);

    const labels = (endpoint: string) => ({ source: 'serial', endpoint });
    expect(await metric('gridstream_source_samples_total', labels('csv'))).toBe(3);
    expect(await metric('gridstream_source_samples_total', labels('rx'))).toBe(2);
    expect(await metric('gridstream_source_samples_total', labels('kv'))).toBe(2);
    expect(await metric('gridstream_source_bad_input_total', labels('csv'))).toBe(5);
    expect(
      await metric('gridstream_source_bad_input_total', { ...labels('kv'), reason: 'bad_checksum' }),
    ).toBe(1);
    expect(await metric('gridstream_source_bad_input_total', { ...labels('kv'), reason: 'oversized' })).toBe(
      2,
    );
    expect(await metric('gridstream_serial_lines_total', { endpoint: 'csv', outcome: 'ignored' })).toBe(1);
    expect(await metric('gridstream_serial_lines_total', { endpoint: 'csv', outcome: 'empty' })).toBe(1);
    expect(await metric('gridstream_source_connected', labels('kv'))).toBe(1);
  });

  it('waits for a port that is not there, and reopens one that vanishes: a cut-off line is dead-lettered, nothing after the return is lost', async () => {
    const env = kafkaEnv();
    await createTestTopics(kafka, [env.KAFKA_TOPIC_RAW], 1);
    const pair = await PtyPair.start(dir, 'usb');
    await pair.kill(); // the adapter is not plugged in when the collector starts
    const config = writeConfig('vanish', {
      site: 'water-1',
      ports: [
        {
          name: 'usb',
          path: pair.a,
          equipment: 'water_meter',
          device: 'M1',
          reconnectMaxMs: 500,
          format: { type: 'delimited', columns: ['seq', 'flow'] },
          fields: { seq: {}, flow: {} },
        },
      ],
    });
    const collector = await startInProcess(
      'serial-collector',
      serialCollectorConfigSchema,
      startSerialCollector,
      {
        ...envStrings(env),
        SERIAL_CONFIG: config,
      },
    );
    stops.push(collector.stop);
    const port = () => collector.readiness.report().checks['serial:usb'];
    await waitFor(port, (c) => c?.ok === false && /cannot open/.test(c.detail ?? ''), {
      what: 'port absent',
    });
    expect(collector.readiness.report().ready).toBe(false);

    await pair.restart(); // plugged in
    stops.push(pair.stop.bind(pair));
    await waitFor(port, (c) => c?.ok === true, { what: 'port open' });
    const peer = MeterPeer.start();
    stops.push(() => peer.stop());
    await peer.open('usb', pair.b);
    for (let seq = 1; seq <= 3; seq++) await peer.write('usb', `${seq},${seq / 10}\n`);
    await peer.write('usb', '4,0.'); // the adapter is pulled mid-line
    // 3 lines of 6 bytes and the 4 of the cut-off one, read before the adapter goes
    const bytes = async () =>
      (await collector.metrics.getSingleMetric('gridstream_serial_bytes_total')?.get())?.values[0]?.value ??
      0;
    await waitFor(bytes, (n) => n === 22, { what: 'the bytes read' });
    await pair.kill();
    await waitFor(port, (c) => c?.ok === false, { what: 'port lost' });
    await pair.restart(); // plugged in again: same link names, new pseudo-terminals
    await waitFor(port, (c) => c?.ok === true, { what: 'port open again' });
    await peer.open('usb', pair.b);
    for (let seq = 5; seq <= 8; seq++) await peer.write('usb', `${seq},${seq / 10}\n`);

    const samples = await readSamples(env.KAFKA_TOPIC_RAW, 7);
    expect(samples.map((s) => [s.fields.seq, s.fields.flow])).toEqual(
      [1, 2, 3, 5, 6, 7, 8].map((seq) => [seq, seq / 10]),
    );
    const dlq = letters(await readTopic(kafka, env.KAFKA_TOPIC_DLQ, 1));
    expect(dlq).toEqual([{ source: `serial://${pair.a}`, reason: 'incomplete', bytes: '4,0.' }]);
    const value = async (name: string) =>
      (await collector.metrics.getSingleMetric(name)?.get())?.values.find((v) => v.labels.endpoint === 'usb')
        ?.value;
    expect(await value('gridstream_source_disconnects_total')).toBe(1);
    expect(await value('gridstream_source_connected')).toBe(1);
    expect(await value('gridstream_serial_open_failures_total')).toBeGreaterThanOrEqual(1);
  });

  it('loses nothing it had read when it is killed (kill -9) during a Kafka outage', async () => {
    const env = kafkaEnv();
    await createTestTopics(kafka, [env.KAFKA_TOPIC_RAW], 1);
    const pair = await PtyPair.start(dir, 'kill');
    stops.push(pair.stop.bind(pair));
    const config = writeConfig('kill', {
      site: 'water-1',
      ports: [
        {
          name: 'meter',
          path: pair.a,
          equipment: 'water_meter',
          device: 'M1',
          format: { type: 'delimited', columns: ['seq', 'flow'] },
          fields: { seq: {}, flow: {} },
        },
      ],
    });
    const spoolDir = join(dir, 'kill-spool');
    const start = (brokers: string) =>
      ServiceProcess.start({
        service: 'serial-collector',
        env: { ...envStrings(env), KAFKA_BROKERS: brokers, SERIAL_CONFIG: config, SPOOL_DIR: spoolDir },
        logDir: join(dir, 'logs'),
      });
    const metric = async (p: ServiceProcess, name: string) => {
      const line = (await p.metrics()).split('\n').find((l) => l.startsWith(`${name}{`));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    // First life: Kafka unreachable (nothing listens on port 1), everything it reads waits in its spool.
    const first = await start('127.0.0.1:1');
    stops.push(() => first.stop());
    await waitFor(
      () => metric(first, 'gridstream_source_connected').catch(() => 0),
      (v) => v === 1,
      { what: 'port open' },
    );
    const peer = MeterPeer.start();
    stops.push(() => peer.stop());
    await peer.open('meter', pair.b);
    for (let seq = 1; seq <= 20; seq++)
      await peer.write('meter', seq === 10 ? 'x,y\n' : `${seq},${seq / 10}\n`);
    await waitFor(
      () => metric(first, 'gridstream_source_samples_total'),
      (n) => n === 19,
      { what: '19 samples read' },
    );
    await waitFor(
      () => metric(first, 'gridstream_source_bad_input_total'),
      (n) => n === 1,
      { what: 'the bad line' },
    );
    expect(await metric(first, 'gridstream_spool_pending_messages')).toBeGreaterThanOrEqual(2);
    await first.kill(); // SIGKILL
    expect(await readCommitted(kafka, env.KAFKA_TOPIC_RAW)).toHaveLength(0);

    // Second life, Kafka back: what the first one read goes first, then what it reads now.
    const second = await start(env.KAFKA_BROKERS.join(','));
    stops.push(() => second.stop());
    await second.ready();
    await peer.open('meter', pair.b);
    for (let seq = 21; seq <= 25; seq++) await peer.write('meter', `${seq},${seq / 10}\n`);
    const samples = await readSamples(env.KAFKA_TOPIC_RAW, 24);
    const expected = [...Array.from({ length: 25 }, (_, i) => i + 1)].filter((seq) => seq !== 10);
    expect(samples.map((s) => s.fields.seq)).toEqual(expected);
    expect(samples.map((s) => s.fields.flow)).toEqual(expected.map((seq) => seq / 10));
    // One spool across both lives: one spool id, every message once with its own sequence number.
    const ids = (await readCommitted(kafka, env.KAFKA_TOPIC_RAW)).map((m) => m.headers['gs-message-id']!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.split('-')[0])).size).toBe(1);
    const dlq = letters(await readTopic(kafka, env.KAFKA_TOPIC_DLQ, 1));
    expect(dlq).toEqual([{ source: `serial://${pair.a}`, reason: 'wrong_type', bytes: 'x,y' }]);
    await second.stop();
  });
});
