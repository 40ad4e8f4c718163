import { resolve } from 'node:path';
import type { Sample } from '@gridstream/schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeRegisters } from './codec.js';
import { decodeRead } from './decode-read.js';
import { loadProfile } from './load-profile.js';
import { planDeviceReads } from './plan-reads.js';
import type { DeviceProfile } from './profile-schema.js';
import { toSamples } from './to-samples.js';

/**
 * Golden table for the ESS profile: raw input-register words as the device would hold them -> the
 * engineering values gridstream stores. It runs the whole poll path (read plan, per-read decode, samples)
 * over a register image, so it checks the profile, the decoder and the planner together. Expected values
 * are the literal decimals an operator reads on the device display, compared exactly.
 */
const PROFILE = resolve(import.meta.dirname, '..', '..', '..', 'sample', 'profiles', 'ess-sionyu.yaml');

interface Golden {
  what: string;
  /** Register address -> word, as on the wire. */
  words: Record<number, number>;
  rack?: string;
  equipment?: string;
  field: string;
  expected: number | 'bad';
  outOfRange?: boolean;
}

const GOLDEN: Golden[] = [
  // UInt16 above 32767: the replaced system's blanket two's complement made this -2553.6 V.
  { what: 'bank voltage, UInt16 above 32767', words: { 2: 40000 }, field: 'voltage', expected: 4000 },
  { what: 'bank SOC, scale 0.1', words: { 0: 0x0357 }, field: 'soc', expected: 85.5 },
  { what: 'bank current, negative Int16', words: { 3: 0xff9c }, field: 'current', expected: -10 },
  { what: 'bank power, negative Int16', words: { 8: 0x8000 }, field: 'power', expected: -3276.8 },
  { what: 'max cell voltage, scale 0.001', words: { 4: 3301 }, field: 'max_cell_voltage', expected: 3.301 },
  {
    what: 'min cell temperature below zero',
    words: { 7: 0xffd8 },
    field: 'min_cell_temperature',
    expected: -4,
  },
  {
    what: 'rack 1 current, negative Int16',
    words: { 12: 0xfc18 },
    rack: '1',
    field: 'current',
    expected: -100,
  },
  { what: 'rack 8 SOH', words: { 122: 998 }, rack: '8', field: 'soh', expected: 99.8 },
  {
    what: 'rack 3 max cell voltage position',
    words: { 46: 40001 },
    rack: '3',
    field: 'max_cell_voltage_position',
    expected: 40001,
  },
  {
    what: 'PCS AC frequency, scale 0.01',
    words: { 508: 5999 },
    equipment: 'pcs',
    field: 'ac_frequency',
    expected: 59.99,
  },
  {
    what: 'PCS L1 current, negative, 0.01',
    words: { 517: 0xff38 },
    equipment: 'pcs',
    field: 'ac_l1_current',
    expected: -2,
  },
  {
    what: 'PCS AC current, int32 low word first',
    words: { 510: 0x1dc0, 511: 0xfffe },
    equipment: 'pcs',
    field: 'ac_current',
    expected: -1234.56,
  },
  {
    what: 'PCS discharge energy, uint32 above 2^31, low word first',
    words: { 522: 0x5e00, 523: 0xb2d0 },
    equipment: 'pcs',
    field: 'ac_accumulated_discharge_energy',
    expected: 300000000,
  },
  {
    what: 'PCS set power, negative = charge',
    words: { 584: 0xfe0c },
    equipment: 'pcs',
    field: 'set_power',
    expected: -500,
  },
  {
    what: 'sensor temperature',
    words: { 600: 253 },
    equipment: 'sensor',
    field: 'sensor1_temperature',
    expected: 25.3,
  },
  // 512.25 = 0x44001000; low word first puts 0x1000 at 602. Read as ABCD it would be 2.5e-29.
  {
    what: 'inverter active power, Float32 CDAB',
    words: { 602: 0x1000, 603: 0x4400 },
    equipment: 'sensor',
    field: 'inv1_active_power',
    expected: 512.25,
  },
  {
    what: 'inverter cumulative energy, Float32 CDAB',
    words: { 604: 0x2040, 605: 0x47f1 },
    equipment: 'sensor',
    field: 'inv1_cumulative_power_generation',
    expected: 123456.5,
  },
  // Out of range: kept, and flagged.
  {
    what: 'rack temperature gap below its range 0..65535',
    words: { 23: 0xfff6 },
    rack: '1',
    field: 'cell_temperature_gap',
    expected: -1,
    outOfRange: true,
  },
  {
    what: 'BMS2 status outside 0..3',
    words: { 230: 7 },
    field: 'status_for_charge',
    expected: 7,
    outOfRange: true,
  },
  {
    what: 'active power above 6553.5 kW',
    words: { 602: 0x0000, 603: 0x45cd }, // 6560.0
    equipment: 'sensor',
    field: 'inv1_active_power',
    expected: 6560,
    outOfRange: true,
  },
  // Garbage float registers: NaN is not a reading.
  {
    what: 'NaN float',
    words: { 602: 0x0000, 603: 0x7fc0 },
    equipment: 'sensor',
    field: 'inv1_active_power',
    expected: 'bad',
  },
];

let profile: DeviceProfile;
beforeAll(async () => {
  profile = (await loadProfile(PROFILE)).profile;
});

/** One poll of a device whose registers hold `image` (0 elsewhere). */
function poll(image: Record<number, number>): Sample[] {
  const readings = planDeviceReads(profile).flatMap((read) => {
    const data = Array.from({ length: read.count }, (_, i) => image[read.address + i] ?? 0);
    return decodeRead(read, data);
  });
  return toSamples(profile.site, readings, new Date('2024-01-02T03:04:05.000Z'));
}

describe('ESS golden values', () => {
  for (const g of GOLDEN) {
    it(g.what, () => {
      const samples = poll(g.words);
      const equipment = g.equipment ?? 'battery';
      const sample = samples.find((s) => s.equipment === equipment && s.rack === g.rack);
      expect(sample).toBeDefined();
      if (g.expected === 'bad') {
        expect(sample!.fields[g.field]).toBeUndefined();
        expect(sample!.quality?.[g.field]).toEqual(['bad']);
        return;
      }
      expect(sample!.fields[g.field]).toBe(g.expected);
      expect(sample!.quality?.[g.field]).toEqual(g.outOfRange ? ['out_of_range'] : undefined);
    });
  }

  it('the float words above are what encodeRegisters produces for CDAB', () => {
    expect(encodeRegisters(512.25, 'float32', 'CDAB')).toEqual([0x1000, 0x4400]);
    expect(encodeRegisters(123456.5, 'float32', 'CDAB')).toEqual([0x2040, 0x47f1]);
    expect(encodeRegisters(-123456, 'int32', 'CDAB')).toEqual([0x1dc0, 0xfffe]);
  });

  it('one poll yields bank, 8 racks, PCS and sensor samples stamped with the read time', () => {
    const samples = poll({});
    expect(samples.map((s) => `${s.equipment}/${s.device}/${s.rack ?? ''}`)).toEqual([
      'battery/bank/',
      'battery/bank/1',
      'battery/bank/2',
      'battery/bank/3',
      'battery/bank/4',
      'battery/bank/5',
      'battery/bank/6',
      'battery/bank/7',
      'battery/bank/8',
      'pcs/pcs/',
      'sensor/etc/',
    ]);
    for (const s of samples) expect(s).toMatchObject({ site: 'sionyu', ts: '2024-01-02T03:04:05.000Z' });
    const fields = samples.reduce((n, s) => n + Object.keys(s.fields).length, 0);
    expect(fields).toBe(profile.points.length);
  });
});
