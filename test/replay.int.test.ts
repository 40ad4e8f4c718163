import { ReliableProducer } from '@gridstream/kafka';
import { type ParsedRecord, RAW_HEADER, recordIdentity } from '@gridstream/schema';
import {
  createTestTopics,
  parsedRecordsOf,
  readCommitted,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayHeaders } from '../services/console/src/dead-letters.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import { createMicrogridSite } from '../services/simulator/src/microgrid-generator.js';

/**
 * Replaying the dead letter of a PARTLY parsed message (one equipment group broken, the other five went
 * through) emits only what did not go through the first time; replaying the same letter twice emits nothing
 * more; and a redelivered copy of a raw message (same id) is dropped, not parsed again.
 */
const logger = testLogger();
const kafka = testKafka(logger);
const names = {
  raw: uniqueName('replay.raw'),
  parsed: uniqueName('replay.parsed'),
  dlq: uniqueName('replay.dlq'),
  group: uniqueName('replay-parser'),
};
const site = createMicrogridSite({ siteId: '000088', seed: 8 });
let producer: ReliableProducer;
let stop: () => Promise<void>;

beforeAll(async () => {
  await createTestTopics(kafka, [names.raw, names.parsed, names.dlq], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  stop = (
    await startInProcess('parser', parserConfigSchema, startParser, {
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      KAFKA_TOPIC_RAW: names.raw,
      KAFKA_TOPIC_PARSED: names.parsed,
      KAFKA_TOPIC_DLQ: names.dlq,
      PARSER_GROUP_ID: names.group,
      PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
    })
  ).stop;
}, 120_000);

afterAll(async () => {
  await stop?.();
  await producer?.disconnect();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq, `${names.group}.dedup`]);
});

/** The records on the parsed topic (a message of format v2 carries several). */
const records = async (): Promise<ParsedRecord[]> =>
  parsedRecordsOf(await readCommitted(kafka, names.parsed));

describe('replaying a dead letter, redelivery', () => {
  it('emits only the records that did not go through, once, however often it is replayed or redelivered', async () => {
    const message = JSON.parse(site.next(new Date(Date.UTC(2026, 3, 1, 3, 0, 0)), 'Asia/Seoul').toString());
    const inverter = message.FieldDeviceLayer.field3.service[0] as Record<string, unknown>;
    const reading = Object.keys(inverter).find((k) => typeof inverter[k] === 'number' && k !== 'index')!;
    const broken = structuredClone(message);
    // A number sent as a string (wrong_type): inverter 1 is refused, the other 16 records go through.
    broken.FieldDeviceLayer.field3.service[0][reading] = String(inverter[reading]);
    const headers = {
      [RAW_HEADER.schema]: 'microgrid.v1',
      [RAW_HEADER.source]: 'test://replay',
      [RAW_HEADER.receivedAt]: new Date().toISOString(),
      [RAW_HEADER.messageId]: '000088-1',
    };
    await producer.send(names.raw, [{ key: '000088', value: JSON.stringify(broken), headers }]);
    const first = await waitFor(records, (r) => r.length >= 16, {
      what: '16 records of the partly parsed message',
    });
    expect(first).toHaveLength(16); // 17 minus the refused inverter
    const [letter] = await waitFor(
      () => readCommitted(kafka, names.dlq),
      (l) => l.length === 1,
      { what: 'the dead letter' },
    );
    expect(letter!.headers['gs-dlq-reason']).toBe('wrong_type');
    expect(letter!.headers['gs-dlq-emitted']!.split(',')).toHaveLength(16);

    // The same raw message again (a bridge redelivery): dropped, nothing new anywhere.
    await producer.send(names.raw, [{ key: '000088', value: JSON.stringify(broken), headers }]);

    // The gateway is fixed; the letter is replayed, with the corrected payload, as the console does it —
    // twice (a double click).
    const fixed = { ...letter!, value: Buffer.from(JSON.stringify(message)) };
    for (let i = 0; i < 2; i++) {
      await producer.send(names.raw, [
        {
          key: fixed.key,
          value: fixed.value,
          headers: replayHeaders(fixed.headers, fixed.partition, fixed.offset),
        },
      ]);
    }
    const all = await waitFor(records, (r) => r.length >= 17, { what: 'the replayed inverter' });
    await new Promise((r) => setTimeout(r, 3_000));
    const final = await records();
    expect(final).toHaveLength(17);
    const identities = final.map(recordIdentity);
    expect(new Set(identities).size).toBe(17);
    const added = final.filter((r) => !first.some((f) => recordIdentity(f) === recordIdentity(r)));
    expect(added.map((r) => `${r.equipment}/${r.device}`)).toEqual(['inverter/1']);
    expect(added[0]!.fields[reading]).toBe(inverter[reading]);
    expect(all.length).toBe(17);
    expect(await readCommitted(kafka, names.dlq)).toHaveLength(1);
  });
});
