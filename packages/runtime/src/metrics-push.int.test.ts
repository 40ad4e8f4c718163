import { randomBytes } from 'node:crypto';
import { executeInflux, influxConfig, queryInflux } from '@gridstream/influx';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { startMetricsPush } from './metrics-push.js';

/** Against the real InfluxDB: the pusher creates its database and the points hold exactly the metric values. */
const influx = influxConfig({ url: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086' });
const database = `gs_metrics_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

afterAll(async () => {
  await executeInflux(influx, `DROP DATABASE "${database}"`).catch(() => undefined);
});

describe('metrics push into InfluxDB', () => {
  it('creates the database and stores every counter, gauge and histogram count/sum with its labels', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'influx-writer' });
    const points = new Counter({
      name: 'gridstream_sink_points_total',
      help: 'h',
      labelNames: ['measurement'],
      registers: [registry],
    });
    points.inc({ measurement: 'battery' }, 1234);
    points.inc({ measurement: 'pcs' }, 7);
    const lag = new Gauge({
      name: 'gridstream_consumer_lag',
      help: 'h',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    });
    lag.set({ group: 'g', topic: 'telemetry.parsed', partition: '2' }, 42);
    const seconds = new Histogram({
      name: 'gridstream_sink_write_seconds',
      help: 'h',
      buckets: [1],
      registers: [registry],
    });
    seconds.observe(0.25);
    seconds.observe(0.5);

    const pusher = startMetricsPush({
      registry,
      service: 'influx-writer',
      url: influx.url,
      database,
      intervalMs: 60_000,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    expect(await pusher.push()).toBe(true);
    points.inc({ measurement: 'battery' }, 1);
    await pusher.stop(); // the final flush carries the last count

    const cfg = { ...influx, database };
    const last = async (where: string) => {
      const [series] = await queryInflux(cfg, `SELECT last("value") FROM "gridstream" WHERE ${where}`);
      return series?.values[0]?.[1];
    };
    expect(
      await last(
        `"metric" = 'gridstream_sink_points_total' AND "measurement" = 'battery' AND "service" = 'influx-writer'`,
      ),
    ).toBe(1235);
    expect(await last(`"metric" = 'gridstream_sink_points_total' AND "measurement" = 'pcs'`)).toBe(7);
    expect(
      await last(
        `"metric" = 'gridstream_consumer_lag' AND "partition" = '2' AND "topic" = 'telemetry.parsed'`,
      ),
    ).toBe(42);
    expect(await last(`"metric" = 'gridstream_sink_write_seconds_count'`)).toBe(2);
    expect(await last(`"metric" = 'gridstream_sink_write_seconds_sum'`)).toBe(0.75);
    const buckets = await queryInflux(
      cfg,
      `SELECT count("value") FROM "gridstream" WHERE "metric" =~ /_bucket$/`,
    );
    expect(buckets).toHaveLength(0);
    // Two pushes of the battery counter: the periodic one and the flush at stop.
    const [history] = await queryInflux(
      cfg,
      `SELECT "value" FROM "gridstream" WHERE "metric" = 'gridstream_sink_points_total' AND "measurement" = 'battery'`,
    );
    expect(history?.values.map((v) => v[1])).toEqual([1234, 1235]);
  });
});
