import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from './logger.js';
import { metricsPushEnvShape, metricsToLines, startMetricsPush } from './metrics-push.js';
import { runtimeEnvShape } from './run-service.js';

const T = 1_767_225_600_000;

function registry(): Registry {
  const r = new Registry();
  r.setDefaultLabels({ service: 'parser' });
  const c = new Counter({
    name: 'gs_messages_total',
    help: 'h',
    labelNames: ['outcome', 'rack'],
    registers: [r],
  });
  c.inc({ outcome: 'ok', rack: '' }, 3);
  c.inc({ outcome: 'a b,c=d', rack: '2' }, 1.5);
  new Gauge({ name: 'gs_never_set', help: 'h', registers: [r] }).set(Number.NaN);
  const h = new Histogram({ name: 'gs_seconds', help: 'h', buckets: [0.1, 1], registers: [r] });
  h.observe(0.05);
  h.observe(0.5);
  return r;
}

describe('metricsToLines', () => {
  it('writes one point per sample, tags service + metric + labels, histograms as _count/_sum only', async () => {
    const lines = metricsToLines(await registry().getMetricsAsJSON(), 'parser', T);
    expect(lines.sort()).toEqual(
      [
        `gridstream,metric=gs_messages_total,outcome=ok,service=parser value=3 ${T}`,
        `gridstream,metric=gs_messages_total,outcome=a\\ b\\,c\\=d,rack=2,service=parser value=1.5 ${T}`,
        `gridstream,metric=gs_seconds_sum,service=parser value=0.55 ${T}`,
        `gridstream,metric=gs_seconds_count,service=parser value=2 ${T}`,
      ].sort(),
    );
  });

  it('skips (and reports) a sample without a line-protocol form instead of failing the snapshot', async () => {
    const r = registry();
    const bad = new Counter({ name: 'gs_bad_total', help: 'h', labelNames: ['path'], registers: [r] });
    bad.inc({ path: 'C:\\data\\' }); // a trailing backslash has no tag form
    bad.inc({ path: 'ok' }, 2);
    const skipped: string[] = [];
    const lines = metricsToLines(await r.getMetricsAsJSON(), 'parser', T, (metric) => skipped.push(metric));
    expect(skipped).toEqual(['gs_bad_total']);
    expect(lines).toContain(`gridstream,metric=gs_bad_total,path=ok,service=parser value=2 ${T}`);
    expect(lines.filter((l) => l.startsWith('gridstream,metric=gs_messages_total'))).toHaveLength(2);
    expect(lines).toHaveLength(5);
  });

  it('takes the service tag from the pusher, not from a label', async () => {
    const lines = metricsToLines(await registry().getMetricsAsJSON(), 'other', T);
    expect(lines.every((l) => l.includes(',service=other '))).toBe(true);
  });
});

describe('metrics push environment', () => {
  const schema = z.object(runtimeEnvShape(9999));
  it('is off by default with the documented defaults', () => {
    const env = schema.parse({});
    expect(env.METRICS_INFLUX_URL).toBeUndefined();
    expect(env.METRICS_INFLUX_DB).toBe('gridstream_metrics');
    expect(env.METRICS_PUSH_INTERVAL_MS).toBe(10_000);
  });
  it('refuses a URL that is not http(s) and an interval that is not a number', () => {
    const result = z.object(metricsPushEnvShape).safeParse({
      METRICS_INFLUX_URL: 'influxdb:8086',
      METRICS_PUSH_INTERVAL_MS: '10s',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0]).sort()).toEqual([
      'METRICS_INFLUX_URL',
      'METRICS_PUSH_INTERVAL_MS',
    ]);
  });
});

describe('startMetricsPush', () => {
  it('never throws and never blocks stop when InfluxDB is unreachable', async () => {
    const pusher = startMetricsPush({
      registry: registry(),
      service: 'parser',
      // Port 9 (discard) on loopback: connection refused at once.
      url: 'http://127.0.0.1:9',
      database: 'nowhere',
      intervalMs: 50,
      timeoutMs: 1_000,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    expect(await pusher.push()).toBe(false);
    await new Promise((r) => setTimeout(r, 150)); // a few failing intervals, none of them unhandled
    const started = Date.now();
    await pusher.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    await pusher.stop(); // idempotent
  });
});
