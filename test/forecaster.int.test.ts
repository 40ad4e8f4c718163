import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInfluxSink,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
} from '@gridstream/influx';
import { type AlarmEvent, ForecastMessageSchema } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forecasterConfigSchema } from '../services/forecaster/src/config.js';
import { startForecaster } from '../services/forecaster/src/forecaster-service.js';
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
 * The forecaster against real InfluxDB and Kafka: three days of a battery's SoC (a daily swing between 30
 * and 70 %) in InfluxDB; the forecaster fits Holt–Winters on it, writes the next day to the `forecast`
 * measurement and `telemetry.forecasts` with exact timestamps and tags, raises exactly one
 * `predicted_soc_low` episode for the predicted trough below 35 % however many forecasts it makes, and after
 * a restart reuses its saved model and raises nothing twice.
 */
const STEP = 15 * 60_000;
const DAY = 86_400_000;
const SITE = 'fc-site';
const names = { forecasts: uniqueName('fc.forecasts'), alarms: uniqueName('fc.alarms') };
const kafka = testKafka();
let db: TestDatabase;
let work: string;
let forecaster: Awaited<ReturnType<typeof startInProcess>> | undefined;

const soc = (t: number) => 50 + 20 * Math.sin((2 * Math.PI * t) / DAY);

function env(): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_FORECASTS: names.forecasts,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_PARTITIONS: '3',
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    FORECAST_CONFIG: join(work, 'forecast.yaml'),
    FORECAST_MODEL_DIR: join(work, 'models'),
    FORECAST_TICK_MS: '200',
  };
}

const metric = async (f: NonNullable<typeof forecaster>, name: string) =>
  ((await f.metrics.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gs-forecaster-'));
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_forecast');
  const now = Date.now();
  const sink = createInfluxSink(db.config);
  const lines: string[] = [];
  for (let t = Math.floor((now - 3 * DAY) / STEP) * STEP; t < now; t += 60_000)
    lines.push(`battery,device=bank,site=${SITE} soc=${soc(t).toFixed(3)} ${t}`);
  // A rack's readings must not leak into the bank's series (it has a rack tag).
  lines.push(`battery,device=bank,rack=1,site=${SITE} soc=0 ${now - 60_000}`);
  await sink.write(lines);
  await sink.close();
  await writeFile(
    join(work, 'forecast.yaml'),
    `series:
  - site: ${SITE}
    equipment: battery
    device: bank
    field: soc
    step: 15m
    history: 3d
    horizon: 1d
    every: 1s
    seasons: [1d]
    min: 0
    max: 100
    band: { rule: soc_low, low: 35, hysteresis: 2 }
`,
  );
  forecaster = await startInProcess('forecaster', forecasterConfigSchema, startForecaster, env());
}, 120_000);

afterAll(async () => {
  await forecaster?.stop();
  await removeTestTopics(kafka, Object.values(names));
  await db?.drop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('forecaster', () => {
  it('writes the next day to InfluxDB and Kafka, predicted, with exact timestamps and tags', async () => {
    await waitFor(
      () => metric(forecaster!, 'gridstream_forecaster_runs_total'),
      (n) => n >= 3,
      {
        what: 'three forecast runs',
        timeoutMs: 60_000,
      },
    );
    const [series, ...others] = await queryInflux(
      db.config,
      'SELECT "mean", "lower", "upper", "issued_at_ms" FROM "forecast" GROUP BY *',
    );
    expect(others).toEqual([]);
    expect(series!.tags).toEqual({
      device: 'bank',
      equipment: 'battery',
      field: 'soc',
      model: 'hw(96)',
      site: SITE,
    });
    const times = series!.values.map((v) => v[0] as number);
    expect(times.every((t) => t % STEP === 0)).toBe(true);
    expect(new Set(times.slice(1).map((t, i) => t - times[i]!))).toEqual(new Set([STEP]));
    // The last forecast covers one day: 96 points from its issue step on.
    const issued = Math.max(...series!.values.map((v) => v[4] as number));
    const latest = series!.values.filter((v) => v[4] === issued);
    expect(latest).toHaveLength(96);
    expect(latest[0]![0]).toBe(Math.floor(issued / STEP) * STEP);
    // The model learnt the daily swing: each predicted mean within 3 of the truth, inside its interval.
    for (const [t, mean, lower, upper] of latest as number[][]) {
      expect(Math.abs(mean! - soc(t!))).toBeLessThan(3);
      expect(lower!).toBeLessThan(mean!);
      expect(upper!).toBeGreaterThan(mean!);
    }
    const messages = (await readTopic(kafka, names.forecasts, 3, 10_000)).map((m) =>
      ForecastMessageSchema.parse(JSON.parse(m.value!.toString())),
    );
    const last = messages.find((m) => Date.parse(m.issuedAt) === issued)!;
    expect(last.predicted).toBe(true);
    expect(last.points.map((p) => [Date.parse(p.ts), p.mean])).toEqual(latest.map((v) => [v[0], v[1]]));
  });

  it('raises exactly one predicted_soc_low episode for the predicted trough, over many forecasts and a restart', async () => {
    const alarms = async () =>
      (await readTopic(kafka, names.alarms, 1, 5_000)).map(
        (m) => JSON.parse(m.value!.toString()) as AlarmEvent,
      );
    const first = await waitFor(alarms, (a) => a.length >= 1, {
      what: 'the predicted alarm',
      timeoutMs: 30_000,
    });
    expect(first.map((a) => [a.rule, a.state, a.level, a.field, a.site])).toEqual([
      ['predicted_soc_low', 'raised', 'warning', 'soc', SITE],
    ]);
    expect(first[0]!.value).toBeLessThan(35);
    const runsBefore = await metric(forecaster!, 'gridstream_forecaster_runs_total');
    await waitFor(
      () => metric(forecaster!, 'gridstream_forecaster_runs_total'),
      (n) => n >= runsBefore + 3,
      {
        what: 'three more runs',
      },
    );
    expect(await alarms()).toHaveLength(1);

    // A new process: the saved model is reused (no refit), the open episode restored (no second raise).
    await forecaster!.stop();
    expect(await readdir(join(work, 'models'))).toEqual([
      `${encodeURIComponent(`${SITE}/battery/bank//soc`)}.json`,
    ]);
    forecaster = await startInProcess('forecaster', forecasterConfigSchema, startForecaster, env());
    expect(await metric(forecaster, 'gridstream_forecaster_models_loaded_total')).toBe(1);
    await waitFor(
      () => metric(forecaster!, 'gridstream_forecaster_runs_total'),
      (n) => n >= 3,
      {
        what: 'runs after the restart',
      },
    );
    expect(await metric(forecaster, 'gridstream_forecaster_fits_total')).toBe(0);
    expect(await alarms()).toHaveLength(1);
  });
});
