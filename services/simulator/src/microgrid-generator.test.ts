import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MicrogridMessageSchema } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { gatewayJson } from './gateway-json.js';
import { createMicrogridSite, expectedRecordCount, REFERENCE_SITE_SHAPE } from './microgrid-generator.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk generated JSON at arbitrary depths.
type Json = Record<string, any>;
const parse = (buf: Buffer) => JSON.parse(buf.toString('utf8')) as Json;
const T0 = Date.parse('2023-06-09T11:34:06Z'); // 20:34:06 in Seoul, the reference message's time

// The reference message as the gateway sent it, minus its one stray control byte (see SOURCE.md).
const reference = JSON.parse(
  readFileSync(
    resolve(import.meta.dirname, '../../../../shared/reference/microgrid/sample.json'),
    'latin1',
  ).replace('\u0008', ''),
) as Json;

/** Counts what the parser turns into records: one per device instance plus one per rack. */
function countRecords(msg: Json): number {
  let n = 0;
  for (const group of Object.values(msg.FieldDeviceLayer as Record<string, Json>)) {
    for (const inst of group.service as Json[]) {
      n += 1;
      if (Array.isArray(inst.racks)) n += inst.racks.length;
      else if (inst.racks) n += 1;
    }
  }
  return n;
}

const keysOf = (o: Json) => Object.keys(o);

describe('createMicrogridSite', () => {
  it('produces valid JSON in the shape of the reference message', () => {
    const site = createMicrogridSite({ siteId: '000001', seed: 1 });
    const msg = parse(site.next(new Date(T0), 'Asia/Seoul'));
    expect(MicrogridMessageSchema.safeParse(msg).success).toBe(true);
    expect(keysOf(msg)).toEqual(keysOf(reference));
    expect(keysOf(msg.header)).toEqual(keysOf(reference.header));
    expect(keysOf(msg.EnergyPlatformLayer)).toEqual(keysOf(reference.EnergyPlatformLayer));
    expect(keysOf(msg.FieldDeviceLayer)).toEqual([
      'field1',
      'field2',
      'field3',
      'field4',
      'field5',
      'field6',
    ]);
    expect(msg.etc).toEqual(reference.etc);
    for (const field of keysOf(reference.FieldDeviceLayer)) {
      const ours = msg.FieldDeviceLayer[field];
      const theirs = reference.FieldDeviceLayer[field];
      expect(keysOf(ours), field).toEqual(keysOf(theirs));
      expect(ours.Name).toBe(theirs.Name);
      expect(ours.component).toEqual(theirs.component);
      expect(ours.role).toEqual(theirs.role);
      expect(ours.id).toEqual(theirs.id);
      // Same readings, flags and key order per instance, including the transformers' differing key sets.
      expect(ours.service.map(keysOf), field).toEqual(theirs.service.map(keysOf));
      for (const [i, inst] of (theirs.service as Json[]).entries()) {
        for (const [key, value] of Object.entries(inst)) {
          if (key === 'racks') continue;
          expect(typeof ours.service[i][key], `${field}[${i}].${key}`).toBe(typeof value);
        }
      }
    }
    const battery = msg.FieldDeviceLayer.field1.service[0];
    expect(battery.id).toBe('01');
    expect(keysOf(battery.racks)).toEqual(keysOf(reference.FieldDeviceLayer.field1.service[0].racks));
  });

  it('writes readings as floats and ids as integers, like the gateway', () => {
    const text = createMicrogridSite({ siteId: '000001', seed: 1 })
      .next(new Date(T0), 'Asia/Seoul')
      .toString();
    expect(text).toContain('"index": 1,');
    expect(text).toContain('"total_racks": 1,');
    expect(text).toContain('"EnergyPlatformLayer": 1,');
    expect(text).toContain('"CTRATIO": 600.0');
    expect(text).toMatch(/"FAULT1": 0\.0/);
    expect(gatewayJson({ a: 1, index: 2, b: [3.5, -0], c: 'x"y', d: true, e: null })).toBe(
      '{"a": 1.0, "index": 2, "b": [3.5, 0.0], "c": "x\\"y", "d": true, "e": null}',
    );
  });

  it('has the configured device counts and rack shapes', () => {
    const shape = {
      batteries: 2,
      racksPerBattery: 4,
      converters: 1,
      inverters: 3,
      transformers: 3,
      pvs: 2,
      evChargers: 0,
    };
    const site = createMicrogridSite({ siteId: '000007', seed: 3, ...shape });
    const msg = parse(site.next(new Date(T0), 'Asia/Seoul'));
    const f = msg.FieldDeviceLayer;
    expect(f.field1.service.map((b: Json) => b.id)).toEqual(['01', '02']);
    expect(f.field1.id).toEqual({ id1: '01', id2: '02' });
    for (const b of f.field1.service) {
      expect(b.total_racks).toBe(4);
      expect(b.racks.map((r: Json) => r.index)).toEqual([1, 2, 3, 4]);
    }
    expect(f.field2.service).toHaveLength(1);
    expect(f.field3.service.map((d: Json) => d.index)).toEqual([1, 2, 3]);
    expect(f.field4.service).toHaveLength(3);
    // Odd and even transformers are different meters with different key sets.
    expect(keysOf(f.field4.service[0])).not.toEqual(keysOf(f.field4.service[1]));
    expect(keysOf(f.field4.service[0])).toEqual(keysOf(f.field4.service[2]));
    expect(f.field5.service).toHaveLength(2);
    expect(f.field6.service).toEqual([]);
    expect(countRecords(msg)).toBe(expectedRecordCount(shape));
    expect(expectedRecordCount(shape)).toBe(2 * 5 + 1 + 3 + 3 + 2 + 0);
    expect(expectedRecordCount({})).toBe(countRecords(reference));
    expect(REFERENCE_SITE_SHAPE.batteries).toBe(reference.FieldDeviceLayer.field1.service.length);
  });

  it('stamps the wall-clock time of the site zone', () => {
    const site = createMicrogridSite({ siteId: '000001', seed: 1 });
    expect(parse(site.next(new Date(T0), 'Asia/Seoul')).header.timestamp).toBe('2023-06-09 20:34:06');
    expect(parse(site.next(new Date(T0), 'UTC')).header.timestamp).toBe('2023-06-09 11:34:06');
    // Summer time: Berlin is UTC+2 in June.
    expect(parse(site.next(new Date(T0), 'Europe/Berlin')).header.timestamp).toBe('2023-06-09 13:34:06');
    const withMs = createMicrogridSite({ siteId: '000001', seed: 1, timestampPrecision: 'ms' });
    expect(parse(withMs.next(new Date(T0 + 45), 'Asia/Seoul')).header.timestamp).toBe(
      '2023-06-09 20:34:06.045',
    );
    const pv = parse(site.next(new Date(T0), 'Asia/Seoul')).FieldDeviceLayer.field5.service[0];
    expect(pv.SystemDate_YYYYMMDD).toBe(20230609);
    expect(pv.SystemHours_HHMMSS).toBe(203406);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const site = createMicrogridSite({ siteId: '000001', seed, racksPerBattery: 2 });
      return Array.from({ length: 50 }, (_, i) =>
        site.next(new Date(T0 + i * 1_000), 'Asia/Seoul').toString('hex'),
      );
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });

  it('moves values plausibly over a simulated day', () => {
    const site = createMicrogridSite({ siteId: '000001', seed: 5 });
    const start = Date.parse('2023-06-08T15:00:00Z'); // midnight in Seoul
    let prev: Json | undefined;
    const pvByHour = new Map<number, number>();
    let sawCharge = false;
    let sawDischarge = false;
    for (let minute = 0; minute < 24 * 60; minute++) {
      const msg = parse(site.next(new Date(start + minute * 60_000), 'Asia/Seoul'));
      const f = msg.FieldDeviceLayer;
      for (const [i, b] of (f.field1.service as Json[]).entries()) {
        expect(b.soc).toBeGreaterThanOrEqual(0);
        expect(b.soc).toBeLessThanOrEqual(100);
        expect(b.charge && b.discharge).toBe(false);
        expect(b.run).toBe(!b.stop);
        sawCharge ||= b.charge;
        sawDischarge ||= b.discharge;
        if (b.charge) expect(b.dc_current).toBeLessThan(0);
        if (b.discharge) expect(b.dc_current).toBeGreaterThan(0);
        const before = prev?.FieldDeviceLayer.field1.service[i];
        // SOC follows the current: it only falls while discharging and only rises while charging.
        if (before?.discharge && b.discharge) expect(b.soc).toBeLessThanOrEqual(before.soc + 0.11);
        if (before?.charge && b.charge) expect(b.soc).toBeGreaterThanOrEqual(before.soc - 0.11);
        if (before) expect(Math.abs(b.soc - before.soc)).toBeLessThan(1);
      }
      const pv = f.field5.service[0];
      if (minute % 60 === 0) pvByHour.set(minute / 60, pv.AC_Power);
      if (prev) {
        expect(pv.CumulativePowerGeneration).toBeGreaterThanOrEqual(
          prev.FieldDeviceLayer.field5.service[0].CumulativePowerGeneration,
        );
      }
      prev = msg;
    }
    expect(sawCharge && sawDischarge).toBe(true);
    // Dark at night, producing around local noon.
    expect(pvByHour.get(1)).toBe(0);
    expect(pvByHour.get(23)).toBe(0);
    expect(pvByHour.get(12)!).toBeGreaterThan(5);
  });

  it('rejects impossible shapes', () => {
    expect(() => createMicrogridSite({ siteId: 'x', seed: 1, racksPerBattery: 0 })).toThrow(
      /racksPerBattery/,
    );
    expect(() => createMicrogridSite({ siteId: 'x', seed: 1, batteries: -1 })).toThrow(/batteries/);
  });
});
