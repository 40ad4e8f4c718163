import { join, resolve } from 'node:path';
import {
  CountingSink,
  type ImportOptionsInput,
  importFiles,
  type KafkaImportSink,
  openKafkaImportSink,
} from '@gridstream/importer';
import {
  countPoints,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
} from '@gridstream/influx';
import { consumerLag } from '@gridstream/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { startWriter } from '../services/influx-writer/src/writer-service.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import {
  createTestTopics,
  parsedRecordsOf,
  readCommitted,
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * Files end to end: the importer publishes samples.v1 to the raw topic, the real parser and influx-writer
 * (in this process) turn them into InfluxDB points — exactly one per imported row, at the right UTC time,
 * nothing dead-lettered — and importing the same files again adds no points.
 */
const FIXTURES = resolve(import.meta.dirname, '../sample/import');
const names = {
  raw: uniqueName('imp.raw'),
  parsed: uniqueName('imp.parsed'),
  dlq: uniqueName('imp.dlq'),
};
const kafka = testKafka();
// What `gridstream import` and the console use: the source seam's direct outbox (acks=all).
let sink: KafkaImportSink;
let db: TestDatabase;
const stops: (() => Promise<void>)[] = [];
let firstRunMessages = 0;
const writerGroup = uniqueName('imp-writer');
const parserGroup = uniqueName('imp-parser');

const options: ImportOptionsInput = {
  files: [
    'vehicle-telematics.csv',
    'mixed-devices.csv',
    'vehicle-ampm.csv',
    'malformed-rows.csv',
    'vehicle-two-sheets.xlsx',
  ].map((f) => join(FIXTURES, f)),
  timeColumn: 'RECORD_TIME',
  valueColumns: ['DRIVE_SPEED', 'RPM'],
  deviceColumn: 'PHONE_NUM',
  site: 'depot-e2e',
  equipment: 'vehicle',
  timeZone: 'Asia/Seoul',
};
// 20 + 30 + 6 + 5 good rows of malformed-rows.csv + 2 sheets × 5.
const EXPECTED_POINTS = 20 + 30 + 6 + 5 + 10;

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_import');
  await createTestTopics(kafka, [names.raw, names.parsed, names.dlq], 3);
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_PARTITIONS: '3',
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: parserGroup,
    WRITER_GROUP_ID: writerGroup,
  };
  stops.push((await startInProcess('influx-writer', writerConfigSchema, startWriter, env)).stop);
  stops.push((await startInProcess('parser', parserConfigSchema, startParser, env)).stop);
  sink = await openKafkaImportSink({
    config: testKafkaEnv({ KAFKA_TOPIC_RAW: names.raw, KAFKA_CREATE_TOPICS: false }),
    logger: testLogger(),
  });
}, 120_000);

afterAll(async () => {
  await sink?.close();
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db?.drop();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq]);
});

describe('files → importer → Kafka → parser → influx-writer → InfluxDB', () => {
  it(`stores exactly ${EXPECTED_POINTS} points, one per good row, and reports the bad rows`, async () => {
    const summary = await importFiles(options, sink);
    expect(summary.rowsSent).toBe(EXPECTED_POINTS);
    expect(summary.rejectsTotal).toBe(6); // malformed-rows.csv
    expect(summary.files.every((f) => f.error === undefined)).toBe(true);
    firstRunMessages = summary.messagesSent;

    await waitFor(
      () => countPoints(db.config, db.name, 'vehicle'),
      (n) => n >= EXPECTED_POINTS,
      { timeoutMs: 90_000, intervalMs: 500, what: `${EXPECTED_POINTS} points` },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await countPoints(db.config, db.name, 'vehicle')).toBe(EXPECTED_POINTS);
    expect(await readTopic(kafka, names.dlq, 0)).toHaveLength(0);
  });

  it('stores the values at the UTC instant of the zone-less file time, per device (mixed ids)', async () => {
    // mixed-devices.csv row 4: device …0011, 2019-12-01 10:20:05 Seoul = 01:20:05Z, speed 28, rpm 848.
    const [series] = await queryInflux(
      db.config,
      `SELECT "DRIVE_SPEED", "RPM" FROM vehicle WHERE site = 'depot-e2e' AND device = '01000000011' AND time = '2019-12-01T01:20:05Z'`,
      db.name,
    );
    expect(series?.values).toEqual([[Date.UTC(2019, 11, 1, 1, 20, 5), 28, 848]]);
    // vehicle-ampm.csv: 01:00:00.001 PM Seoul = 04:00:00.001Z (the old tool would have put it at 16:00Z the day before).
    const [pm] = await queryInflux(
      db.config,
      `SELECT COUNT("RPM") FROM vehicle WHERE device = '01000000002' AND time = '2019-12-01T04:00:00.001Z'`,
      db.name,
    );
    expect(pm?.values[0]?.[1]).toBe(1);
  });

  it('a second import of the same files is recognised and dropped: the records and points stay exact', async () => {
    const before = await readTopic(kafka, names.raw, firstRunMessages);
    expect(before).toHaveLength(firstRunMessages);
    const summary = await importFiles(options, sink);
    expect(summary.rowsSent).toBe(EXPECTED_POINTS);
    const after = await readTopic(kafka, names.raw, before.length * 2);
    // Same message ids for the same content: downstream can tell a re-import from new data.
    const ids = (ms: typeof before) => ms.map((m) => m.headers['gs-message-id']).sort();
    expect(ids(after)).toEqual([...ids(before), ...ids(before)].sort());
    // The parser has read the re-import (its lag on raw is 0) and recognised every message by its id: the
    // parsed topic, and so InfluxDB and the archive, hold each row once.
    await waitFor(
      async () => (await consumerLag(kafka, parserGroup, [names.raw])).reduce((n, p) => n + p.lag, 0),
      (lag) => lag === 0,
      { timeoutMs: 60_000, what: 'parser lag 0' },
    );
    // Counted in records: a parsed message (format v2) carries all the records of one raw message.
    expect(parsedRecordsOf(await readCommitted(kafka, names.parsed))).toHaveLength(EXPECTED_POINTS);
    await waitFor(
      async () => (await consumerLag(kafka, writerGroup, [names.parsed])).reduce((n, p) => n + p.lag, 0),
      (lag) => lag === 0,
      { timeoutMs: 60_000, what: 'writer lag 0' },
    );
    expect(await countPoints(db.config, db.name, 'vehicle')).toBe(EXPECTED_POINTS);
    // And a dry run sends nothing and says what would be sent.
    const dry = await importFiles(options, new CountingSink());
    expect(dry.rowsSent).toBe(EXPECTED_POINTS);
  });
});
