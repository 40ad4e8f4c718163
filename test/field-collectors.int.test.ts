import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { startModbusCollector } from '../services/modbus-collector/src/collector-service.js';
import { modbusCollectorConfigSchema } from '../services/modbus-collector/src/config.js';
import { opcuaCollectorConfigSchema } from '../services/opcua-collector/src/config.js';
import { startOpcuaCollector } from '../services/opcua-collector/src/opcua-collector-service.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import { createMicrogridSite } from '../services/simulator/src/microgrid-generator.js';
import { type ModbusSimulator, startModbusSimulator } from '../services/simulator/src/modbus-server.js';
import { type OpcuaSimulator, startOpcuaSimulator } from '../services/simulator/src/opcua-server.js';
import {
  freePort,
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
 * What `make demo` shows, checked: the ESS over Modbus, the microgrid controller over OPC UA and the
 * gateway over AMQP all end up in one InfluxDB, each under its measurement and tags, with engineering
 * values (scale factors applied, signed/unsigned right) and source timestamps.
 */
const root = join(import.meta.dirname, '..');
const names = {
  raw: uniqueName('field.raw'),
  parsed: uniqueName('field.parsed'),
  dlq: uniqueName('field.dlq'),
  // Own alarms topic: the writer also reads alarms, and the shared default topic may hold a demo's events.
  alarms: uniqueName('field.alarms'),
  exchange: uniqueName('field.microgrid'),
  queue: uniqueName('field.queue'),
};
const kafka = testKafka();
const stops: (() => Promise<void>)[] = [];
let db: TestDatabase;
let modbus: ModbusSimulator;
let opcua: OpcuaSimulator;
const OPCUA_TS = new Date(Date.UTC(2026, 10, 23, 1, 2, 3, 456));

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_field');
  // Frozen values, so what the simulator serves is exactly what must arrive.
  modbus = await startModbusSimulator({
    port: 0,
    profile: join(root, 'sample/profiles/ess-sionyu.yaml'),
    updateIntervalMs: 0,
    seed: 4,
  });
  opcua = await startOpcuaSimulator({ port: await freePort(), seed: 4 });

  const dir = mkdtempSync(join(tmpdir(), 'gs-field-'));
  const modbusConfig = join(dir, 'modbus.yaml');
  writeFileSync(
    modbusConfig,
    readFileSync(join(root, 'sample/modbus/collector-local.yaml'), 'utf8')
      .replace('port: 5020', `port: ${modbus.port}`)
      .replace('../profiles/ess-sionyu.yaml', join(root, 'sample/profiles/ess-sionyu.yaml')),
  );
  const opcuaConfig = join(dir, 'opcua.yaml');
  writeFileSync(
    opcuaConfig,
    readFileSync(join(root, 'sample/opcua/collector-local.yaml'), 'utf8').replaceAll(
      'opc.tcp://127.0.0.1:4840',
      opcua.endpointUrl,
    ),
  );

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
    PARSER_GROUP_ID: uniqueName('field-parser'),
    PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
    WRITER_GROUP_ID: uniqueName('field-writer'),
    MODBUS_CONFIG: modbusConfig,
    OPCUA_CONFIG: opcuaConfig,
    OPCUA_PKI_DIR: join(dir, 'pki'),
    OPCUA_AUTO_TRUST_SERVERS: 'true',
  };
  stops.push((await startInProcess('influx-writer', writerConfigSchema, startWriter, env)).stop);
  stops.push((await startInProcess('parser', parserConfigSchema, startParser, env)).stop);
  stops.push((await startInProcess('bridge', bridgeConfigSchema, startBridge, env)).stop);
  stops.push(
    (await startInProcess('modbus-collector', modbusCollectorConfigSchema, startModbusCollector, env)).stop,
  );
  stops.push(
    (await startInProcess('opcua-collector', opcuaCollectorConfigSchema, startOpcuaCollector, env)).stop,
  );

  const publisher = new AmqpPublisher({
    amqp: amqpConfigFromEnv(amqpEnvSchema.parse(env)),
    declare: 'topology',
  });
  const site = createMicrogridSite({ siteId: '000001', seed: 9 });
  for (let i = 0; i < 3; i++)
    await publisher.publish('site.000001', site.next(new Date(Date.UTC(2026, 0, 1, 0, 0, i)), 'Asia/Seoul'));
  await publisher.close();
}, 180_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await modbus?.stop();
  await opcua?.stop();
  await db?.drop();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq, names.alarms]);
});

async function lastValue(measurement: string, field: string, where: string): Promise<unknown> {
  const [series] = await queryInflux(
    db.config,
    `SELECT last("${field}") FROM "${measurement}" WHERE ${where}`,
    db.name,
  );
  return series?.values[0]?.[1];
}

describe('Modbus, OPC UA and the microgrid gateway into one InfluxDB', () => {
  it('stores the ESS bank, its 8 racks, the PCS and the sensors read over Modbus, in engineering units', async () => {
    await waitFor(
      () => countPoints(db.config, db.name, 'pcs'),
      (n) => n > 0,
      { what: 'PCS points', timeoutMs: 90_000 },
    );
    const served = modbus.values();
    const expected = (name: string, rack?: string) => {
      const v = served.find(
        (s) => s.point.name === name && s.point.rack === rack && s.point.equipment === 'battery',
      );
      expect(v, `${name} rack ${rack}`).toBeDefined();
      return v!.value;
    };
    expect(await lastValue('battery', 'soc', `site = 'sionyu' AND device = 'bank' AND rack = ''`)).toBe(
      expected('soc'),
    );
    for (const rack of ['1', '8']) {
      expect(
        await lastValue('battery', 'current', `site = 'sionyu' AND device = 'bank' AND rack = '${rack}'`),
      ).toBe(expected('current', rack));
    }
    const racks = await queryInflux(
      db.config,
      `SELECT count(soc) FROM battery WHERE site = 'sionyu' GROUP BY rack`,
      db.name,
    );
    expect(racks.map((s) => s.tags?.rack ?? '').sort()).toEqual(['', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(await countPoints(db.config, db.name, 'sensor')).toBeGreaterThan(0);
  });

  it('stores OPC UA values at the server’s source timestamp', async () => {
    await waitFor(
      () => queryInflux(db.config, `SELECT count(soc) FROM battery WHERE site = 'opcua01'`, db.name),
      (s) => Number(s[0]?.values[0]?.[1] ?? 0) > 0,
      { what: 'OPC UA battery points', timeoutMs: 60_000 },
    );
    opcua.pause();
    opcua.set('Site01/Battery01/SOC', 55.5, { sourceTimestamp: OPCUA_TS });
    const where = `site = 'opcua01' AND device = 'bank1' AND time = ${OPCUA_TS.getTime()}ms`;
    const value = await waitFor(
      () => lastValue('battery', 'soc', where),
      (v) => v !== undefined,
      { what: 'the OPC UA value', timeoutMs: 60_000 },
    );
    expect(value).toBe(55.5);
    for (const measurement of ['pcs', 'pv', 'ev_charger']) {
      const [series] = await queryInflux(
        db.config,
        `SELECT count(*) FROM "${measurement}" WHERE site = 'opcua01'`,
        db.name,
      );
      expect(series, measurement).toBeDefined();
    }
  });

  it('keeps the microgrid gateway data next to them', async () => {
    await waitFor(
      () => queryInflux(db.config, `SELECT count(soc) FROM battery WHERE site = '000001'`, db.name),
      (s) => s[0]?.values[0]?.[1] === 18, // 3 messages × (3 batteries + 3 racks)
      { what: 'gateway battery points' },
    );
  });
});
