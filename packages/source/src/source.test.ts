import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, Readiness } from '@gridstream/runtime';
import { DeadLetterHeadersSchema, type Sample, SamplesMessageSchema } from '@gridstream/schema';
import { readSpoolFolder } from '@gridstream/spool';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { samplesMessages } from './envelope.js';
import { openSource, type Source, type SourceEnv, SPOOL_TOPIC_HEADER } from './source.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const dirs: string[] = [];
const sources: Source[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.close(Date.now() + 50);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sample = (site: string, i: number, fields: Record<string, number> = { v: i }): Sample => ({
  site,
  equipment: 'meter',
  device: `d${i % 2}`,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  fields,
});
const RECEIVED = new Date('2026-12-07T10:00:00.123Z');

describe('samplesMessages (the samples.v1 envelope)', () => {
  it('groups per site, in order, at most maxPerMessage samples each, with the three headers', () => {
    const samples = [sample('a', 0), sample('b', 1), sample('a', 2), sample('a', 3), sample('b', 4)];
    const messages = samplesMessages(samples, {
      source: 'serial:///dev/x',
      receivedAt: RECEIVED,
      maxPerMessage: 2,
    });
    expect(messages.map((m) => m.key)).toEqual(['a', 'a', 'b']);
    const bodies = messages.map((m) => SamplesMessageSchema.parse(JSON.parse(String(m.value))));
    expect(bodies.map((b) => b.samples.map((s) => s.fields.v))).toEqual([[0, 2], [3], [1, 4]]);
    for (const m of messages) {
      expect(m.headers).toEqual({
        'gs-schema': 'samples.v1',
        'gs-source': 'serial:///dev/x',
        'gs-received-at': '2026-12-07T10:00:00.123Z',
      });
      // byte for byte what JSON.stringify of the message gives (readers may hash it)
      expect(m.value).toBe(JSON.stringify(JSON.parse(String(m.value))));
    }
  });

  it('closes a message before it passes maxChars; a sample larger than that goes alone', () => {
    const big = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`field_${i}`, i + 0.5]));
    const samples = [sample('a', 0, big), sample('a', 1, big), sample('a', 2), sample('a', 3, big)];
    const one = JSON.stringify(samples[0]).length;
    const messages = samplesMessages(samples, {
      source: 's',
      receivedAt: RECEIVED,
      maxPerMessage: 100,
      maxChars: one + 150,
    });
    expect(messages.map((m) => JSON.parse(String(m.value)).samples.length)).toEqual([1, 2, 1]);
    const tiny = samplesMessages(samples.slice(0, 2), {
      source: 's',
      receivedAt: RECEIVED,
      maxPerMessage: 100,
      maxChars: 10,
    });
    expect(tiny.map((m) => JSON.parse(String(m.value)).samples.length)).toEqual([1, 1]);
  });

  it('gives each message the id of its first sample when ids are given, per site', () => {
    const samples = [sample('a', 0), sample('b', 1), sample('a', 2), sample('a', 3), sample('b', 4)];
    const lines = [12, 13, 15, 16, 20]; // e.g. the physical lines of a file, with rejected ones between
    const messages = samplesMessages(samples, {
      source: 'file://x.csv',
      receivedAt: RECEIVED,
      maxPerMessage: 2,
      messageId: (first) => `import:f.m:${lines[first]}`,
    });
    expect(messages.map((m) => [m.key, m.headers?.['gs-message-id']])).toEqual([
      ['a', 'import:f.m:12'],
      ['a', 'import:f.m:16'],
      ['b', 'import:f.m:13'],
    ]);
    // Without ids the envelope sets none (the spool gives them).
    const plain = samplesMessages(samples, { source: 's', receivedAt: RECEIVED, maxPerMessage: 2 });
    expect(plain.every((m) => m.headers?.['gs-message-id'] === undefined)).toBe(true);
  });

  it('gives no message for no samples', () => {
    expect(samplesMessages([], { source: 's', receivedAt: RECEIVED, maxPerMessage: 10 })).toEqual([]);
  });
});

/** A source whose Kafka is unreachable (nothing listens on port 1): everything stays in its spool. */
function offline(dir: string, registry = new Registry(), readiness = new Readiness()) {
  const config: SourceEnv = {
    KAFKA_BROKERS: ['127.0.0.1:1'],
    KAFKA_CLIENT_ID: 'test',
    KAFKA_SSL: false,
    KAFKA_TOPIC_RAW: 'never.raw',
    KAFKA_TOPIC_PARSED: 'never.parsed',
    KAFKA_TOPIC_DLQ: 'never.dlq',
    KAFKA_TOPIC_PARTITIONS: 1,
    KAFKA_REPLICATION_FACTOR: 1,
    KAFKA_CREATE_TOPICS: false,
    SPOOL_DIR: dir,
    SPOOL_MAX_BYTES: 16 * 1024 * 1024,
    SPOOL_FSYNC: 'never',
    SPOOL_FSYNC_INTERVAL_MS: 1000,
    SPOOL_WHEN_FULL: 'drop-oldest',
  };
  const source = openSource(
    { config, logger, metrics: registry, readiness },
    { kind: 'serial', service: 'test', maxSamplesPerMessage: 2 },
  );
  sources.push(source);
  return { source, registry, readiness };
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((n, v) => n + v.value, 0);
}

const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-source-'));
  dirs.push(dir);
  return dir;
};

describe('openSource (spool, ids, dead letters, metrics, readiness)', () => {
  it('spools samples.v1 messages with ids <spool id>-<sequence> that go on across a restart', async () => {
    const dir = newDir();
    const first = offline(dir);
    const port = first.source.endpoint({ name: 'p1', uri: 'serial:///dev/ttyS1' });
    expect(port.push([sample('a', 0), sample('a', 1), sample('a', 2)])).toBe(2);
    expect(port.push([sample('b', 3)], { source: 'serial:///dev/ttyS1#meter-9' })).toBe(1);
    expect(first.source.pending).toBe(3);
    await first.source.close(Date.now() + 50);
    sources.splice(0);

    const second = offline(dir);
    second.source.endpoint({ name: 'p1', uri: 'serial:///dev/ttyS1' }).push([sample('a', 4)]);
    expect(second.source.pending).toBe(4);
    const records = [...readSpoolFolder(dir)];
    const ids = records.map((r) => r.message.headers?.['gs-message-id']);
    const spoolId = String(ids[0]).split('-')[0];
    expect(spoolId).toMatch(/^[0-9a-f]{12}$/);
    expect(ids).toEqual([1, 2, 3, 4].map((n) => `${spoolId}-${n}`));
    expect(records.map((r) => r.message.headers?.['gs-source'])).toEqual([
      'serial:///dev/ttyS1',
      'serial:///dev/ttyS1',
      'serial:///dev/ttyS1#meter-9',
      'serial:///dev/ttyS1',
    ]);
    expect(records.map((r) => JSON.parse(String(r.message.value)).samples.length)).toEqual([2, 1, 1, 1]);
  });

  it('keeps ids and a per-push message size given with a push; the spool numbers the rest', async () => {
    const dir = newDir();
    const { source } = offline(dir);
    const port = source.endpoint({ name: 'p1', uri: 'file://' });
    const five = [0, 1, 2, 3, 4].map((i) => sample('a', i));
    expect(port.push(five, { maxSamplesPerMessage: 3, messageId: (first) => `import:x:${first + 2}` })).toBe(
      2,
    );
    expect(port.push([sample('a', 5)])).toBe(1);
    const records = [...readSpoolFolder(dir)].map((r) => r.message);
    const ids = records.map((r) => r.headers?.['gs-message-id']);
    expect(ids.slice(0, 2)).toEqual(['import:x:2', 'import:x:5']);
    expect(ids[2]).toMatch(/^[0-9a-f]{12}-3$/);
    expect(records.map((r) => JSON.parse(String(r.value)).samples.length)).toEqual([3, 2, 1]);
    // send() on the spool outbox is push() that resolves: safe once appended.
    expect(await port.send([sample('a', 6)])).toBe(1);
    expect(source.pending).toBe(4);
  });

  it('a direct source has no spool: push and deadLetter refuse, no producer check', async () => {
    const readiness = new Readiness();
    const registry = new Registry();
    const source = openSource(
      {
        config: {
          KAFKA_BROKERS: ['127.0.0.1:1'],
          KAFKA_CLIENT_ID: 'test',
          KAFKA_SSL: false,
          KAFKA_TOPIC_RAW: 'never.raw',
          KAFKA_TOPIC_PARSED: 'never.parsed',
          KAFKA_TOPIC_DLQ: 'never.dlq',
          KAFKA_TOPIC_PARTITIONS: 1,
          KAFKA_REPLICATION_FACTOR: 1,
          KAFKA_CREATE_TOPICS: false,
        },
        logger,
        metrics: registry,
        readiness,
      },
      { kind: 'import', service: 'test', outbox: 'direct' },
    );
    sources.push(source);
    const files = source.endpoint({ name: 'files', uri: 'file://', readiness: false });
    expect(() => files.push([sample('a', 0)])).toThrow(/send\(\)/);
    expect(() => files.deadLetter('x', 'unreadable', 'x')).toThrow(/spool outbox/);
    expect(await files.send([])).toBe(0);
    expect(readiness.report().checks.producer).toBeUndefined();
    expect(source.pending).toBe(0);
    expect(await value(registry, 'gridstream_source_samples_total')).toBe(0);
  });

  it('counts samples, messages and the time of the last sample per source kind and endpoint', async () => {
    const { source, registry } = offline(newDir());
    const p1 = source.endpoint({ name: 'p1', uri: 'serial:///dev/ttyS1' });
    const p2 = source.endpoint({ name: 'p2', uri: 'serial:///dev/ttyS2' });
    const before = Date.now() / 1000;
    p1.push([sample('a', 0), sample('a', 1), sample('b', 2)]);
    p2.push([sample('a', 3)]);
    p2.push([]);
    const labels = (endpoint: string) => ({ source: 'serial', endpoint });
    expect(await value(registry, 'gridstream_source_samples_total', labels('p1'))).toBe(3);
    expect(await value(registry, 'gridstream_source_messages_total', labels('p1'))).toBe(2);
    expect(await value(registry, 'gridstream_source_samples_total', labels('p2'))).toBe(1);
    expect(await value(registry, 'gridstream_source_messages_total', labels('p2'))).toBe(1);
    expect(
      await value(registry, 'gridstream_source_last_sample_timestamp_seconds', labels('p1')),
    ).toBeGreaterThanOrEqual(before);
    expect(() => source.endpoint({ name: 'p1', uri: 'x' })).toThrow(/twice/);
  });

  it('dead-letters bad input through the spool with its bytes, stage collector and the reason', async () => {
    const dir = newDir();
    const { source, registry } = offline(dir);
    const port = source.endpoint({
      name: 'p1',
      uri: 'serial:///dev/ttyS1',
      site: 'plant-7',
      inputFormat: 'serial.line',
    });
    const at = new Date('2026-12-07T11:00:00.000Z');
    port.deadLetter(Buffer.from('12.5,x*3F\r\n'), 'bad_checksum', 'checksum 3F, computed 40', {
      receivedAt: at,
    });
    port.deadLetter('garbage', 'unreadable', 'no pattern match', { key: null });
    port.push([sample('a', 0)]);
    const records = [...readSpoolFolder(dir)].map((r) => r.message);
    expect(records).toHaveLength(3);
    const [letter, second, samples] = records as [
      (typeof records)[0],
      (typeof records)[0],
      (typeof records)[0],
    ];
    expect(letter.key?.toString()).toBe('plant-7');
    expect(letter.value.toString()).toBe('12.5,x*3F\r\n');
    expect(letter.headers).toMatchObject({
      [SPOOL_TOPIC_HEADER]: 'dlq',
      'gs-schema': 'serial.line',
      'gs-source': 'serial:///dev/ttyS1',
      'gs-received-at': '2026-12-07T11:00:00.000Z',
      'gs-dlq-stage': 'collector',
      'gs-dlq-reason': 'bad_checksum',
      'gs-dlq-message': 'checksum 3F, computed 40',
      'gs-dlq-at': '2026-12-07T11:00:00.000Z',
      'gs-dlq-original-size': '11',
    });
    expect(DeadLetterHeadersSchema.safeParse(letter.headers).success).toBe(true);
    expect(second.key).toBeNull();
    expect(second.headers?.['gs-dlq-reason']).toBe('unreadable');
    expect(samples.headers?.[SPOOL_TOPIC_HEADER]).toBeUndefined();
    expect(
      await value(registry, 'gridstream_source_bad_input_total', {
        source: 'serial',
        endpoint: 'p1',
        reason: 'bad_checksum',
      }),
    ).toBe(1);
    expect(await value(registry, 'gridstream_source_bad_input_total', { reason: 'unreadable' })).toBe(1);
    expect(await value(registry, 'gridstream_source_samples_total')).toBe(1);
  });

  it('reports connection state: gauge, disconnects, readiness per endpoint and the producer', async () => {
    const { source, registry, readiness } = offline(newDir());
    readiness.state = 'running';
    const port = source.endpoint({ name: 'p1', uri: 'serial:///dev/ttyS1' });
    source.endpoint({ name: 'own', uri: 'opcua://x', readiness: false });
    const labels = { source: 'serial', endpoint: 'p1' };
    expect(await value(registry, 'gridstream_source_connected', labels)).toBe(0);
    expect(readiness.report().checks['serial:p1']).toEqual({ ok: false, detail: 'not connected yet' });
    expect(readiness.report().checks['serial:own']).toBeUndefined();
    port.connected(true);
    expect(await value(registry, 'gridstream_source_connected', labels)).toBe(1);
    expect(readiness.report().checks['serial:p1']).toEqual({ ok: true, detail: 'connected' });
    port.connected(false, 'ENOENT: /dev/ttyS1');
    port.connected(false, 'still away');
    expect(await value(registry, 'gridstream_source_connected', labels)).toBe(0);
    expect(await value(registry, 'gridstream_source_disconnects_total', labels)).toBe(1);
    expect(readiness.report().checks['serial:p1']).toEqual({ ok: false, detail: 'still away' });
    expect(port.isConnected).toBe(false);
    port.push([sample('a', 1)]);
    const producer = readiness.report().checks.producer!;
    expect(producer.ok).toBe(false); // nothing listens on port 1
    expect(producer.detail).toMatch(/^disconnected; 1 spooled/);
    expect(readiness.report().ready).toBe(false);
  });

  it('restores its state from the spool without the dead letters', async () => {
    const dir = newDir();
    const registry = new Registry();
    const config = { dir };
    let state = 'first';
    const open = (restore: (r: { checkpoint?: Buffer; after: unknown[] }) => void) => {
      const source = openSource(
        {
          config: {
            KAFKA_BROKERS: ['127.0.0.1:1'],
            KAFKA_CLIENT_ID: 'test',
            KAFKA_SSL: false,
            KAFKA_TOPIC_RAW: 'r',
            KAFKA_TOPIC_PARSED: 'p',
            KAFKA_TOPIC_DLQ: 'd',
            KAFKA_TOPIC_PARTITIONS: 1,
            KAFKA_REPLICATION_FACTOR: 1,
            KAFKA_CREATE_TOPICS: false,
            SPOOL_DIR: config.dir,
            SPOOL_MAX_BYTES: 16 * 1024 * 1024,
            SPOOL_FSYNC: 'never',
            SPOOL_FSYNC_INTERVAL_MS: 1000,
            SPOOL_WHEN_FULL: 'drop-oldest',
          },
          logger,
          metrics: registry,
          readiness: new Readiness(),
        },
        { kind: 'opcua', service: 'test', checkpoint: () => Buffer.from(state), restore },
      );
      sources.push(source);
      return source;
    };
    const first = open(() => undefined).endpoint({ name: 'e', uri: 'opcua://x' });
    first.push([sample('a', 0)]);
    first.deadLetter('bad', 'unreadable', 'bad');
    first.push([sample('a', 1)]);
    await sources.splice(0)[0]!.close(Date.now() + 50);
    state = 'second';
    let seen: { checkpoint?: Buffer; after: unknown[] } | undefined;
    open((r) => {
      seen = r;
    });
    expect(seen?.checkpoint?.toString()).toBe('first');
    expect(seen?.after).toHaveLength(2);
  });
});
