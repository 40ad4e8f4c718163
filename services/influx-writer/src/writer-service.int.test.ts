import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  countPoints,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
  waitForInflux,
} from '@gridstream/influx';
import { consumerLag, createKafka, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import { buildHealthApp } from '@gridstream/runtime';
import { DLQ_HEADER, type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import {
  asReadIn,
  createTestTopics,
  parsedV2Message,
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { writerConfigSchema } from './config.js';
import { startWriter } from './writer-service.js';

// Real Kafka and InfluxDB 1.6 (deploy/local). The outage test stops and restarts the shared InfluxDB; it is
// always started again in a finally block and in afterAll, whatever happened.

const INFLUXDB_SH = resolve(import.meta.dirname, '../../../deploy/local/influxdb.sh');
const run = promisify(execFile);
const influxdb = (command: 'start' | 'stop' | 'wait') => run(INFLUXDB_SH, [command], { timeout: 90_000 });

async function ensureInfluxRunning(): Promise<void> {
  if (await waitForInflux(base, 1_000)) return;
  await influxdb('start');
  await influxdb('wait');
}

/** A loopback port nobody listens on (port 1 would be refused by fetch itself as a "bad port"). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

const base = influxConfig({ url: TEST_INFLUX_URL, timeoutMs: 10_000 });
const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const PARSED = kafkaEnv.KAFKA_TOPIC_PARSED;
const DLQ = kafkaEnv.KAFKA_TOPIC_DLQ;
/** Its own alarms topic: the shared default one may hold events of a demo run, which would add points. */
const ALARMS = uniqueName('test.alarms');
const GROUP = uniqueName('test-influx-writer');

const SITES = ['site-a', 'site-b', 'site-c'] as const;
const T0 = Date.parse('2023-06-09T11:34:06.000Z');
const N = 3_000;

/**
 * Record #i: fixture reading i % 17 at site (i / 17) % 3, one second later every 51 records, so every i is
 * its own point (measurement, tags, timestamp) and no two records overwrite each other.
 */
function record(i: number): ParsedRecord {
  const sample = SAMPLE_RECORDS[i % SAMPLE_RECORDS.length]!;
  return {
    ...sample,
    site: SITES[Math.floor(i / SAMPLE_RECORDS.length) % SITES.length]!,
    ts: new Date(T0 + Math.floor(i / (SAMPLE_RECORDS.length * SITES.length)) * 1_000).toISOString(),
    lineage: { topic: 'telemetry.raw', partition: 0, offset: String(i) },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const message = (r: ParsedRecord, key = parsedRecordKey(r)): OutMessage => ({
  key,
  value: JSON.stringify(r),
  headers: { 'gs-schema': r.schema },
});

/** The message's own lineage: a v2 message says it once, for all its records (docs/messages.md). */
const bundleLineage = (k: number): ParsedRecord['lineage'] => ({
  topic: 'telemetry.raw',
  partition: 1,
  offset: String(90_000 + k),
});

let db: TestDatabase;
let producer: ReliableProducer;
let admin: ReturnType<typeof kafka.admin>;
let writer: Awaited<ReturnType<typeof startInProcess>>;
/** Points the database should hold; every test adds what it wrote. */
let expectedPoints = 0;
let expectedLetters = 0;
/**
 * Topics of the stop() tests, deleted only in afterAll: the shared producer keeps every topic it sent to in
 * its metadata, and a topic deleted under it fails its next send (`does not host this topic-partition`).
 */
const extraTopics: string[] = [];

function writerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: 'gridstream-test-influx-writer',
    KAFKA_TOPIC_PARSED: PARSED,
    KAFKA_TOPIC_DLQ: DLQ,
    KAFKA_TOPIC_ALARMS: ALARMS,
    KAFKA_TOPIC_PARTITIONS: '3',
    WRITER_GROUP_ID: GROUP,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    // An outage is seen within seconds (refused connections fail at once; this bounds a hung server).
    INFLUX_TIMEOUT_MS: '3000',
    ...overrides,
  };
}

/** Messages in a topic (sum over partitions of high - low watermark). */
async function topicSize(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
}

/** Messages of `topic` the group has not committed yet. */
async function uncommitted(group: string, topic: string): Promise<number> {
  const lag = await consumerLag(kafka, group, [topic]);
  return lag.reduce((n, p) => n + p.lag, 0);
}

const points = () => countPoints(db.config, db.name);

/** The stored point of a record, as field → value (nulls of other devices' fields dropped), or undefined. */
async function storedPoint(r: ParsedRecord) {
  const series = await queryInflux(
    db.config,
    `SELECT * FROM "${r.equipment}" WHERE time = ${Date.parse(r.ts)}ms AND site = '${r.site}' AND device = '${r.device}' GROUP BY *`,
  );
  // GROUP BY * lists only the tag keys the measurement has; `rack` is '' on a battery's own series.
  const s = series.find((x) => (x.tags.rack ?? '') === (r.rack ?? ''));
  if (!s) return undefined;
  const tags = Object.fromEntries(Object.entries(s.tags).filter(([, v]) => v !== ''));
  expect(tags).toEqual(
    r.rack === undefined
      ? { device: r.device, site: r.site }
      : { device: r.device, rack: r.rack, site: r.site },
  );
  expect(s.values).toHaveLength(1);
  const row = Object.fromEntries(s.columns.map((c, k) => [c, s.values[0]![k]]));
  expect(row.time).toBe(Date.parse(r.ts));
  return Object.fromEntries(Object.entries(row).filter(([k, v]) => k !== 'time' && v !== null));
}

/** What a record must look like in InfluxDB: readings, flags, and `<field>__quality` strings. */
function expectedPoint(r: ParsedRecord): Record<string, unknown> {
  const expected: Record<string, unknown> = { ...r.fields, ...r.flags };
  for (const [field, flags] of Object.entries(r.quality ?? {}))
    expected[`${field}__quality`] = flags.join(',');
  return expected;
}

/** Everything produced so far is in InfluxDB and committed. */
async function waitUntilDrained(what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(points, (n) => n === expectedPoints, {
    what: `${what}: ${expectedPoints} points`,
    timeoutMs,
  });
  await waitFor(
    () => uncommitted(GROUP, PARSED),
    (n) => n === 0,
    { what: `${what}: offsets committed`, timeoutMs },
  );
}

function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  return writer.metrics
    .getSingleMetric(name)!
    .get()
    .then((m) =>
      m.values
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((n, v) => n + v.value, 0),
    );
}

beforeAll(async () => {
  await ensureInfluxRunning();
  db = await createTestDatabase(base, 'gs_test_writer');
  await createTestTopics(kafka, [PARSED, DLQ], 3);
  admin = kafka.admin();
  await admin.connect();
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  writer = await startInProcess('influx-writer', writerConfigSchema, startWriter, writerEnv());
});

afterAll(async () => {
  await ensureInfluxRunning().catch(() => undefined);
  await writer?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
  await removeTestTopics(kafka, [PARSED, DLQ, ALARMS, ...extraTopics]);
  await db?.drop().catch(() => undefined);
});

describe('influx-writer service (real Kafka and InfluxDB)', () => {
  it('writes 3,000 records from 3 sites as exactly 3,000 points with exact values, commits them, dead-letters none', async () => {
    await producer.send(
      PARSED,
      range(0, N).map((i) => message(record(i))),
    );
    expectedPoints += N;
    await waitUntilDrained('first 3,000');

    expect(await points()).toBe(N);
    for (const site of SITES) {
      const perSite = await queryInflux(
        db.config,
        `SELECT COUNT(*) FROM /.*/ WHERE site = '${site}' GROUP BY *`,
      );
      const count = perSite.reduce((n, s) => n + Math.max(...(s.values[0]!.slice(1) as number[])), 0);
      expect(count, site).toBe(range(0, N).filter((i) => record(i).site === site).length);
    }

    // Exact values for a sample: floats, booleans, the quality string, tags and the ms timestamp.
    for (const i of [0, 1, 1_234, 2_017, N - 1]) {
      const r = record(i);
      expect(await storedPoint(r), `record ${i} (${r.equipment}/${r.device}/${r.rack ?? '-'})`).toEqual(
        expectedPoint(r),
      );
    }
    const types = new Map<string, string>();
    for (const s of await queryInflux(db.config, 'SHOW FIELD KEYS FROM "battery"'))
      for (const [key, type] of s.values) types.set(String(key), String(type));
    expect(types.get('soc')).toBe('float');
    expect(types.get('total_racks')).toBe('float');
    expect(types.get('run')).toBe('boolean');

    expect(await topicSize(DLQ)).toBe(0);
    expect(await metricValue('gridstream_sink_points_total')).toBe(N);
    expect(writer.readiness.report().ready).toBe(true);
  });

  it('dead-letters exactly the bad records of a batch (invalid_record / sink_rejected) and writes all the others', async () => {
    const good = range(N, N + 300).map(record);
    const brokenJson = Buffer.from('{"v":1,"site":"site-a","equipment":"battery","fields":{"soc":3');
    const notARecord = Buffer.from('{"hello":"world"}');
    const timeField: ParsedRecord = {
      ...SAMPLE_RECORDS[0]!,
      device: 'time-field',
      fields: { time: 1, soc: 2 },
    };
    // `soc` is a float of `battery` since the first test; a boolean `soc` is refused by InfluxDB itself.
    const { quality: _quality, ...battery } = SAMPLE_RECORDS[0]!;
    const typeConflict: ParsedRecord = {
      ...battery,
      device: 'conflict',
      fields: { dc_voltage: 700.5 },
      flags: { soc: true },
    };
    // `at` is the position in the produced batch. One key for all, so they share a partition and arrive
    // in the same slice as the good records around them.
    const key = 'site-a/battery/mixed';
    const bad = [
      { at: 10, value: brokenJson, reason: 'invalid_record', text: /JSON/ },
      { at: 150, value: notARecord, reason: 'invalid_record', text: /fields/ },
      {
        at: 151,
        value: Buffer.from(JSON.stringify(timeField)),
        reason: 'invalid_record',
        text: /fields\.time/,
      },
      {
        at: 303,
        value: Buffer.from(JSON.stringify(typeConflict)),
        reason: 'sink_rejected',
        text: /field type conflict: input field "soc" on measurement "battery" is type boolean, already exists as type float/,
      },
    ];
    const goodLeft = [...good];
    const messages: OutMessage[] = range(0, good.length + bad.length).map((at) => {
      const b = bad.find((x) => x.at === at);
      return b
        ? { key, value: b.value, headers: { 'gs-schema': 'microgrid.v1' } }
        : message(goodLeft.shift()!, key);
    });
    expect(goodLeft).toHaveLength(0);

    const before = await admin.fetchTopicOffsets(PARSED);
    await producer.send(PARSED, messages);
    expectedPoints += good.length;
    expectedLetters += bad.length;
    await waitUntilDrained('mixed batch');

    const letters = await readTopic(kafka, DLQ, bad.length);
    expect(letters).toHaveLength(bad.length);
    const partition = Number(letters[0]!.headers[DLQ_HEADER.sourcePartition]);
    const firstOffset = BigInt(before.find((p) => p.partition === partition)!.high);
    const byOffset = new Map(letters.map((l) => [l.headers[DLQ_HEADER.sourceOffset], l]));
    for (const b of bad) {
      const offset = (firstOffset + BigInt(b.at)).toString();
      const letter = byOffset.get(offset);
      expect(letter, `letter for offset ${offset}`).toBeDefined();
      expect(letter!.headers[DLQ_HEADER.stage]).toBe('influx-writer');
      expect(letter!.headers[DLQ_HEADER.reason]).toBe(b.reason);
      expect(letter!.headers[DLQ_HEADER.message]).toMatch(b.text);
      expect(letter!.headers[DLQ_HEADER.sourceTopic]).toBe(PARSED);
      expect(letter!.headers[DLQ_HEADER.sourcePartition]).toBe(String(partition));
      expect(letter!.value!.equals(b.value), 'original bytes kept').toBe(true);
      expect(letter!.key?.toString()).toBe(key);
      expect(letter!.headers['gs-schema']).toBe('microgrid.v1');
    }

    expect(await points()).toBe(expectedPoints);
    // The good neighbours of each refused line went in, at exact values; the refused ones left no trace.
    for (const r of [good[0]!, good[9]!, good[10]!, good[148]!, good[149]!, good[good.length - 1]!])
      expect(await storedPoint(r)).toEqual(expectedPoint(r));
    const [conflict] = await queryInflux(
      db.config,
      `SELECT * FROM "battery" WHERE device = 'conflict' OR device = 'time-field'`,
    );
    expect(conflict).toBeUndefined();
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'invalid_record' })).toBe(3);
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'sink_rejected' })).toBe(1);
  });

  it('writes v2 messages (17 records each, keyed by site) as exactly one point per record, with exact values', async () => {
    // 20 whole reference messages: record(i) for i from a multiple of 51 on, 17 at a time, share site and time.
    const from = 4_029;
    const groups = range(0, 20).map((k) => range(from + 17 * k, from + 17 * (k + 1)).map(record));
    for (const g of groups) expect(new Set(g.map((r) => `${r.site} ${r.ts}`)).size).toBe(1);
    const total = groups.reduce((n, g) => n + g.length, 0);
    expect(total).toBe(340);
    const written = await metricValue('gridstream_sink_points_total');

    await producer.send(
      PARSED,
      groups.map((g, k) => parsedV2Message(g, bundleLineage(k))),
    );
    expectedPoints += total;
    await waitUntilDrained('v2 messages');

    expect(await points()).toBe(expectedPoints);
    expect(await metricValue('gridstream_sink_points_total')).toBe(written + total);
    expect(await topicSize(DLQ)).toBe(expectedLetters);
    // Every record of the first and the last message, and a few in between, at exact values.
    for (const r of [...groups[0]!, ...groups[19]!, groups[7]![3]!, groups[12]![16]!])
      expect(await storedPoint(r), `${r.site} ${r.equipment}/${r.device}/${r.rack ?? '-'} ${r.ts}`).toEqual(
        expectedPoint(r),
      );
  });

  it('dead-letters exactly the refused record of a v2 message, alone, and writes the other records of that message', async () => {
    // A reference message of 17 records, with a record InfluxDB refuses (a boolean `soc` on `battery`, a
    // float since the first test) and an invalid one (a field called `time`) among them.
    const good = range(4_386, 4_403).map(record);
    const { site, ts } = good[0]!;
    expect(good.every((r) => r.site === site && r.ts === ts)).toBe(true);
    const { quality: _quality, ...battery } = SAMPLE_RECORDS[0]!;
    const conflict: ParsedRecord = {
      ...battery,
      site,
      ts,
      device: 'conflict-v2',
      fields: { dc_voltage: 700.5 },
      flags: { soc: true },
    };
    const timeField: ParsedRecord = {
      ...SAMPLE_RECORDS[0]!,
      site,
      ts,
      device: 'time-field-v2',
      fields: { time: 1, soc: 2 },
    };
    const records = [...good.slice(0, 5), conflict, ...good.slice(5, 11), timeField, ...good.slice(11)];
    expect(records).toHaveLength(19);
    const lineage = bundleLineage(100);
    const out = parsedV2Message(records, lineage);
    const rejectedBefore = await metricValue('gridstream_dead_letters_total', { reason: 'sink_rejected' });
    const invalidBefore = await metricValue('gridstream_dead_letters_total', { reason: 'invalid_record' });

    const before = await admin.fetchTopicOffsets(PARSED);
    await producer.send(PARSED, [out]);
    const after = await admin.fetchTopicOffsets(PARSED);
    const moved = after.filter((p) => p.high !== before.find((b) => b.partition === p.partition)!.high);
    expect(moved).toHaveLength(1);
    const partition = moved[0]!.partition;
    const offset = before.find((p) => p.partition === partition)!.high;
    expectedPoints += good.length;
    expectedLetters += 2;
    await waitUntilDrained('v2 message with refused records');

    const letters = (await readTopic(kafka, DLQ, expectedLetters)).filter(
      (l) => l.headers[DLQ_HEADER.sourceTopic] === PARSED && l.headers[DLQ_HEADER.sourceOffset] === offset,
    );
    expect(await topicSize(DLQ)).toBe(expectedLetters);
    expect(letters.map((l) => l.headers[DLQ_HEADER.reason]).sort()).toEqual([
      'invalid_record',
      'sink_rejected',
    ]);
    for (const letter of letters) {
      const rejected = letter.headers[DLQ_HEADER.reason] === 'sink_rejected';
      // The letter holds that record alone, as a v1 record: nothing of what was written.
      expect(JSON.parse(letter.value!.toString('utf8'))).toStrictEqual(
        asReadIn(rejected ? conflict : timeField, lineage),
      );
      expect(letter.headers[DLQ_HEADER.message]).toMatch(
        rejected
          ? /field type conflict: input field "soc" on measurement "battery" is type boolean, already exists as type float/
          : /fields\.time/,
      );
      expect(letter.headers[DLQ_HEADER.stage]).toBe('influx-writer');
      expect(letter.headers[DLQ_HEADER.sourcePartition]).toBe(String(partition));
      expect(letter.key?.toString()).toBe(site);
      expect(letter.headers['gs-schema']).toBe('microgrid.v1');
    }
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'sink_rejected' })).toBe(
      rejectedBefore + 1,
    );
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'invalid_record' })).toBe(
      invalidBefore + 1,
    );

    // The other 17 records of the same message are in InfluxDB at exact values; the refused ones are not.
    expect(await points()).toBe(expectedPoints);
    for (const r of good)
      expect(await storedPoint(r), `${r.equipment}/${r.device}/${r.rack ?? '-'}`).toEqual(expectedPoint(r));
    const [refused] = await queryInflux(
      db.config,
      `SELECT * FROM "battery" WHERE device = 'conflict-v2' OR device = 'time-field-v2'`,
    );
    expect(refused).toBeUndefined();
  });

  it('survives an InfluxDB outage: retries, turns unready, commits nothing, then writes every point once it is back', async () => {
    const committedBefore = await admin.fetchOffsets({ groupId: GROUP, topics: [PARSED] });
    const health = buildHealthApp({ readiness: writer.readiness, metrics: writer.metrics, logger });
    const retriesBefore = await metricValue('gridstream_sink_writes_total', { outcome: 'error' });
    try {
      await influxdb('stop');
      await producer.send(
        PARSED,
        range(N + 2_000, N + 3_000).map((i) => message(record(i))),
      );
      expectedPoints += 1_000;

      // The writer keeps trying; the influxdb readiness check fails after the first failed write.
      const report = await waitFor(
        () => writer.readiness.report(),
        (r) => r.checks.influxdb?.ok === false,
        { what: 'influxdb check failing', timeoutMs: 15_000 },
      );
      expect(report.ready).toBe(false);
      expect(report.checks.influxdb!.detail).toBe('last write failed');
      expect((await health.inject({ url: '/healthz/ready' })).statusCode).toBe(503);

      // ~10 s down: retries keep happening, nothing goes to the DLQ, no offset moves without a 2xx.
      await new Promise((r) => setTimeout(r, 8_000));
      expect(await metricValue('gridstream_sink_writes_total', { outcome: 'error' })).toBeGreaterThan(
        retriesBefore + 2,
      );
      expect(await uncommitted(GROUP, PARSED)).toBe(1_000);
      expect(await admin.fetchOffsets({ groupId: GROUP, topics: [PARSED] })).toEqual(committedBefore);
      expect(writer.readiness.report().ready).toBe(false);
    } finally {
      await ensureInfluxRunning();
    }

    // Retry backoff is capped at 10 s, so recovery is within ~10 s of InfluxDB answering again.
    await waitUntilDrained('after the outage', 45_000);
    expect(await points()).toBe(expectedPoints);
    expect(await topicSize(DLQ)).toBe(expectedLetters);
    await waitFor(
      () => writer.readiness.report().ready,
      (ready) => ready,
      { what: 'ready again', timeoutMs: 10_000 },
    );
    expect((await health.inject({ url: '/healthz/ready' })).statusCode).toBe(200);
    await health.close();
  });

  it('is idempotent: the same 3,000 records delivered again leave the point count unchanged', async () => {
    const written = await metricValue('gridstream_sink_points_total');
    await producer.send(
      PARSED,
      range(0, N).map((i) => message(record(i))),
    );
    await waitFor(
      () => uncommitted(GROUP, PARSED),
      (n) => n === 0,
      { what: 'redelivery committed' },
    );
    // They really went through InfluxDB again (not skipped somewhere), and overwrote themselves.
    expect(await metricValue('gridstream_sink_points_total')).toBe(written + N);
    expect(await points()).toBe(expectedPoints);
    expect(await topicSize(DLQ)).toBe(expectedLetters);
  });
});

describe('influx-writer stop()', () => {
  /** Writers of these tests; each is stopped by its test, or here if an assertion failed first. */
  const others: { stop: () => Promise<void>; stopped: boolean }[] = [];
  afterAll(async () => {
    for (const w of others) if (!w.stopped) await w.stop().catch(() => undefined);
  });

  async function startOther(overrides: Record<string, string>) {
    const handle = await startInProcess(
      'influx-writer',
      writerConfigSchema,
      startWriter,
      writerEnv(overrides),
    );
    const entry = {
      ...handle,
      stopped: false,
      stop: () => {
        entry.stopped = true;
        return handle.stop();
      },
    };
    others.push(entry);
    return entry;
  }

  async function freshTopicWith(records: number): Promise<string> {
    const topic = uniqueName('test.parsed.stop');
    extraTopics.push(topic);
    await createTestTopics(kafka, [topic], 3);
    await producer.send(
      topic,
      range(0, records).map((i) => message(record(i))),
    );
    return topic;
  }

  it('flushes lines waiting for the linger at once, commits them, and does not hang', async () => {
    const topic = await freshTopicWith(100);
    const group = uniqueName('test-influx-writer-stop');
    const stopDb = await createTestDatabase(base, 'gs_test_writer_stop');
    try {
      // A 60 s linger and a batch size above what is there: only stop() can send these lines.
      const second = await startOther({
        KAFKA_TOPIC_PARSED: topic,
        WRITER_GROUP_ID: group,
        INFLUX_DATABASE: stopDb.name,
        WRITER_LINGER_MS: '60000',
        WRITER_BATCH_SIZE: '5000',
      });
      await waitFor(
        async () => (await admin.describeGroups([group])).groups[0]?.state,
        (state) => state === 'Stable',
        { what: 'stop-test group stable' },
      );
      await new Promise((r) => setTimeout(r, 2_000)); // the first fetch reaches the batcher
      expect(await countPoints(stopDb.config, stopDb.name)).toBe(0);

      const started = Date.now();
      await second.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await countPoints(stopDb.config, stopDb.name)).toBe(100);
      // Shutdown order: flush, THEN commit; a restarted writer must not redo (or re-dead-letter) this work.
      expect(await uncommitted(group, topic)).toBe(0);
    } finally {
      await stopDb.drop().catch(() => undefined);
    }
  });

  it('returns promptly while InfluxDB is unreachable, committing nothing that was not written', async () => {
    const topic = await freshTopicWith(100);
    const group = uniqueName('test-influx-writer-stop-down');
    const down = await startOther({
      KAFKA_TOPIC_PARSED: topic,
      WRITER_GROUP_ID: group,
      INFLUX_URL: `http://127.0.0.1:${await closedPort()}`,
      INFLUX_CREATE_DATABASE: 'false',
    });
    // In its retry loop: writes failing, partitions paused, backoff sleeping.
    await waitFor(
      () => down.readiness.report().checks.influxdb?.ok,
      (ok) => ok === false,
      { what: 'writes failing', timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 3_000)); // let the backoff grow past a second or two

    const started = Date.now();
    await down.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await uncommitted(group, topic)).toBe(100);
  });
});
