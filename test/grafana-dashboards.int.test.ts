import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmqpPublisher, amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import { createTestDatabase, influxConfig, queryInflux, type TestDatabase } from '@gridstream/influx';
import { type MetricsPusher, startMetricsPush } from '@gridstream/runtime';
import { type AlarmAction, type AlarmEvent, alarmKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge } from '../services/bridge/src/bridge-service.js';
import { bridgeConfigSchema } from '../services/bridge/src/config.js';
import { forecasterConfigSchema } from '../services/forecaster/src/config.js';
import { startForecaster } from '../services/forecaster/src/forecaster-service.js';
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
  DASHBOARD_FILES,
  type DashboardQuery,
  type GrafanaVariable,
  interpolate,
  loadDashboard,
  provisionedDatasources,
  queriesOf,
  variableQuery,
} from './grafana-dashboards.js';
import {
  freePort,
  removeTestTopics,
  startInProcess,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * Every query of the provisioned Grafana dashboards — panel targets, annotations and template variables —
 * run against the real InfluxDB after real data went through the pipeline: the gateway simulator's messages
 * through bridge → parser → influx-writer, the ESS Modbus simulator through the modbus collector, the OPC UA
 * simulator through the opcua collector, alarm events through the writer, and the metrics those in-process
 * services push. Each query must answer at least one series with a non-null value; a failure names the
 * dashboard, panel and query. (Grafana itself is not needed: what it sends is InfluxQL with its variables
 * substituted, which is what this test sends.)
 */
const root = join(import.meta.dirname, '..');
const names = {
  raw: uniqueName('grafana.raw'),
  parsed: uniqueName('grafana.parsed'),
  dlq: uniqueName('grafana.dlq'),
  alarms: uniqueName('grafana.alarms'),
  actions: uniqueName('grafana.alarm-actions'),
  forecasts: uniqueName('grafana.forecasts'),
  exchange: uniqueName('grafana.microgrid'),
  queue: uniqueName('grafana.queue'),
};
/** The writer consumes telemetry.alarms into the `alarms` measurement (issue 7) when it has WRITER_ALARMS. */
const WRITER_WRITES_ALARMS = 'WRITER_ALARMS' in writerConfigSchema.shape;
const GATEWAY_SITES = ['000001', '000002'];
/** The site each dashboard's single-value `site` variable is set to; it must be one SHOW TAG VALUES returns. */
const PREFERRED: Record<string, Record<string, string>> = {
  'microgrid-overview': { site: '000001' },
  'ess-site': { site: 'sionyu' },
  forecast: { site: 'sionyu', equipment: 'battery', device: 'bank', field: 'soc' },
};
const kafka = testKafka();
const stops: (() => Promise<void>)[] = [];
const pushers: MetricsPusher[] = [];
let db: TestDatabase;
let metricsDb: TestDatabase;
let modbus: ModbusSimulator;
let opcua: OpcuaSimulator;
const startedAt = Date.now();

beforeAll(async () => {
  const base = influxConfig({ url: TEST_INFLUX_URL });
  db = await createTestDatabase(base, 'gs_grafana');
  metricsDb = await createTestDatabase(base, 'gs_grafana_metrics');
  // Values move (updateIntervalMs), as on a real site: a frozen simulator would hide a panel that only
  // works on constant data.
  modbus = await startModbusSimulator({
    port: 0,
    profile: join(root, 'sample/profiles/ess-sionyu.yaml'),
    updateIntervalMs: 500,
    seed: 6,
  });
  opcua = await startOpcuaSimulator({ port: await freePort(), seed: 6 });

  const dir = mkdtempSync(join(tmpdir(), 'gs-grafana-'));
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

  const forecastConfig = join(dir, 'forecast.yaml');
  writeFileSync(
    forecastConfig,
    `series:
  - { site: sionyu, equipment: battery, device: bank, field: soc, step: 2s, history: 2m, horizon: 30s, every: 2s,
      seasons: [20s], min: 0, max: 100 }
`,
  );
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: names.actions,
    KAFKA_TOPIC_PARTITIONS: '3',
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.queue,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: uniqueName('grafana-parser'),
    PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
    WRITER_GROUP_ID: uniqueName('grafana-writer'),
    MODBUS_CONFIG: modbusConfig,
    OPCUA_CONFIG: opcuaConfig,
    OPCUA_PKI_DIR: join(dir, 'pki'),
    OPCUA_AUTO_TRUST_SERVERS: 'true',
    // The forecaster on the ESS bank's SoC as the collector reads it: test-sized steps and seasons.
    FORECAST_CONFIG: forecastConfig,
    FORECAST_MODEL_DIR: join(dir, 'forecast-models'),
    FORECAST_TICK_MS: '500',
    KAFKA_TOPIC_FORECASTS: names.forecasts,
  };
  const services = [
    ['influx-writer', writerConfigSchema, startWriter],
    ['parser', parserConfigSchema, startParser],
    ['bridge', bridgeConfigSchema, startBridge],
    ['modbus-collector', modbusCollectorConfigSchema, startModbusCollector],
    ['opcua-collector', opcuaCollectorConfigSchema, startOpcuaCollector],
    ['forecaster', forecasterConfigSchema, startForecaster],
  ] as const;
  for (const [name, schema, start] of services) {
    // biome-ignore lint/suspicious/noExplicitAny: each tuple pairs a schema with its own start function
    const service = await startInProcess(name, schema as any, start as any, env);
    // What runService does with METRICS_INFLUX_URL set, at a test-sized interval.
    const pusher = startMetricsPush({
      registry: service.metrics,
      service: name,
      url: TEST_INFLUX_URL,
      database: metricsDb.name,
      intervalMs: 1_000,
      logger: testLogger(),
    });
    pushers.push(pusher);
    stops.push(async () => {
      await service.stop();
      await pusher.stop();
    });
  }

  // The last minute of two gateway sites, one message per second, at their Seoul wall-clock time.
  const publisher = new AmqpPublisher({
    amqp: amqpConfigFromEnv(amqpEnvSchema.parse(env)),
    declare: 'topology',
  });
  const sites = GATEWAY_SITES.map((siteId, i) => createMicrogridSite({ siteId, seed: 60 + i }));
  const now = Math.floor(Date.now() / 1000) * 1000;
  const confirms: Promise<void>[] = [];
  for (let i = 60; i >= 0; i--) {
    for (const site of sites) {
      confirms.push(
        publisher.publish(`site.${site.siteId}`, site.next(new Date(now - i * 1000), 'Asia/Seoul')),
      );
    }
  }
  // One broken message: the dead-letter panels need a dead letter to show.
  confirms.push(
    publisher.publish('site.000001', Buffer.from('{"header": {"site_id": "000001", "timestamp": ')),
  );
  await Promise.all(confirms);
  await publisher.close();

  if (WRITER_WRITES_ALARMS) {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: names.alarms,
      messages: alarmEvents(now).map((a) => ({ key: alarmKey(a), value: JSON.stringify(a) })),
    });
    // An operator acknowledged the microgrid battery alarm in the console (the alarm-handling table).
    const soc = alarmEvents(now).find((a) => a.rule === 'test_soc_low')!;
    const ack: AlarmAction = {
      v: 1,
      id: 'grafana-ack-1',
      action: 'acknowledged',
      episode: soc.id,
      site: soc.site,
      equipment: soc.equipment,
      device: soc.device,
      rule: soc.rule,
      level: soc.level,
      by: 'Kim',
      at: new Date(now - 5_000).toISOString(),
      comment: 'crew on the way',
    };
    await producer.send({
      topic: names.actions,
      messages: [{ key: alarmKey(soc), value: JSON.stringify(ack) }],
    });
    await producer.disconnect();
  }
}, 180_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await modbus?.stop();
  await opcua?.stop();
  await db?.drop();
  await metricsDb?.drop();
  await removeTestTopics(
    kafka,
    Object.values(names).filter((n) => n !== names.exchange && n !== names.queue),
  );
});

/** An ESS rack alarm still active, a microgrid battery alarm still active, and one that has cleared. */
function alarmEvents(now: number): AlarmEvent[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const event = (
    over: Partial<AlarmEvent> & Pick<AlarmEvent, 'site' | 'equipment' | 'device' | 'rule' | 'field'>,
    raisedAt: number,
    ts: number,
  ): AlarmEvent => {
    const base = { rack: undefined, ...over };
    return {
      v: 1,
      id: `${alarmKey(base)}@${iso(raisedAt)}`,
      state: 'raised',
      level: 'warning',
      value: 1,
      threshold: 0.5,
      message: `${over.rule} on ${over.site}/${over.device}`,
      raisedAt: iso(raisedAt),
      ts: iso(ts),
      ...base,
    };
  };
  return [
    // An early warning of the forecaster (the forecast dashboard's table).
    event(
      {
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rule: 'predicted_test_soc_low',
        field: 'soc',
        value: 8,
        threshold: 10,
      },
      now - 20_000,
      now - 20_000,
    ),
    event(
      {
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rack: '3',
        rule: 'test_cell_voltage_gap',
        field: 'cell_voltage_gap',
        value: 0.31,
        threshold: 0.3,
      },
      now - 30_000,
      now - 30_000,
    ),
    event(
      {
        site: '000001',
        equipment: 'battery',
        device: '01',
        rule: 'test_soc_low',
        field: 'soc',
        value: 9,
        threshold: 10,
      },
      now - 40_000,
      now - 40_000,
    ),
    event(
      {
        site: '000001',
        equipment: 'battery',
        device: '02',
        rule: 'test_over_temperature',
        field: 'max_module_temperature',
        level: 'fault',
        value: 61,
        threshold: 60,
      },
      now - 50_000,
      now - 50_000,
    ),
    event(
      {
        site: '000001',
        equipment: 'battery',
        device: '02',
        rule: 'test_over_temperature',
        field: 'max_module_temperature',
        level: 'fault',
        state: 'cleared',
        value: 50,
        threshold: 55,
      },
      now - 50_000,
      now - 20_000,
    ),
  ];
}

interface Outcome {
  ok: boolean;
  detail: string;
}

/** Runs one dashboard query the way Grafana would: variables substituted, the datasource's db swapped for the test's. */
async function runQuery(
  q: DashboardQuery,
  variables: Record<string, string[]>,
  regexVariables: Set<string>,
): Promise<Outcome> {
  const datasource = provisionedDatasources().get(q.datasourceUid);
  if (!datasource) return { ok: false, detail: `no provisioned datasource ${q.datasourceUid}` };
  const database = datasource.database === 'gridstream_metrics' ? metricsDb.name : db.name;
  let influxQL: string;
  try {
    influxQL = interpolate(q.query, {
      fromMs: startedAt - 15 * 60_000,
      toMs: Date.now() + 60_000,
      interval: '2s',
      variables,
      regexVariables,
    });
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
  try {
    const series = await queryInflux({ ...db.config, database }, influxQL, database);
    const nonNull = series.some((s) =>
      s.values.some((row) => row.slice(1).some((v) => v !== null && v !== undefined)),
    );
    return nonNull
      ? { ok: true, detail: `${series.length} series` }
      : { ok: false, detail: `no series with a non-null value (${series.length} series): ${influxQL}` };
  } catch (error) {
    return { ok: false, detail: `${(error as Error).message}: ${influxQL}` };
  }
}

/** Values for the dashboard's variables, from their own queries in order (a later one may use an earlier one). */
async function resolveVariables(
  file: string,
  list: GrafanaVariable[],
): Promise<{ values: Record<string, string[]>; regex: Set<string> }> {
  const values: Record<string, string[]> = {};
  const regex = new Set<string>();
  for (const v of list) {
    const datasource = provisionedDatasources().get(v.datasource?.uid ?? '');
    const database = datasource?.database === 'gridstream_metrics' ? metricsDb.name : db.name;
    const q = interpolate(variableQuery(v), {
      fromMs: 0,
      toMs: Date.now(),
      interval: '2s',
      variables: values,
      regexVariables: regex,
    });
    const series = await queryInflux({ ...db.config, database }, q, database);
    const found = series.flatMap((s) => s.values.map((row) => String(row[1])));
    expect(found.length, `${file} › variable $${v.name} (${q}) found no values`).toBeGreaterThan(0);
    const preferred = PREFERRED[file]?.[v.name];
    if (v.multi || v.includeAll) {
      // "All", as Grafana sends it when no allValue is set: every value, as a regex alternation.
      values[v.name] = found;
      regex.add(v.name);
    } else if (preferred !== undefined) {
      expect(found, `${file} › variable $${v.name}`).toContain(preferred);
      values[v.name] = [preferred];
    } else {
      values[v.name] = [found[0] as string];
    }
  }
  return { values, regex };
}

const isAlarmQuery = (q: DashboardQuery) => /FROM "alarm(s|_actions)"/.test(q.query);

async function runDashboard(file: string, which: (q: DashboardQuery) => boolean): Promise<string[]> {
  const dashboard = loadDashboard(file);
  const { values, regex } = await resolveVariables(file, dashboard.templating?.list ?? []);
  const failures: string[] = [];
  for (const q of queriesOf(file, dashboard).filter(which)) {
    const outcome = await runQuery(q, values, regex);
    if (!outcome.ok) failures.push(`${q.where}: ${outcome.detail}`);
  }
  return failures;
}

describe('Grafana dashboards on real pipeline data', () => {
  it('has the data every panel needs (waits for the pipeline and a few metric pushes)', async () => {
    // Poll until every non-alarm query of every dashboard answers, so the per-dashboard tests below
    // check a settled state; the last failures are in the timeout message.
    await waitFor(
      async () => {
        const failures: string[] = [];
        for (const file of DASHBOARD_FILES) {
          try {
            failures.push(...(await runDashboard(file, (q) => !isAlarmQuery(q))));
          } catch (error) {
            failures.push(`${file}: ${(error as Error).message}`);
          }
        }
        return failures;
      },
      (failures) => failures.length === 0,
      { timeoutMs: 150_000, intervalMs: 3_000, what: 'every dashboard query to answer' },
    );
  });

  for (const file of DASHBOARD_FILES) {
    it(`${file}: every panel, annotation and variable query returns a non-null value`, async () => {
      const failures = await runDashboard(file, (q) => !isAlarmQuery(q));
      expect(failures, failures.join('\n')).toEqual([]);
    });
  }

  it(
    WRITER_WRITES_ALARMS
      ? 'alarm list and alarm annotations answer from the alarms the influx-writer wrote'
      : 'alarm list and alarm annotations run (syntax only: this influx-writer does not write alarms yet)',
    async () => {
      const alarmFiles = DASHBOARD_FILES.filter((f) => queriesOf(f, loadDashboard(f)).some(isAlarmQuery));
      expect(alarmFiles.sort()).toEqual(['ess-site', 'forecast', 'microgrid-overview']);
      if (WRITER_WRITES_ALARMS) {
        await waitFor(
          // Rules named test_*: a quality stage in the parser may raise real alarms on the simulated data too.
          () =>
            queryInflux(
              db.config,
              `SELECT count("active") FROM "alarms" WHERE "rule" =~ /^(predicted_)?test_/`,
              db.name,
            ),
          (s) => Number(s[0]?.values[0]?.[1] ?? 0) === alarmEvents(0).length,
          { what: 'the alarm events in InfluxDB', timeoutMs: 60_000 },
        );
        await waitFor(
          () => queryInflux(db.config, `SELECT count("by") FROM "alarm_actions"`, db.name),
          (s) => Number(s[0]?.values[0]?.[1] ?? 0) === 1,
          { what: 'the alarm action in InfluxDB', timeoutMs: 60_000 },
        );
        const failures = (await Promise.all(alarmFiles.map((f) => runDashboard(f, isAlarmQuery)))).flat();
        expect(failures, failures.join('\n')).toEqual([]);
        // The list shows the last event of each alarm: the cleared one is there with active=false, for the
        // panel's filter to hide.
        const [cleared] = await queryInflux(
          db.config,
          `SELECT last("active"), "state" FROM "alarms" WHERE "site" = '000001' AND "device" = '02' AND "rule" = 'test_over_temperature'`,
          db.name,
        );
        expect(cleared?.values[0]?.slice(1)).toEqual([false, 'cleared']);
      } else {
        const failures = (await Promise.all(alarmFiles.map((f) => runDashboard(f, isAlarmQuery)))).filter(
          (f) => f.some((line) => !line.includes('no series with a non-null value')),
        );
        expect(failures.flat(), failures.flat().join('\n')).toEqual([]);
      }
    },
  );
});
