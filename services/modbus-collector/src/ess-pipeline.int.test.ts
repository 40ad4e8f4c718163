import { join } from 'node:path';
import { type PointReading, toSamples } from '@gridstream/modbus';
import { ParsedRecordSchema, SamplesMessageSchema } from '@gridstream/schema';
import { parsedRecordsOf, readParsedRecords } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readCommitted,
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  testKafka,
  uniqueName,
} from '../../../test/helpers.js';
import { byRecord } from '../../../test/modbus-fixtures.js';
import { REPO_ROOT, scratchDir } from '../../../test/modbus-peers.js';
import { parserConfigSchema } from '../../parser/src/config.js';
import { startParser } from '../../parser/src/parser-service.js';
import { type ModbusSimulator, startModbusSimulator } from '../../simulator/src/modbus-server.js';
import { startModbusCollector } from './collector-service.js';
import { modbusCollectorConfigSchema } from './config.js';

/**
 * The shipped ESS profile end to end as far as Kafka goes: our Modbus simulator serves it, the collector
 * reads it into telemetry.raw, and the real parser turns that into canonical records on telemetry.parsed
 * (the InfluxDB leg is the pipeline test's). Values are frozen so that every one can be compared exactly.
 */
const ESS_PROFILE = join(REPO_ROOT, 'sample/profiles/ess-sionyu.yaml');
const SITE = 'sionyu-test';
const RECORDS_PER_POLL = 11; // bank, racks 1..8, pcs, etc

const scratch = scratchDir('gs-modbus-ess');
const kafka = testKafka();
const names = {
  raw: uniqueName('test.ess.raw'),
  parsed: uniqueName('test.ess.parsed'),
  dlq: uniqueName('test.ess.dlq'),
};
let sim: ModbusSimulator;
const served: Record<string, number | boolean> = {};

beforeAll(async () => {
  sim = await startModbusSimulator({ port: 0, profile: ESS_PROFILE, seed: 4, updateIntervalMs: 0 });
  // The cases the replaced system got wrong, set on purpose (what is served after rounding to the register):
  served.bankCurrent = sim.set('current', -123.4, { rack: null }); // Int16 negative
  served.bankVoltage = sim.set('voltage', 4000, { rack: null }); // UInt16 raw 40000 > 32767
  served.rack3Current = sim.set('current', -45.6, { rack: '3' });
  served.rack2TempGap = sim.set('cell_temperature_gap', -1.5, { rack: '2' }); // below its range min 0
  served.acCurrent = sim.set('ac_current', -1234.56); // Int32, CDAB
  served.activePower = sim.set('inv1_active_power', 12.345); // Float32, CDAB
  served.cumulative = sim.set('inv1_cumulative_power_generation', 123456.75);
});

afterAll(async () => {
  await sim?.stop();
  await removeTestTopics(kafka, Object.values(names));
  scratch.cleanup();
});

describe('ESS profile: simulator → collector → telemetry.raw → parser → telemetry.parsed', () => {
  it('every value exactly, then canonical records with the right measurement, tags and fields', async () => {
    expect(served.bankVoltage).toBe(4000);
    expect(served.bankCurrent).toBe(-123.4);
    expect(served.acCurrent).toBe(-1234.56);
    expect(served.activePower).toBe(Math.fround(12.345));
    expect(served.cumulative).toBe(123456.75);
    expect(served.rack2TempGap).toBe(-1.5);

    const configPath = scratch.write(
      'collector.yaml',
      `site: ${SITE}
connections:
  - transport: tcp
    host: 127.0.0.1
    port: ${sim.port}
    devices:
      - name: ess
        profile: ${ESS_PROFILE}
        pollIntervalMs: 500
`,
    );
    const collector = await startInProcess(
      'modbus-collector',
      modbusCollectorConfigSchema,
      startModbusCollector,
      {
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        KAFKA_TOPIC_RAW: names.raw,
        KAFKA_TOPIC_PARTITIONS: '1',
        MODBUS_CONFIG: configPath,
      },
    );
    await new Promise((r) => setTimeout(r, 2_300));
    await collector.stop();
    // Answered polls (one message each, gridstream_source_messages_total) and what Kafka acknowledged of
    // them (gridstream_spool_produced_total): after the stop, all of them.
    const text = await collector.metrics.metrics();
    const value = (name: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(name))
          ?.split(' ')
          .pop(),
      );
    const produced = value('gridstream_source_messages_total{');
    expect(produced).toBeGreaterThanOrEqual(3);
    expect(value('gridstream_spool_produced_total')).toBe(produced);
    expect(value('gridstream_source_samples_total{')).toBe(produced * RECORDS_PER_POLL);

    // telemetry.raw: each poll is one samples.v1 message equal to what the simulator serves.
    const raw = await readTopic(kafka, names.raw, produced, 30_000);
    expect(raw).toHaveLength(produced);
    const readings: PointReading[] = sim.values().map(({ point, value }) => ({
      point,
      value,
      outOfRange:
        typeof value === 'number' &&
        ((point.range?.min !== undefined && value < point.range.min) ||
          (point.range?.max !== undefined && value > point.range.max)),
      bad: false,
    }));
    const expected = byRecord(toSamples(SITE, readings, new Date()));
    expect(Object.keys(expected)).toHaveLength(RECORDS_PER_POLL);
    for (const message of raw) {
      expect(message.headers['gs-source']).toBe(`modbus://127.0.0.1:${sim.port}/unit/1`);
      const body = SamplesMessageSchema.parse(JSON.parse(message.value?.toString() ?? ''));
      const got = byRecord(body.samples);
      expect(got).toEqual(expected);
      // Spot checks written out, independent of the simulator's bookkeeping.
      expect(got['battery/bank/']?.fields.voltage).toBe(4000);
      expect(got['battery/bank/']?.fields.current).toBe(-123.4);
      expect(got['battery/bank/3']?.fields.current).toBe(-45.6);
      expect(got['pcs/pcs/']?.fields.ac_current).toBe(-1234.56);
      expect(got['sensor/etc/']?.fields.inv1_active_power).toBe(Math.fround(12.345));
      expect(got['sensor/etc/']?.fields.inv1_cumulative_power_generation).toBe(123456.75);
      expect(got['battery/bank/2']?.fields.cell_temperature_gap).toBe(-1.5);
      expect(got['battery/bank/2']?.quality).toEqual({ cell_temperature_gap: ['out_of_range'] });
    }

    // telemetry.parsed: the real parser, in process.
    const parser = await startInProcess('parser', parserConfigSchema, startParser, {
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      KAFKA_TOPIC_RAW: names.raw,
      KAFKA_TOPIC_PARSED: names.parsed,
      KAFKA_TOPIC_DLQ: names.dlq,
      KAFKA_TOPIC_PARTITIONS: '1',
      PARSER_GROUP_ID: uniqueName('test-ess-parser'),
    });
    let parsedMessages: Awaited<ReturnType<typeof readTopic>>;
    let dlq: Awaited<ReturnType<typeof readTopic>>;
    try {
      // Format v2 (the parser's default): one message per poll (one raw message, one site, one instant)
      // carrying its 11 records, keyed by site.
      await readParsedRecords(kafka, names.parsed, produced * RECORDS_PER_POLL, 60_000);
      parsedMessages = await readCommitted(kafka, names.parsed);
      dlq = await readTopic(kafka, names.dlq, 0, 5_000);
    } finally {
      await parser.stop();
    }
    expect(dlq).toHaveLength(0);
    expect(parsedMessages).toHaveLength(produced);
    expect(parsedMessages.every((m) => m.key?.toString() === SITE)).toBe(true);
    // Message k carries the records of raw message k, and nothing else.
    expect(parsedMessages.map((m) => parsedRecordsOf([m]).map((r) => r.lineage.offset))).toEqual(
      raw.map((m) => Array.from({ length: RECORDS_PER_POLL }, () => m.offset)),
    );
    const records = parsedRecordsOf(parsedMessages).map((r) => ParsedRecordSchema.parse(r));
    expect(records).toHaveLength(produced * RECORDS_PER_POLL);
    const polls = new Map<string, typeof records>();
    for (const r of records) polls.set(r.ts, [...(polls.get(r.ts) ?? []), r]);
    expect(polls.size).toBe(produced);
    for (const group of polls.values()) {
      const keys = group.map((r) => `${r.equipment}/${r.device}/${r.rack ?? ''}`).sort();
      expect(keys).toEqual(
        [
          'battery/bank/',
          ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `battery/bank/${n}`),
          'pcs/pcs/',
          'sensor/etc/',
        ].sort(),
      );
      for (const r of group) {
        const want = expected[`${r.equipment}/${r.device}/${r.rack ?? ''}`];
        expect(r.site).toBe(SITE);
        expect(r.schema).toBe('samples.v1');
        expect(r.lineage.topic).toBe(names.raw);
        expect(r.fields).toEqual(want?.fields);
        expect(r.flags).toEqual(want?.flags ?? {});
        if (want?.quality) expect(r.quality).toEqual(want.quality);
      }
      const bank = group.find((r) => r.equipment === 'battery' && r.rack === undefined);
      expect(bank?.fields.voltage).toBe(4000);
      expect(bank?.fields.current).toBe(-123.4);
    }
  });
});
