import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, influxConfig, queryInflux, type TestDatabase } from '@gridstream/influx';
import type { InMessage } from '@gridstream/kafka';
import { type AlarmEvent, AlarmEventSchema, alarmKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { startWriter } from '../services/influx-writer/src/writer-service.js';
import { startModbusCollector } from '../services/modbus-collector/src/collector-service.js';
import { modbusCollectorConfigSchema } from '../services/modbus-collector/src/config.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import { simulatorConfigSchema } from '../services/simulator/src/config.js';
import { OVER_TEMPERATURE_LEVELS } from '../services/simulator/src/modbus-scenario.js';
import { startSimulators } from '../services/simulator/src/simulators.js';
import {
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * The alarm path end to end, on real servers: the ESS Modbus simulator plays its over-temperature
 * scenario on one rack → modbus-collector → telemetry.raw → parser with the sample protection rules →
 * telemetry.alarms → influx-writer → InfluxDB `alarms`. One episode must come out, in both places, with
 * exactly the expected states, levels, values and thresholds, and nothing for any other rack or rule.
 */
const root = join(import.meta.dirname, '..');
const PROTECTION = join(root, 'sample/quality/ess-protection.yaml');
const PROFILE = join(root, 'sample/profiles/ess-sionyu.yaml');
const RACK = '3';
/** One step of the scenario: three collector polls (1 s) per step, so no step can be missed. */
const PERIOD_MS = 3_000;

const names = {
  raw: uniqueName('alarms.raw'),
  parsed: uniqueName('alarms.parsed'),
  dlq: uniqueName('alarms.dlq'),
  alarms: uniqueName('alarms.alarms'),
};
const kafka = testKafka();
const stops: (() => Promise<void>)[] = [];
let db: TestDatabase;

/** The protection rule the scenario is built for, read from the same file the parser loads. */
function overTemperatureRule(): { name: string; warning: number; fault: number; hysteresis: number } {
  const file = parseYaml(readFileSync(PROTECTION, 'utf8')) as {
    alarms: {
      name: string;
      value: string;
      direction: string;
      warning: number;
      fault: number;
      hysteresis?: number;
    }[];
  };
  const rule = file.alarms.find((a) => a.value === 'max_cell_temperature' && a.direction === 'above');
  if (!rule) throw new Error(`${PROTECTION} has no "above" alarm on max_cell_temperature`);
  return { name: rule.name, warning: rule.warning, fault: rule.fault, hysteresis: rule.hysteresis ?? 0 };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_alarms');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gs-alarms-'));
  const collectorConfig = join(dir, 'modbus.yaml');
  writeFileSync(
    collectorConfig,
    readFileSync(join(root, 'sample/modbus/collector-local.yaml'), 'utf8')
      .replace('port: 5020', `port: ${port}`)
      .replace('../profiles/ess-sionyu.yaml', PROFILE),
  );
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_PARTITIONS: '3',
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: uniqueName('alarms-parser'),
    QUALITY_CONFIG: PROTECTION,
    WRITER_GROUP_ID: uniqueName('alarms-writer'),
    MODBUS_CONFIG: collectorConfig,
    SIM_AMQP: 'false',
    SIM_MODBUS_PORT: String(port),
    SIM_MODBUS_PROFILE: PROFILE,
    SIM_MODBUS_SCENARIO: 'over-temperature',
    SIM_MODBUS_SCENARIO_PERIOD_MS: String(PERIOD_MS),
    SIM_MODBUS_SCENARIO_RACK: RACK,
    SIM_MODBUS_SCENARIO_CYCLES: '1',
    SIM_SEED: '11',
  };
  // Downstream first (they read from the beginning, so nothing is lost while they join); the scenario's
  // clock starts with the simulator, and the collector right after it sees the first, normal step.
  stops.push((await startInProcess('influx-writer', writerConfigSchema, startWriter, env)).stop);
  stops.push((await startInProcess('parser', parserConfigSchema, startParser, env)).stop);
  stops.push((await startInProcess('simulator', simulatorConfigSchema, startSimulators, env)).stop);
  stops.push(
    (await startInProcess('modbus-collector', modbusCollectorConfigSchema, startModbusCollector, env)).stop,
  );
}, 180_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db?.drop().catch(() => undefined);
  await removeTestTopics(kafka, Object.values(names));
});

interface StoredAlarm {
  time: number;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
}

async function storedAlarms(): Promise<StoredAlarm[]> {
  const series = await queryInflux(db.config, 'SELECT * FROM alarms GROUP BY *', db.name);
  return series
    .flatMap((s) =>
      s.values.map((row) => {
        const o = Object.fromEntries(s.columns.map((c, k) => [c, row[k]]));
        const { time, ...fields } = o;
        const tags = Object.fromEntries(Object.entries(s.tags).filter(([, v]) => v !== ''));
        return { time: time as number, tags, fields };
      }),
    )
    .sort((a, b) => a.time - b.time);
}

describe('over-temperature on one ESS rack → one alarm episode in telemetry.alarms and InfluxDB', () => {
  const rule = overTemperatureRule();
  const key = alarmKey({ site: 'sionyu', equipment: 'battery', device: 'bank', rack: RACK, rule: rule.name });
  const { normal, warm, hot } = OVER_TEMPERATURE_LEVELS;
  const expected = [
    { state: 'raised', level: 'warning', value: warm, threshold: rule.warning },
    { state: 'escalated', level: 'fault', value: hot, threshold: rule.fault },
    { state: 'deescalated', level: 'warning', value: warm, threshold: rule.fault - rule.hysteresis },
    { state: 'cleared', level: 'warning', value: normal, threshold: rule.warning - rule.hysteresis },
  ];
  let events: AlarmEvent[] = [];
  let messages: InMessage[] = [];

  it('uses a scenario that crosses the rule: warm above the warning, below the fault release; hot above the fault; normal below the warning release', () => {
    expect(warm).toBeGreaterThan(rule.warning);
    expect(warm).toBeLessThan(rule.fault - rule.hysteresis);
    expect(hot).toBeGreaterThan(rule.fault);
    expect(normal).toBeLessThan(rule.warning - rule.hysteresis);
  });

  it('carries the scenario through collector, parser and writer: the rack reads normal → warm → hot → warm → normal', async () => {
    const readings = async () => {
      const [series] = await queryInflux(
        db.config,
        `SELECT max_cell_temperature FROM battery WHERE site = 'sionyu' AND rack = '${RACK}'`,
        db.name,
      );
      const values = (series?.values ?? []).map((v) => v[1] as number);
      // Runs of equal values: the steps of the timeline as they were read.
      return values.filter((v, i) => i === 0 || v !== values[i - 1]);
    };
    const steps = await waitFor(readings, (s) => s.includes(hot) && s[s.length - 1] === normal, {
      what: 'the rack back to normal after the hot step',
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
    // The first (normal) step may be over before the collector's first poll.
    expect(steps[0] === normal ? steps : [normal, ...steps]).toEqual([normal, warm, hot, warm, normal]);
  });

  it('stores raised → escalated → deescalated → cleared in InfluxDB, and nothing else', async () => {
    // The episode ends 5 steps (15 s) after the simulator starts; allow for group joins and batching.
    await waitFor(
      () => storedAlarms(),
      (rows) => rows.some((r) => r.tags.state === 'cleared'),
      { what: 'the cleared alarm in InfluxDB', timeoutMs: 120_000, intervalMs: 1_000 },
    );
    // The rack stays normal now (one cycle); anything else would have arrived with the episode.
    await new Promise((r) => setTimeout(r, 3_000));
    const rows = await storedAlarms();
    expect(
      rows.map((r) => ({ tags: r.tags, ...r.fields })),
      'only the one episode of the heated rack',
    ).toHaveLength(4);
    const id = rows[0]!.fields.id as string;
    expect(id).toBe(`${key}@${new Date(rows[0]!.time).toISOString()}`);
    rows.forEach((r, i) => {
      const e = expected[i]!;
      expect(r.tags, `row ${i}`).toEqual({
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rack: RACK,
        rule: rule.name,
        state: e.state,
        level: e.level,
      });
      expect(r.fields, `row ${i}`).toEqual({
        value: e.value,
        threshold: e.threshold,
        active: e.state !== 'cleared',
        message: expect.any(String),
        id,
        raised_at_ms: rows[0]!.time,
      });
    });
    const times = rows.map((r) => r.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(4);
  });

  it('publishes exactly those four events on telemetry.alarms, keyed by alarmKey, valid per the schema', async () => {
    messages = await readTopic(kafka, names.alarms, 4, 30_000);
    events = messages.map((m) => AlarmEventSchema.parse(JSON.parse(m.value!.toString('utf8'))));
    expect(
      events.map((e) => `${alarmKey(e)} ${e.state}`),
      'no alarm for any other rack, the bank or another rule',
    ).toEqual(expected.map((e) => `${key} ${e.state}`));
    for (const m of messages) expect(m.key?.toString()).toBe(key);
    const raisedAt = events[0]!.ts;
    events.forEach((e, i) => {
      expect(e, `event ${i}`).toMatchObject({
        v: 1,
        id: `${key}@${raisedAt}`,
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rack: RACK,
        rule: rule.name,
        field: 'max_cell_temperature',
        raisedAt,
        ...expected[i],
      });
    });
    // The same events as in InfluxDB, point for point: time = ts, the message text included.
    const rows = await storedAlarms();
    expect(rows.map((r) => [r.time, r.fields.message])).toEqual(
      events.map((e) => [Date.parse(e.ts), e.message]),
    );
  });

  it('raised each event on the reading that caused it (the stored rack record at that time)', async () => {
    for (const e of events) {
      const [series] = await queryInflux(
        db.config,
        `SELECT max_cell_temperature FROM battery WHERE site = 'sionyu' AND rack = '${RACK}' AND time = ${Date.parse(e.ts)}ms`,
        db.name,
      );
      expect(series?.values[0]?.[1], `${e.state} at ${e.ts}`).toBe(e.value);
    }
    // And the reading just before each event was still on the other side (the event is the first one).
    for (const [i, e] of events.entries()) {
      const [series] = await queryInflux(
        db.config,
        `SELECT last(max_cell_temperature) FROM battery WHERE site = 'sionyu' AND rack = '${RACK}' AND time < ${Date.parse(e.ts)}ms`,
        db.name,
      );
      const before = series?.values[0]?.[1];
      if (before === undefined) continue; // the collector's first reading raised it: nothing before
      const previous = [normal, warm, hot, warm][i];
      expect(before, `reading before ${e.state}`).toBe(previous);
    }
  });

  it('dead-letters nothing', async () => {
    expect(await readTopic(kafka, names.dlq, 0)).toHaveLength(0);
  });
});
