import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createKafka, type InMessage, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import {
  type AlarmEvent,
  AlarmEventSchema,
  type ParsedRecord,
  RAW_HEADER,
  type Sample,
} from '@gridstream/schema';
import { parsedRecordsOf, readParsedRecords } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  readCommitted,
  readTopic,
  removeTestTopics,
  startInProcess,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { parserConfigSchema } from './config.js';
import { startParser } from './parser-service.js';

// Real Kafka: samples.v1 into the raw topic, the parser (in this process) with the quality stage, flags
// on telemetry.parsed and alarm episodes on the alarms topic; then a restart while an alarm is active.

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const ALARMS = uniqueName('test.alarms');
const GROUP = uniqueName('test-parser-quality');
const T0 = Date.parse('2026-11-23T01:00:00.000Z');
const producer = new ReliableProducer(kafka, logger);

const dir = mkdtempSync(join(tmpdir(), 'quality-int-'));
const CONFIG = join(dir, 'quality.yaml');
writeFileSync(
  CONFIG,
  [
    `profiles: [${JSON.stringify(join(REPO, 'sample', 'profiles', 'ess-sionyu.yaml'))}]`,
    'rules:',
    '  - { equipment: battery, field: soc, flatline: { samples: 3 } }',
    'alarms:',
    '  - { name: over_temperature, equipment: battery, value: max_cell_temperature, direction: above, warning: 50, fault: 55, hysteresis: 2 }',
  ].join('\n'),
);

const env: Record<string, string> = {
  KAFKA_BROKERS: kafkaEnv.KAFKA_BROKERS.join(','),
  KAFKA_TOPIC_RAW: kafkaEnv.KAFKA_TOPIC_RAW,
  KAFKA_TOPIC_PARSED: kafkaEnv.KAFKA_TOPIC_PARSED,
  KAFKA_TOPIC_DLQ: kafkaEnv.KAFKA_TOPIC_DLQ,
  KAFKA_TOPIC_ALARMS: ALARMS,
  PARSER_GROUP_ID: GROUP,
  QUALITY_CONFIG: CONFIG,
};

function iso(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** One collector poll: the bank and rack 1, keyed by site like every raw message. */
function poll(seconds: number, rackTemperature: number, bankSoc = 50): OutMessage {
  const samples: Sample[] = [
    {
      site: 'sionyu',
      equipment: 'battery',
      device: 'bank',
      ts: iso(seconds),
      fields: { soc: bankSoc, max_cell_temperature: 30 },
      // The collector already flagged it; the stage must not list the flag twice.
      ...(bankSoc > 6553.5 ? { quality: { soc: ['out_of_range' as const] } } : {}),
    },
    {
      site: 'sionyu',
      equipment: 'battery',
      device: 'bank',
      rack: '1',
      ts: iso(seconds),
      fields: { max_cell_temperature: rackTemperature },
    },
  ];
  return {
    key: 'sionyu',
    value: JSON.stringify({ v: 1, samples }),
    headers: {
      [RAW_HEADER.schema]: 'samples.v1',
      [RAW_HEADER.source]: 'test://quality',
      [RAW_HEADER.receivedAt]: new Date().toISOString(),
    },
  };
}

function events(messages: InMessage[]): AlarmEvent[] {
  return messages.map((m) => AlarmEventSchema.parse(JSON.parse(m.value!.toString('utf8'))));
}

function summary(list: AlarmEvent[]): string[] {
  return list.map(
    (e) => `${e.rule} ${e.rack ?? '-'} ${e.state} ${e.level} @${(Date.parse(e.ts) - T0) / 1000}`,
  );
}

beforeAll(async () => {
  await createTestTopics(
    kafka,
    [kafkaEnv.KAFKA_TOPIC_RAW, kafkaEnv.KAFKA_TOPIC_PARSED, kafkaEnv.KAFKA_TOPIC_DLQ, ALARMS],
    3,
  );
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer.disconnect();
  await removeTestTopics(kafka, [
    kafkaEnv.KAFKA_TOPIC_RAW,
    kafkaEnv.KAFKA_TOPIC_PARSED,
    kafkaEnv.KAFKA_TOPIC_DLQ,
    ALARMS,
  ]);
});

describe('parser quality stage with real Kafka', () => {
  it('flags records, produces exactly one alarm episode, and continues it across a restart', async () => {
    const first = await startInProcess('parser', parserConfigSchema, startParser, env);
    try {
      await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [
        poll(0, 30),
        poll(1, 52),
        poll(2, 56, 7000),
        poll(3, 51),
      ]);
      const alarms = await waitFor(
        async () => events(await readTopic(kafka, ALARMS, 3, 5_000)),
        (list) => list.length >= 3,
        { what: 'three alarm events', timeoutMs: 60_000 },
      );
      expect(summary(alarms)).toEqual([
        'over_temperature 1 raised warning @1',
        'over_temperature 1 escalated fault @2',
        'over_temperature 1 deescalated warning @3',
      ]);
      const parsed = await readParsedRecords(kafka, kafkaEnv.KAFKA_TOPIC_PARSED, 8);
      expect(parsed).toHaveLength(8);
      const bank = parsed.filter((r) => r.rack === undefined).sort((a, b) => a.ts.localeCompare(b.ts));
      expect(bank.map((r) => r.quality)).toEqual([
        undefined,
        undefined,
        // Out of the profile's range: flagged by the source and by the stage, listed once.
        { soc: ['out_of_range'] },
        undefined,
      ]);
      expect(parsed.filter((r) => r.rack === '1').every((r) => r.quality === undefined)).toBe(true);
    } finally {
      await first.stop();
    }

    // The warning is active. A restarted parser reads the alarms topic back and continues the episode.
    const second = await startInProcess('parser', parserConfigSchema, startParser, env);
    try {
      await producer.send(kafkaEnv.KAFKA_TOPIC_RAW, [poll(4, 52), poll(5, 57), poll(6, 40)]);
      const alarms = await waitFor(
        async () => events(await readTopic(kafka, ALARMS, 5, 5_000)),
        (list) => list.length >= 5,
        { what: 'five alarm events', timeoutMs: 60_000 },
      );
      expect(summary(alarms)).toEqual([
        'over_temperature 1 raised warning @1',
        'over_temperature 1 escalated fault @2',
        'over_temperature 1 deescalated warning @3',
        'over_temperature 1 escalated fault @5',
        'over_temperature 1 cleared fault @6',
      ]);
      expect(new Set(alarms.map((e) => e.id))).toEqual(
        new Set([`sionyu/battery/bank/1/over_temperature@${iso(1)}`]),
      );
      const parsed = await readParsedRecords(kafka, kafkaEnv.KAFKA_TOPIC_PARSED, 14);
      expect(parsed).toHaveLength(14);
      const bank = parsed.filter((r) => r.rack === undefined).sort((a, b) => a.ts.localeCompare(b.ts));
      // Flatline (3 equal samples): 7000 at t=2 broke the run; the first instance counted t=3, but series
      // state is not carried across a restart (only alarm episodes are), so the run counts t=4, 5, 6.
      expect(bank.map((r) => r.quality?.soc)).toEqual([
        undefined,
        undefined,
        ['out_of_range'],
        undefined,
        undefined,
        undefined,
        ['flatline'],
      ]);
    } finally {
      await second.stop();
    }
  }, 180_000);
});

describe('parsed topic formats (PARSER_PARSED_FORMAT) with real Kafka', () => {
  it('v1: one message per record keyed by device; default v2: one per raw message, site and UTC day, keyed by site, carrying the same records', async () => {
    const raw = uniqueName('test.formats.raw');
    const parsedV1 = uniqueName('test.formats.parsed-v1');
    const parsedV2 = uniqueName('test.formats.parsed-v2');
    const dlq = uniqueName('test.formats.dlq');
    const groupV1 = uniqueName('test-parser-format-v1');
    const groupV2 = uniqueName('test-parser-format-v2');
    const topics = [raw, parsedV1, parsedV2, dlq, `${groupV1}.dedup`, `${groupV2}.dedup`];
    // One partition each: every topic has one total order, so messages and records compare in order.
    await createTestTopics(kafka, [raw, parsedV1, parsedV2, dlq], 1);
    // Two sites and two UTC days in one raw message: v2 splits it by site and day, in order of first
    // appearance (the rack-2 reading joins the first group), so one message per raw message, site and day.
    const mixed: Sample[] = [
      { site: 'sionyu', equipment: 'pcs', device: 'pcs1', ts: '2026-11-23T23:59:59.500Z', fields: { p: 1 } },
      {
        site: 'other-site',
        equipment: 'pcs',
        device: 'pcs1',
        ts: '2026-11-23T23:59:59.500Z',
        fields: { p: 2 },
      },
      { site: 'sionyu', equipment: 'pcs', device: 'pcs1', ts: '2026-11-24T00:00:00.500Z', fields: { p: 3 } },
      {
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rack: '2',
        ts: '2026-11-23T23:59:59.750Z',
        fields: { soc: 40 },
        flags: { run: true },
        quality: { soc: ['stale'] },
      },
    ];
    await producer.send(raw, [
      poll(10, 30),
      poll(11, 31, 7000),
      {
        key: 'sionyu',
        value: JSON.stringify({ v: 1, samples: mixed }),
        headers: { [RAW_HEADER.schema]: 'samples.v1', [RAW_HEADER.receivedAt]: new Date().toISOString() },
      },
    ]);
    const parserEnv = (parsed: string, group: string, format?: 'v1') => ({
      KAFKA_BROKERS: kafkaEnv.KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_RAW: raw,
      KAFKA_TOPIC_PARSED: parsed,
      KAFKA_TOPIC_DLQ: dlq,
      KAFKA_TOPIC_PARTITIONS: '1',
      PARSER_GROUP_ID: group,
      ...(format ? { PARSER_PARSED_FORMAT: format } : {}),
    });
    const v1Parser = await startInProcess(
      'parser',
      parserConfigSchema,
      startParser,
      parserEnv(parsedV1, groupV1, 'v1'),
    );
    const v2Parser = await startInProcess(
      'parser',
      parserConfigSchema,
      startParser,
      parserEnv(parsedV2, groupV2),
    );
    try {
      const offsets = (await readTopic(kafka, raw, 3)).map((m) => m.offset);
      expect(offsets).toHaveLength(3);
      const lineage = (k: number) => ({ topic: raw, partition: 0, offset: offsets[k]! });

      // v1: the record itself, one message each, keyed site/equipment/device, in the parser's order.
      const v1 = await readTopic(kafka, parsedV1, 8, 60_000);
      expect(v1).toHaveLength(8);
      const records = v1.map((m) => JSON.parse(m.value!.toString('utf8')) as ParsedRecord);
      expect(parsedRecordsOf(v1)).toStrictEqual(records);
      expect(v1.map((m) => m.key?.toString())).toEqual([
        'sionyu/battery/bank',
        'sionyu/battery/bank',
        'sionyu/battery/bank',
        'sionyu/battery/bank',
        'sionyu/pcs/pcs1',
        'other-site/pcs/pcs1',
        'sionyu/pcs/pcs1',
        'sionyu/battery/bank',
      ]);
      expect(
        records.map((r) => `${r.v} ${r.site}/${r.equipment}/${r.device}/${r.rack ?? ''} ${r.ts}`),
      ).toEqual([
        `1 sionyu/battery/bank/ ${iso(10)}`,
        `1 sionyu/battery/bank/1 ${iso(10)}`,
        `1 sionyu/battery/bank/ ${iso(11)}`,
        `1 sionyu/battery/bank/1 ${iso(11)}`,
        '1 sionyu/pcs/pcs1/ 2026-11-23T23:59:59.500Z',
        '1 other-site/pcs/pcs1/ 2026-11-23T23:59:59.500Z',
        '1 sionyu/pcs/pcs1/ 2026-11-24T00:00:00.500Z',
        '1 sionyu/battery/bank/2 2026-11-23T23:59:59.750Z',
      ]);
      expect(records.map((r) => r.lineage)).toEqual([0, 0, 1, 1, 2, 2, 2, 2].map(lineage));
      expect(records.map((r) => r.quality)).toEqual([
        undefined,
        undefined,
        { soc: ['out_of_range'] },
        undefined,
        undefined,
        undefined,
        undefined,
        { soc: ['stale'] },
      ]);

      // v2: 5 messages for the 3 raw messages, keyed by site; decoded, exactly the v1 records (the mixed
      // message's groups in order of first appearance).
      const v2 = await readTopic(kafka, parsedV2, 5, 60_000);
      expect(v2).toHaveLength(5);
      expect(v2.map((m) => m.key?.toString())).toEqual([
        'sionyu',
        'sionyu',
        'sionyu',
        'other-site',
        'sionyu',
      ]);
      const values = v2.map((m) => JSON.parse(m.value!.toString('utf8')));
      expect(values.map((v) => [v.v, v.site, v.schema, v.lineage, v.records.length])).toEqual([
        [2, 'sionyu', 'samples.v1', lineage(0), 2],
        [2, 'sionyu', 'samples.v1', lineage(1), 2],
        [2, 'sionyu', 'samples.v1', lineage(2), 2],
        [2, 'other-site', 'samples.v1', lineage(2), 1],
        [2, 'sionyu', 'samples.v1', lineage(2), 1],
      ]);
      // The wire format: what a record says on its own, identity and lineage once per message.
      expect(values[2]).toStrictEqual({
        v: 2,
        site: 'sionyu',
        schema: 'samples.v1',
        lineage: lineage(2),
        records: [
          { equipment: 'pcs', device: 'pcs1', ts: '2026-11-23T23:59:59.500Z', fields: { p: 1 }, flags: {} },
          {
            equipment: 'battery',
            device: 'bank',
            rack: '2',
            ts: '2026-11-23T23:59:59.750Z',
            fields: { soc: 40 },
            flags: { run: true },
            quality: { soc: ['stale'] },
          },
        ],
      });
      expect(parsedRecordsOf(v2)).toStrictEqual([0, 1, 2, 3, 4, 7, 5, 6].map((k) => records[k]));
      // Nothing else went anywhere: no dead letters, and no duplicates a moment later.
      expect(await readCommitted(kafka, dlq)).toHaveLength(0);
      expect(await readCommitted(kafka, parsedV1)).toHaveLength(8);
      expect(await readCommitted(kafka, parsedV2)).toHaveLength(5);
    } finally {
      await v1Parser.stop();
      await v2Parser.stop();
      await removeTestTopics(kafka, topics);
    }
  }, 180_000);
});
