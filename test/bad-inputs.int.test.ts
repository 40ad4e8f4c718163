import { AmqpPublisher, amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import { countPoints, createTestDatabase, influxConfig, type TestDatabase } from '@gridstream/influx';
import { DLQ_HEADER } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge } from '../services/bridge/src/bridge-service.js';
import { bridgeConfigSchema } from '../services/bridge/src/config.js';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { startWriter } from '../services/influx-writer/src/writer-service.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import { createMicrogridSite } from '../services/simulator/src/microgrid-generator.js';
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
 * Every kind of bad input the gateway path can meet, sent through the running pipeline: each one becomes
 * exactly one dead letter with the right reason and stage, and good messages around them still arrive.
 */
const names = {
  raw: uniqueName('bad.raw'),
  parsed: uniqueName('bad.parsed'),
  dlq: uniqueName('bad.dlq'),
  // Own alarms topic: the writer also reads alarms, and the shared default topic may hold a demo's events.
  alarms: uniqueName('bad.alarms'),
  exchange: uniqueName('bad.microgrid'),
  queue: uniqueName('bad.queue'),
};
const kafka = testKafka();
let db: TestDatabase;
const stops: (() => Promise<void>)[] = [];

const SITE = '000077';
const site = createMicrogridSite({ siteId: SITE, seed: 7 });
const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i));
const good = (i: number) => JSON.parse(site.next(at(i), 'Asia/Seoul').toString('utf8'));
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

/** name → [payload, expected reason, expected stage] */
function makeBadInputs(): [string, Buffer, string, string][] {
  const noHeader = good(1);
  delete noHeader.header;
  const fdlNotObject = good(2);
  fdlNotObject.FieldDeviceLayer = [1, 2, 3];
  const noService = good(3); // the other five fields still parse
  delete noService.FieldDeviceLayer.field3.service;
  const badTime = good(4);
  badTime.header.timestamp = '2026-13-45 25:61:00';
  const numberAsString = good(5);
  numberAsString.FieldDeviceLayer.field1.service[0].soc = '31.5';
  const valid = site.next(at(6), 'Asia/Seoul');
  return [
    ['non-JSON', Buffer.from('<html>502 Bad Gateway</html>'), 'not_json', 'parser'],
    ['truncated JSON', valid.subarray(0, valid.length / 2), 'not_json', 'parser'],
    ['header missing', bytes(noHeader), 'missing_header', 'parser'],
    ['FieldDeviceLayer not an object', bytes(fdlNotObject), 'bad_structure', 'parser'],
    ['service missing in one field', bytes(noService), 'missing_service', 'parser'],
    ['timestamp unparseable', bytes(badTime), 'bad_timestamp', 'parser'],
    ['a number given as a string', bytes(numberAsString), 'wrong_type', 'parser'],
    ['a 20 MB message', Buffer.alloc(20 * 1024 * 1024, 0x20), 'oversized', 'bridge'],
  ];
}
// Built once: the generator advances with every call, and the assertions compare exact bytes.
const BAD_INPUTS = makeBadInputs();

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_bad');
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.queue,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: uniqueName('bad-parser'),
    PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
    WRITER_GROUP_ID: uniqueName('bad-writer'),
  };
  stops.push((await startInProcess('influx-writer', writerConfigSchema, startWriter, env)).stop);
  stops.push((await startInProcess('parser', parserConfigSchema, startParser, env)).stop);
  stops.push((await startInProcess('bridge', bridgeConfigSchema, startBridge, env)).stop);

  const publisher = new AmqpPublisher({
    amqp: amqpConfigFromEnv(amqpEnvSchema.parse(env)),
    declare: 'topology',
  });
  // Good, bad, good: the bad ones must not stop what comes after them.
  await publisher.publish(`site.${SITE}`, site.next(at(10), 'Asia/Seoul'));
  for (const [name, payload] of BAD_INPUTS)
    await publisher.publish(`site.${SITE}`, payload, { messageId: name });
  await publisher.publish(`site.${SITE}`, site.next(at(11), 'Asia/Seoul'));
  await publisher.close();
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db?.drop();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq, names.alarms]);
});

describe('bad inputs through the running pipeline', () => {
  it('each bad input gives exactly one dead letter with its reason and stage', async () => {
    const expected = BAD_INPUTS;
    const letters = await readTopic(kafka, names.dlq, expected.length, 90_000);
    expect(letters).toHaveLength(expected.length);
    const byId = new Map(letters.map((l) => [l.headers['gs-message-id'], l]));
    for (const [name, payload, reason, stage] of expected) {
      const letter = byId.get(name);
      expect(letter, name).toBeDefined();
      expect(letter!.headers[DLQ_HEADER.reason], name).toBe(reason);
      expect(letter!.headers[DLQ_HEADER.stage], name).toBe(stage);
      expect(letter!.headers[DLQ_HEADER.originalSize], name).toBe(String(payload.length));
      if (reason === 'oversized') {
        expect(letter!.headers[DLQ_HEADER.truncated]).toBe('true');
      } else {
        // The original bytes, exactly, so a fixed parser can replay them.
        expect(letter!.value!.equals(payload), name).toBe(true);
        expect(letter!.headers[DLQ_HEADER.sourceTopic]).toBe(names.raw);
      }
    }
  });

  it('keeps the pipeline going: good messages and the good parts of a partial message are written', async () => {
    // 2 good messages × 17; the message without field3.service: 17 − 2 inverters = 15; the message with a
    // number sent as a string loses only that battery's own record (its rack's readings are valid): 16.
    const expected = 2 * 17 + 15 + 16;
    await waitFor(
      () => countPoints(db.config, db.name),
      (n) => n >= expected,
      { what: `${expected} points` },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await countPoints(db.config, db.name)).toBe(expected);
    // Inverters: 2 in each good message and 2 in the wrong-type one; none from the message missing field3.service.
    expect(await countPoints(db.config, db.name, 'inverter')).toBe(6);
  });
});
