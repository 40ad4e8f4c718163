import { AmqpPublisher, amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import {
  countPoints,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
} from '@gridstream/influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge } from '../services/bridge/src/bridge-service.js';
import { bridgeConfigSchema } from '../services/bridge/src/config.js';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { startWriter } from '../services/influx-writer/src/writer-service.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import {
  createMicrogridSite,
  expectedRecordCount,
  REFERENCE_SITE_SHAPE,
} from '../services/simulator/src/microgrid-generator.js';
import {
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * The walking skeleton end to end, on real servers: microgrid messages published to RabbitMQ become
 * exactly the expected points in InfluxDB — count, values and UTC timestamps — with nothing dead-lettered.
 */
const SITES = ['000011', '000012', '000013', '000014'];
const MESSAGES_PER_SITE = 300;
const MESSAGES = SITES.length * MESSAGES_PER_SITE; // 1,200
const RECORDS_PER_MESSAGE = expectedRecordCount(REFERENCE_SITE_SHAPE); // 17: 14 devices + 3 racks
const START = Date.UTC(2026, 5, 1, 3, 0, 0); // 12:00:00 in Seoul

const names = {
  raw: uniqueName('e2e.raw'),
  parsed: uniqueName('e2e.parsed'),
  dlq: uniqueName('e2e.dlq'),
  // Own alarms topic: the writer also reads alarms, and the shared default topic may hold a demo's events.
  alarms: uniqueName('e2e.alarms'),
  exchange: uniqueName('e2e.microgrid'),
  queue: uniqueName('e2e.queue'),
};
const kafka = testKafka();
let db: TestDatabase;
const stops: (() => Promise<void>)[] = [];
const published: { site: string; body: Buffer }[] = [];

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_e2e');
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_PARTITIONS: '3',
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.queue,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: uniqueName('e2e-parser'),
    PARSER_SITE_TIMEZONES: SITES.map((s) => `${s}=Asia/Seoul`).join(','),
    WRITER_GROUP_ID: uniqueName('e2e-writer'),
  };
  // Downstream first, so nothing waits on a consumer group that is not there yet.
  stops.push((await startInProcess('influx-writer', writerConfigSchema, startWriter, env)).stop);
  stops.push((await startInProcess('parser', parserConfigSchema, startParser, env)).stop);
  stops.push((await startInProcess('bridge', bridgeConfigSchema, startBridge, env)).stop);

  const amqp = amqpConfigFromEnv(amqpEnvSchema.parse(env));
  const publisher = new AmqpPublisher({ amqp, declare: 'topology' });
  const sites = SITES.map((siteId, i) => createMicrogridSite({ siteId, seed: 1000 + i }));
  const confirms: Promise<void>[] = [];
  for (let i = 0; i < MESSAGES_PER_SITE; i++) {
    for (const site of sites) {
      // One message per site per second: the gateway's timestamps have whole seconds.
      const body = site.next(new Date(START + i * 1000), 'Asia/Seoul');
      published.push({ site: site.siteId, body });
      confirms.push(publisher.publish(`site.${site.siteId}`, body, { messageId: `${site.siteId}-${i}` }));
    }
  }
  await Promise.all(confirms);
  await publisher.close();
}, 180_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db?.drop();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq, names.alarms]);
});

/** Seoul has no daylight saving: its wall clock is UTC+9 all year. Independent of the parser's code. */
function seoulToUtcMs(local: string): number {
  const [date, time] = local.split(' ') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  return Date.UTC(y, mo - 1, d, h - 9, mi, s);
}

describe('RabbitMQ → bridge → Kafka → parser → influx-writer → InfluxDB', () => {
  it(`turns ${MESSAGES} messages from ${SITES.length} sites into exactly ${MESSAGES * RECORDS_PER_MESSAGE} points`, async () => {
    const expected = MESSAGES * RECORDS_PER_MESSAGE;
    await waitFor(
      () => countPoints(db.config, db.name),
      (n) => n >= expected,
      {
        timeoutMs: 150_000,
        intervalMs: 1_000,
        what: `${expected} points`,
      },
    );
    // Stays exact: no late duplicates or extra points arrive.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await countPoints(db.config, db.name)).toBe(expected);
    expect(await countPoints(db.config, db.name, 'battery')).toBe(MESSAGES * 6); // 3 batteries + 3 racks
    expect(await countPoints(db.config, db.name, 'transformer')).toBe(MESSAGES * 2);
  });

  it('stores exactly the published values at the UTC instant of the site-local header time', async () => {
    for (const index of [0, 601, MESSAGES - 1]) {
      const { site, body } = published[index]!;
      const message = JSON.parse(body.toString('utf8'));
      const ts = seoulToUtcMs(message.header.timestamp);
      expect(message.header.site_id).toBe(site);

      const battery = message.FieldDeviceLayer.field1.service[1];
      const [series] = await queryInflux(
        db.config,
        `SELECT * FROM battery WHERE site = '${site}' AND device = '${battery.id}' AND rack = '' AND time = ${ts}ms`,
        db.name,
      );
      expect(series, `battery ${battery.id} of ${site} at ${message.header.timestamp}`).toBeDefined();
      const row = Object.fromEntries(series!.columns.map((c, i) => [c, series!.values[0]![i]]));
      expect(row.time).toBe(ts);
      for (const [key, value] of Object.entries(battery)) {
        if (typeof value === 'number' || typeof value === 'boolean') expect(row[key], key).toBe(value);
      }

      const racks = Array.isArray(battery.racks) ? battery.racks : [battery.racks];
      const rack = racks[0];
      const [rackSeries] = await queryInflux(
        db.config,
        `SELECT soc, dc_current, fault FROM battery WHERE site = '${site}' AND device = '${battery.id}' AND rack = '${rack.index}' AND time = ${ts}ms`,
        db.name,
      );
      expect(rackSeries!.values[0]).toEqual([ts, rack.soc, rack.dc_current, rack.fault]);

      const transformer = message.FieldDeviceLayer.field4.service[1];
      const [trSeries] = await queryInflux(
        db.config,
        `SELECT * FROM transformer WHERE site = '${site}' AND device = '${transformer.index}' AND time = ${ts}ms`,
        db.name,
      );
      const tr = Object.fromEntries(trSeries!.columns.map((c, i) => [c, trSeries!.values[0]![i]]));
      for (const [key, value] of Object.entries(transformer)) {
        if (key !== 'index' && typeof value === 'number') expect(tr[key], key).toBe(value);
      }
    }
  });

  it('dead-letters nothing', async () => {
    expect(await readTopic(kafka, names.dlq, 0)).toHaveLength(0);
  });
});
