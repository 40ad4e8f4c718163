import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiverKey } from './archive-keys.js';
import { runQuery } from './query-runner.js';
import { type FixtureRow, writeFixtureFile } from './test-archive.fixture.js';
import { toolsEnvSchema } from './tools-env.js';

/**
 * The example queries of docs/queries run through the DuckDB engine over a known archive; each expected
 * aggregate is computed here from the generated readings, independently of SQL.
 */

const QUERIES = resolve(import.meta.dirname, '../../../docs/queries');
const TOPIC = 'telemetry.parsed';
let dir: string;
const rows: FixtureRow[] = [];
let offset = 0;

function add(r: Omit<FixtureRow, 'partition' | 'offset'>, partition = 0): void {
  rows.push({ ...r, partition, offset: offset++ });
}

const ts = (day: string, minutes: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + minutes * 60_000).toISOString();

// PV: counter readings every 15 minutes from 06:00 to 18:00, increments in quarters (exact in binary).
const pvStart: Record<string, number> = { 'alpha/1': 1000, 'alpha/2': 5000.5, 'beta/1': 200 };
const expectedEnergy = new Map<string, number>();
for (const day of ['2024-03-01', '2024-03-02', '2024-04-01']) {
  for (const [key, start] of Object.entries(pvStart)) {
    const [site, device] = key.split('/') as [string, string];
    let counter = start + (day === '2024-03-02' ? 500 : day === '2024-04-01' ? 900 : 0);
    for (let m = 6 * 60; m <= 18 * 60; m += 15) {
      const step = ((m / 15) % 4) * 0.25 + (site === 'beta' ? 0.5 : 1);
      counter += step;
      add({
        ts: ts(day, m),
        site,
        equipment: 'pv',
        device,
        field: 'CumulativePowerGeneration',
        value: counter,
      });
      add({ ts: ts(day, m), site, equipment: 'pv', device, field: 'AC_Power', value: step * 4 });
    }
    // A glitch flagged by the collector: must not become a day's energy.
    add({
      ts: ts(day, 12 * 60 + 7),
      site,
      equipment: 'pv',
      device,
      field: 'CumulativePowerGeneration',
      value: 0,
      quality: 'out_of_range',
    });
  }
}
// Per inverter and day: last minus first good reading; per site: the sum over its inverters.
for (const day of ['2024-03-01', '2024-03-02']) {
  for (const site of ['alpha', 'beta']) {
    const perDevice = new Map<string, number[]>();
    for (const r of rows) {
      if (r.site !== site || r.equipment !== 'pv' || r.field !== 'CumulativePowerGeneration') continue;
      if (r.quality || !r.ts.startsWith(day)) continue;
      const list = perDevice.get(r.device) ?? [];
      list.push(r.value);
      perDevice.set(r.device, list);
    }
    let total = 0;
    for (const values of perDevice.values()) total += Math.max(...values) - Math.min(...values);
    expectedEnergy.set(`${site}|${day}`, total);
  }
}

// Battery: rack SOC every 10 minutes, 09:00–11:59 on 2024-03-01; bank-level soc must be ignored.
const expectedSoc = new Map<string, { min: number; max: number; n: number }>();
for (const rack of ['1', '2']) {
  for (let m = 9 * 60; m < 12 * 60; m += 10) {
    const soc = 50 + ((m * (rack === '1' ? 7 : 3)) % 23) * 0.5;
    add(
      {
        ts: ts('2024-03-01', m),
        site: 'alpha',
        equipment: 'battery',
        device: '01',
        rack,
        field: 'soc',
        value: soc,
      },
      1,
    );
    const hour = `2024-03-01 ${String(Math.floor(m / 60)).padStart(2, '0')}:00:00.000`;
    const k = `${rack}|${hour}`;
    const e = expectedSoc.get(k) ?? { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, n: 0 };
    expectedSoc.set(k, { min: Math.min(e.min, soc), max: Math.max(e.max, soc), n: e.n + 1 });
  }
}
add(
  { ts: ts('2024-03-01', 600), site: 'alpha', equipment: 'battery', device: '01', field: 'soc', value: 1 },
  1,
);

// Faults: flag sequences per sub-unit, spanning the day boundary; a numeric field named fault is noise.
const faultSeries: { equipment: string; device: string; rack?: string; values: number[] }[] = [
  { equipment: 'battery', device: '01', rack: '1', values: [1, 1, 0, 1, 0, 0, 1, 1, 1, 0] },
  { equipment: 'battery', device: '01', rack: '2', values: [0, 0, 1, 0, 0, 0, 0, 0, 1, 1] },
  { equipment: 'pcs', device: 'pcs', values: [0, 1, 0, 1, 0, 1, 0, 0, 0, 0] },
];
const expectedFaults = new Map<string, { events: number; samples: number; readings: number }>();
for (const s of faultSeries) {
  s.values.forEach((v, i) => {
    // 5 readings on each day: 20:00.. on 03-01 and 00:00.. on 03-02 (evening → morning).
    const day = i < 5 ? '2024-03-01' : '2024-03-02';
    const minutes = i < 5 ? 20 * 60 + i * 30 : (i - 5) * 30;
    add(
      {
        ts: ts(day, minutes),
        site: 'alpha',
        equipment: s.equipment,
        device: s.device,
        rack: s.rack ?? null,
        field: 'fault',
        value: v,
        isFlag: true,
      },
      2,
    );
    const k = `${s.equipment}|${s.device}|${day}`;
    const e = expectedFaults.get(k) ?? { events: 0, samples: 0, readings: 0 };
    const rising = v === 1 && (i === 0 || s.values[i - 1] === 0);
    expectedFaults.set(k, {
      events: e.events + (rising ? 1 : 0),
      samples: e.samples + v,
      readings: e.readings + 1,
    });
  });
}
add(
  { ts: ts('2024-03-01', 100), site: 'alpha', equipment: 'inverter', device: '1', field: 'fault', value: 1 },
  2,
);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-queries-'));
  // Archiver layout: per dt and Kafka partition, split into files of consecutive offsets.
  const groups = new Map<string, FixtureRow[]>();
  for (const r of rows) {
    const key = `${r.ts.slice(0, 10)}|${r.partition}|${Math.floor(r.offset / 200)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, list] of groups) {
    const [dt, partition] = key.split('|') as [string, string];
    const first = BigInt(list[0]!.offset);
    const last = BigInt(list[list.length - 1]!.offset);
    await writeFixtureFile(dir, archiverKey(dt, TOPIC, Number(partition), first, last), list);
  }
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(file: string) {
  const sql = await readFile(join(QUERIES, file), 'utf8');
  const env = toolsEnvSchema.parse({ ARCHIVE_DIR: dir });
  return (await runQuery(env, { sql, engine: 'duckdb' })).result;
}

describe('docs/queries on the duckdb engine', () => {
  it('daily energy per site: max - min of each inverter counter per UTC day, summed per site', async () => {
    const result = await run('daily-energy-per-site.sql');
    expect(result.columns).toEqual(['site', 'utc_day', 'energy_kwh', 'inverters']);
    const expected = [...expectedEnergy.entries()]
      .map(([k, kwh]) => {
        const [site, day] = k.split('|') as [string, string];
        return [site, day, String(Math.round(kwh * 1000) / 1000), site === 'alpha' ? '2' : '1'];
      })
      .sort((a, b) => (a[0]! + a[1]!).localeCompare(b[0]! + b[1]!));
    expect(result.rows).toEqual(expected);
    // The April day is outside the query's dt range; the flagged 0 reading did not count.
    expect(result.rows.every((r) => Number(r[2]) > 0 && Number(r[2]) < 500)).toBe(true);
  });

  it('battery SOC min/max per rack per hour, bank-level soc excluded', async () => {
    const result = await run('battery-soc-per-rack-hourly.sql');
    expect(result.columns).toEqual([
      'site',
      'device',
      'rack',
      'hour_start',
      'soc_min',
      'soc_max',
      'readings',
    ]);
    const expected = [...expectedSoc.entries()]
      .map(([k, e]) => {
        const [rack, hour] = k.split('|') as [string, string];
        return ['alpha', '01', rack, hour, String(e.min), String(e.max), String(e.n)];
      })
      .sort((a, b) => (a[2]! + a[3]!).localeCompare(b[2]! + b[3]!));
    expect(result.rows).toEqual(expected);
    expect(result.rows).toHaveLength(6);
  });

  it('faults per device per day: rising edges across the day boundary, per rack, summed per device', async () => {
    const result = await run('faults-per-device-daily.sql');
    expect(result.columns).toEqual([
      'site',
      'equipment',
      'device',
      'utc_day',
      'fault_events',
      'fault_samples',
      'readings',
    ]);
    const merged = new Map<string, { events: number; samples: number; readings: number }>();
    for (const [k, e] of expectedFaults) merged.set(k, e);
    const expected = [...merged.entries()]
      .map(([k, e]) => {
        const [equipment, device, day] = k.split('|') as [string, string, string];
        return ['alpha', equipment, device, day, String(e.events), String(e.samples), String(e.readings)];
      })
      .sort((a, b) => a.join('|').localeCompare(b.join('|')));
    expect(result.rows).toEqual(expected);
    // Spot check of the hand-countable case: battery 01 racks 1+2 on 03-01 → rack1 [1,1,0,1,0] = 2 events,
    // rack2 [0,0,1,0,0] = 1 event; 3 + 1 readings in fault.
    expect(result.rows.find((r) => r[1] === 'battery' && r[3] === '2024-03-01')?.slice(4)).toEqual([
      '3',
      '4',
      '10',
    ]);
  });
});
