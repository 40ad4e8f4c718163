import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '@gridstream/config';
import type { ParsedRecord } from '@gridstream/schema';
import { SinkWriteError, writeWithSplit } from '@gridstream/sink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import { testLogger, uniqueName } from '../../../test/helpers.js';
import { samplesOf, seriesKey, VictoriaMetrics } from '../test/victoria-metrics.js';
import { opentsdbWriterConfigSchema } from './config.js';
import { DatapointMapper, DEFAULT_NAMING, type OpenTsdbDatapoint } from './datapoints.js';
import { createOpenTsdbTarget, openTsdbPut } from './opentsdb-target.js';

// The target against a real VictoriaMetrics (deploy/local/victoriametrics.sh): the shared instance, and
// private ones for an outage, a hang, basic auth and a small request limit. Every test writes under its own
// metric prefix, so tests never see each other's series.

const logger = testLogger();
const T0 = Date.parse('2023-06-09T11:34:06.000Z');

/** A prefix of lower-case letters and digits (a safe metric name start), unique per test. */
const prefix = () =>
  uniqueName('t')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase();
const mapperFor = (p: string) =>
  new DatapointMapper({ ...DEFAULT_NAMING, metricTemplate: `${p}.{equipment}.{field}` });

/** `count` copies of the reference message's 17 records, one second apart. */
function records(count: number): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  for (let k = 0; k < count; k++)
    for (const r of SAMPLE_RECORDS) out.push({ ...r, ts: new Date(T0 + k * 1_000).toISOString() });
  return out;
}

/** What VictoriaMetrics must hold for these datapoints: series key → (timestamp → value). */
function expected(points: OpenTsdbDatapoint[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const p of points) {
    const key = seriesKey({ __name__: p.metric, ...p.tags });
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(p.timestamp, p.value);
  }
  return out;
}

async function stored(vm: VictoriaMetrics, p: string): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const s of await vm.export(p)) {
    // One sample per series and time, whatever was written twice.
    expect(new Set(s.timestamps).size, seriesKey(s.metric)).toBe(s.timestamps.length);
    out.set(seriesKey(s.metric), samplesOf(s));
  }
  return out;
}

let vm: VictoriaMetrics;
beforeAll(async () => {
  vm = await VictoriaMetrics.shared();
});

describe('OpenTSDB target → VictoriaMetrics', () => {
  it('stores every datapoint of a batch, every series and value exactly', async () => {
    const p = prefix();
    const mapper = mapperFor(p);
    const points = records(10).flatMap((r) => mapper.recordPoints(r));
    // 10 × (the 17 records' 360 readings and flags + the first battery's 2 quality datapoints).
    expect(points).toHaveLength(3_620);
    const put = openTsdbPut({ url: vm.opentsdbUrl, timeoutMs: 10_000, sync: true });
    for (let i = 0; i < points.length; i += 500) expect(await put(points.slice(i, i + 500))).toBeUndefined();
    expect(await stored(vm, p)).toEqual(expected(points));
  });

  it('stores a datapoint written twice (a redelivery) once', async () => {
    const p = prefix();
    const points = records(3).flatMap((r) => mapperFor(p).recordPoints(r));
    const put = openTsdbPut({ url: vm.opentsdbUrl, timeoutMs: 10_000, sync: true });
    await put(points);
    await put(points.slice(0, 200));
    await put(points);
    expect(await vm.count(p)).toBe(points.length);
    expect(await stored(vm, p)).toEqual(expected(points));
  });

  it('stores what the config-built target maps, names replaced where OpenTSDB would refuse them', async () => {
    const p = prefix();
    const config = loadConfig(opentsdbWriterConfigSchema, {
      OPENTSDB_URL: vm.opentsdbUrl,
      OPENTSDB_METRIC_TEMPLATE: `${p}.{equipment}.{field}`,
    });
    const target = createOpenTsdbTarget(config, logger);
    const record: ParsedRecord = {
      ...SAMPLE_RECORDS[0]!,
      device: 'inv 1',
      fields: { 'temp (°C)': 21.5, 온도: 22.25 },
      flags: { run: true },
      quality: { 'temp (°C)': ['bad', 'stale'] },
    };
    expect(await target.write(target.recordPoints(record))).toBeUndefined();
    const series = await vm.export(p);
    expect(new Map(series.map((s) => [seriesKey(s.metric), samplesOf(s).get(T0)]))).toEqual(
      new Map([
        [`${p}.battery.temp___C_{device=inv_1,site=000001}`, 21.5],
        [`${p}.battery.온도{device=inv_1,site=000001}`, 22.25],
        [`${p}.battery.run{device=inv_1,site=000001}`, 1],
        [`${p}.battery.temp___C___quality{device=inv_1,site=000001}`, 2 + 8],
      ]),
    );
    await target.close();
  });

  it('is answered 204 without details, and a datapoint VictoriaMetrics cannot read is dropped silently', async () => {
    // Why the writer checks every datapoint itself: VictoriaMetrics refuses nothing per point.
    const p = prefix();
    const body = JSON.stringify([
      { metric: `${p}.ok`, timestamp: T0, value: 1, tags: { site: 's' } },
      { metric: `${p}.bad`, timestamp: T0, value: 'x', tags: { site: 's' } },
    ]);
    const response = await fetch(`${vm.opentsdbUrl}/api/put?details`, { method: 'POST', body });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect((await vm.export(p)).map((s) => s.metric.__name__)).toEqual([`${p}.ok`]);
  });
});

describe('OpenTSDB target, server failures', () => {
  let own: VictoriaMetrics | undefined;
  afterAll(async () => {
    await own?.destroy();
  });

  it('throws retriable errors while the server is down or hung, and writes once it is back', async () => {
    own = await VictoriaMetrics.private('otsdb-target-outage');
    const p = prefix();
    const points = records(2).flatMap((r) => mapperFor(p).recordPoints(r));
    const put = openTsdbPut({ url: own.opentsdbUrl, timeoutMs: 1_500, sync: true });

    await own.stop();
    const refused = await put(points).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SinkWriteError);
    expect(refused).toMatchObject({ retriable: true, status: 'ECONNREFUSED' });

    await own.start();
    const pid = Number(
      execFileSync(resolve(import.meta.dirname, '../../../deploy/local/victoriametrics.sh'), ['pid'], {
        env: { ...process.env, VM_INSTANCE: 'otsdb-target-outage' },
      }).toString(),
    );
    process.kill(pid, 'SIGSTOP');
    try {
      const hung = await put(points).catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(SinkWriteError);
      expect(hung).toMatchObject({
        retriable: true,
        message: expect.stringContaining('no answer within 1500 ms'),
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await put(points)).toBeUndefined();
    expect(await stored(own, p)).toEqual(expected(points));
    await own.destroy();
    own = undefined;
  });

  it('sends basic auth; a wrong password is retried, never dead-lettered', async () => {
    own = await VictoriaMetrics.private('otsdb-target-auth', {
      extraArgs: '-httpAuth.username=writer -httpAuth.password=s3cr3t',
      username: 'writer',
      password: 's3cr3t',
    });
    const p = prefix();
    const points = records(1).flatMap((r) => mapperFor(p).recordPoints(r));
    const wrong = openTsdbPut({
      url: own.opentsdbUrl,
      timeoutMs: 5_000,
      sync: true,
      username: 'writer',
      password: 'nope',
    });
    expect(await wrong(points).catch((e: unknown) => e)).toMatchObject({ retriable: true, status: 401 });
    const right = openTsdbPut({
      url: own.opentsdbUrl,
      timeoutMs: 5_000,
      sync: true,
      username: 'writer',
      password: 's3cr3t',
    });
    expect(await right(points)).toBeUndefined();
    expect(await own.count(p)).toBe(points.length);
    await own.destroy();
    own = undefined;
  });

  it('has a request the server refuses split until only the datapoint it refuses alone is left', async () => {
    // VictoriaMetrics refuses a request body over -opentsdbhttp.maxInsertRequestSize with a 400: the one
    // refusal it has. A datapoint bigger than the limit is refused on its own.
    own = await VictoriaMetrics.private('otsdb-target-limit', {
      extraArgs: '-opentsdbhttp.maxInsertRequestSize=2000',
    });
    const p = prefix();
    const mapper = mapperFor(p);
    const good = records(2).flatMap((r) => mapper.recordPoints(r));
    const tooBig: OpenTsdbDatapoint = {
      metric: `${p}.battery.x`,
      timestamp: T0,
      value: 1,
      tags: { site: 's'.repeat(2_000) },
    };
    const points = [...good.slice(0, 40), tooBig, ...good.slice(40)];
    const put = openTsdbPut({ url: own.opentsdbUrl, timeoutMs: 5_000, sync: true });

    const whole = await put(points).catch((e: unknown) => e);
    expect(whole).toMatchObject({ retriable: false, status: 400 });
    expect((whole as SinkWriteError).serverMessage).toMatch(
      /too big data size exceeding -opentsdbhttp.maxInsertRequestSize=2000 bytes/,
    );

    const items = points.map((point, i) => ({ point, ref: i }));
    const rejected = await writeWithSplit(put, items);
    expect(rejected.map((r) => r.ref)).toEqual([40]);
    expect(rejected[0]!.message).toMatch(/too big data size/);
    expect(await stored(own, p)).toEqual(expected(good));
    await own.destroy();
    own = undefined;
  });
});
