import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createInfluxSink,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
  waitForInflux,
} from '@gridstream/influx';
import { createKafka, ReliableProducer } from '@gridstream/kafka';
import { compileQualityConfig, seriesKey, validateQualityConfig } from '@gridstream/quality';
import { RAW_HEADER } from '@gridstream/schema';
import { readParsedRecords } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  removeTestTopics,
  startInProcess,
  TEST_INFLUX_URL,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { parserConfigSchema } from './config.js';
import { computeFences, FENCES_MEASUREMENT, runFenceJob } from './fence-job.js';
import { startParser } from './parser-service.js';

// Real InfluxDB 1.6: the reference water-pressure series (367 daily means) is written as a gridstream
// measurement, the fences job reads it back and must find the reference's fences, and writes them.

const REFERENCE = resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'reference',
  'water-meter-anomaly',
);
const DAY = 86_400_000;
let db: TestDatabase;

function referenceCsv(name: string): string[][] {
  return readFileSync(join(REFERENCE, name), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(','));
}

const values = referenceCsv('preprocessed.csv').map((row) => Number(row[1]));
const criteria = Object.fromEntries(referenceCsv('criteria.csv').map(([k, v]) => [k, Number(v)]));

const rules = compileQualityConfig(
  validateQualityConfig({
    rules: [{ equipment: 'water_meter', field: 'pressure', anomaly: true }],
    fences: { minSamples: 20 },
  }),
).fieldRules;

beforeAll(async () => {
  const base = influxConfig({ url: TEST_INFLUX_URL });
  await waitForInflux(base);
  db = await createTestDatabase(base, 'gs_test_fences');
  // Daily points at UTC midnight ending yesterday, so a 400-day window holds all of them.
  const lastDay = Math.floor(Date.now() / DAY) * DAY - DAY;
  const lines = values.map(
    (v, i) =>
      `water_meter,device=jm1,site=jangmyeong pressure=${v},flow=1 ${lastDay - (values.length - 1 - i) * DAY}`,
  );
  // A second series with too little history for fences.
  for (let i = 0; i < 5; i++)
    lines.push(`water_meter,device=jm2,site=jangmyeong pressure=4 ${lastDay - i * DAY}`);
  const sink = createInfluxSink(db.config);
  await sink.write(lines);
  await sink.close();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

describe('anomaly fences job against InfluxDB', () => {
  for (const resample of ['', '1d']) {
    it(`reproduces the reference fences from the stored history (resample ${resample || 'none'})`, async () => {
      const fences = await computeFences({
        influx: db.config,
        rules,
        window: '400d',
        resample,
        minSamples: 20,
      });
      expect(fences).toHaveLength(1);
      const f = fences[0]!;
      expect(f).toMatchObject({
        site: 'jangmyeong',
        equipment: 'water_meter',
        device: 'jm1',
        field: 'pressure',
        count: 367,
      });
      expect(f.lower).toBeCloseTo(criteria.normal_min!, 9);
      expect(f.upper).toBeCloseTo(criteria.normal_max!, 9);
    });
  }

  it('writes them to quality_fences and returns the map the stage uses', async () => {
    const { map } = await runFenceJob(
      { influx: db.config, rules, window: '400d', resample: '', minSamples: 20 },
      createInfluxSink(db.config),
      Date.now(),
    );
    const key = seriesKey({ site: 'jangmyeong', equipment: 'water_meter', device: 'jm1' }, 'pressure');
    expect(map.get(key)?.lower).toBeCloseTo(criteria.normal_min!, 9);
    const rows = await queryInflux(
      db.config,
      `SELECT lower, upper, "count" FROM ${FENCES_MEASUREMENT} GROUP BY *`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tags).toEqual({
      device: 'jm1',
      equipment: 'water_meter',
      field: 'pressure',
      site: 'jangmyeong',
    });
    expect(rows[0]!.values[0]![1]).toBeCloseTo(criteria.normal_min!, 9);
    expect(rows[0]!.values[0]![3]).toBe(367);
  });

  it('the parser computes fences at start and flags live values outside them as anomaly', async () => {
    const logger = testLogger();
    const kafkaEnv = testKafkaEnv();
    const kafka = createKafka(kafkaEnv, logger);
    const alarms = uniqueName('test.alarms');
    const topics = [kafkaEnv.KAFKA_TOPIC_RAW, kafkaEnv.KAFKA_TOPIC_PARSED, kafkaEnv.KAFKA_TOPIC_DLQ, alarms];
    await createTestTopics(kafka, topics, 1);
    const config = join(mkdtempSync(join(tmpdir(), 'fences-int-')), 'quality.yaml');
    writeFileSync(config, 'rules:\n  - { equipment: water_meter, field: pressure, anomaly: true }\n');
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    const parser = await startInProcess('parser', parserConfigSchema, startParser, {
      KAFKA_BROKERS: kafkaEnv.KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_RAW: kafkaEnv.KAFKA_TOPIC_RAW,
      KAFKA_TOPIC_PARSED: kafkaEnv.KAFKA_TOPIC_PARSED,
      KAFKA_TOPIC_DLQ: kafkaEnv.KAFKA_TOPIC_DLQ,
      KAFKA_TOPIC_ALARMS: alarms,
      PARSER_GROUP_ID: uniqueName('test-parser-fences'),
      QUALITY_CONFIG: config,
      QUALITY_FENCES_INTERVAL_MS: '3600000',
      QUALITY_FENCES_WINDOW: '400d',
      INFLUX_URL: db.config.url,
      INFLUX_DATABASE: db.name,
    });
    try {
      await waitFor(
        async () => (await parser.metrics.getSingleMetricAsString('gridstream_quality_fences')) ?? '',
        (text) => /gridstream_quality_fences(\{[^}]*\})? 1$/m.test(text),
        { what: 'fences computed', timeoutMs: 30_000 },
      );
      const samples = [4.1, 4.3, 3.9].map((pressure, i) => ({
        site: 'jangmyeong',
        equipment: 'water_meter',
        device: 'jm1',
        ts: new Date(Date.now() + i * 1000).toISOString(),
        fields: { pressure },
      }));
      await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [
        {
          key: 'jangmyeong',
          value: JSON.stringify({ v: 1, samples }),
          headers: { [RAW_HEADER.schema]: 'samples.v1', [RAW_HEADER.receivedAt]: new Date().toISOString() },
        },
      ]);
      const parsed = await readParsedRecords(kafka, kafkaEnv.KAFKA_TOPIC_PARSED, 3);
      expect(parsed.map((r) => [r.fields.pressure, r.quality?.pressure])).toEqual([
        [4.1, undefined],
        [4.3, ['anomaly']],
        [3.9, ['anomaly']],
      ]);
    } finally {
      await parser.stop();
      await producer.disconnect();
      await removeTestTopics(kafka, topics);
    }
  }, 120_000);
});
