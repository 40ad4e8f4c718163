import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EssRow, essFieldName, essUnit, parseCsv } from './ess-reference.fixture.js';
import { loadProfile } from './load-profile.js';
import { planDeviceReads } from './plan-reads.js';
import type { DeviceProfile, ProfilePoint } from './profile-schema.js';

/**
 * The shipped ESS profile, checked row by row against the register map it was made from, so neither can
 * drift without a test failing. Read inside the tests: a missing reference file must FAIL, never skip.
 */
const REPO = resolve(import.meta.dirname, '..', '..', '..');
const PROFILE = resolve(REPO, 'sample', 'profiles', 'ess-sionyu.yaml');
const CSV = resolve(REPO, '..', 'shared', 'reference', 'ess-modbus', 'register_map_operation1_derived.csv');

/** Where the profile deliberately differs from the CSV, and why (also in docs/device-profiles.md). */
const JOINED_32: Record<number, { name: string; type: string }> = {
  // The spec's low/high word rows of one 32-bit value are one point, low word first.
  510: { name: 'ac_current', type: 'int32' },
  522: { name: 'ac_accumulated_discharge_energy', type: 'uint32' },
  524: { name: 'ac_accumulated_charge_energy', type: 'uint32' },
};
const SECOND_WORDS = new Set([511, 523, 525, 603]);
/** The replaced code's 0.001 belonged to its one-word integer misreading of the floats. */
const FLOAT_SCALE = 1;
/** A lifetime energy counter outgrows 6553.5 kWh: only the lower bound is kept. */
const RANGE_OVERRIDES: Record<number, { min?: number; max?: number }> = { 604: { min: 0 } };

let cached: { profile: DeviceProfile; warnings: string[]; rows: EssRow[] } | undefined;
async function load() {
  cached ??= { ...(await loadProfile(PROFILE)), rows: parseCsv(readFileSync(CSV, 'utf8')) };
  return cached;
}

function placement(row: EssRow): Pick<ProfilePoint, 'equipment' | 'device' | 'rack'> {
  if (row.table === 'pcs') return { equipment: 'pcs', device: 'pcs' };
  if (row.table === 'etc') return { equipment: 'sensor', device: 'etc' };
  return row.rack === undefined
    ? { equipment: 'battery', device: 'bank' }
    : { equipment: 'battery', device: 'bank', rack: row.rack };
}

describe('sample/profiles/ess-sionyu.yaml', () => {
  it('loads without warnings: unit 1, polled every second', async () => {
    const { profile, warnings } = await load();
    expect(warnings).toEqual([]);
    expect(profile).toMatchObject({
      name: 'ess-sionyu',
      unitId: 1,
      pollIntervalMs: 1000,
      maxRegistersPerRead: 125,
    });
  });

  it('covers every register of the map exactly once, and nothing else', async () => {
    const { profile, rows } = await load();
    expect(rows).toHaveLength(497);
    const expected = new Set<number>();
    for (const row of rows) for (let a = row.address; a < row.address + row.words; a++) expected.add(a);
    expect(expected.size).toBe(498); // 0..136, 200..465, 500..588, 600..605
    const covered = new Map<number, string>();
    for (const p of profile.points) {
      expect(p.function).toBe('input');
      for (let a = p.address; a < p.address + p.words; a++) {
        expect(covered.has(a), `register ${a} twice`).toBe(false);
        covered.set(a, p.name);
      }
    }
    expect([...covered.keys()].sort((x, y) => x - y)).toEqual([...expected].sort((x, y) => x - y));
  });

  it('matches the map row by row: name, type, scale, unit, range and record', async () => {
    const { profile, rows } = await load();
    const byAddress = new Map(profile.points.map((p) => [p.address, p]));
    let checked = 0;
    for (const row of rows) {
      if (SECOND_WORDS.has(row.address)) {
        expect(byAddress.has(row.address), `${row.address} is the second word of a 32-bit value`).toBe(false);
        continue;
      }
      const p = byAddress.get(row.address);
      const label = `${row.address} ${row.column}`;
      expect(p, label).toBeDefined();
      const joined = JOINED_32[row.address];
      const isFloat = row.type === 'Float32';
      expect(p!.name, label).toBe(joined?.name ?? essFieldName(row));
      expect(p!.type, label).toBe(joined?.type ?? row.type.toLowerCase());
      expect(p!.scale, label).toBe(isFloat ? FLOAT_SCALE : row.scale);
      expect(p!.offset, label).toBe(0);
      expect(p!.unit, label).toBe(essUnit(row));
      const csvRange =
        row.rangeMin === undefined && row.rangeMax === undefined
          ? undefined
          : { min: row.rangeMin, max: row.rangeMax };
      expect(p!.range, label).toEqual(RANGE_OVERRIDES[row.address] ?? csvRange);
      const where = placement(row);
      expect({ equipment: p!.equipment, device: p!.device, rack: p!.rack }, label).toEqual({
        rack: undefined,
        ...where,
      });
      checked++;
    }
    expect(checked).toBe(profile.points.length);
  });

  it('keeps UInt16 unsigned, Int16 signed, and reads every 32-bit value low word first (CDAB)', async () => {
    const { profile } = await load();
    const at = (a: number) => profile.points.find((p) => p.address === a)!;
    expect(at(2)).toMatchObject({ name: 'voltage', type: 'uint16' });
    expect(at(3)).toMatchObject({ name: 'current', type: 'int16' });
    expect(at(602)).toMatchObject({ name: 'inv1_active_power', type: 'float32', order: 'CDAB', words: 2 });
    expect(at(604)).toMatchObject({
      name: 'inv1_cumulative_power_generation',
      type: 'float32',
      order: 'CDAB',
    });
    for (const p of profile.points.filter((q) => q.words === 2)) expect(p.order, p.name).toBe('CDAB');
  });

  it('gives the bank and all 8 racks the same names for the same quantities', async () => {
    const { profile } = await load();
    const names = (rack?: string) =>
      profile.points.filter((p) => p.equipment === 'battery' && p.rack === rack).map((p) => p.name);
    const rack1 = names('1');
    expect(rack1).toHaveLength(16 + 29);
    for (const rack of ['2', '3', '4', '5', '6', '7', '8'])
      expect(names(rack), `rack ${rack}`).toEqual(rack1);
    const bank = names(undefined);
    for (const shared of [
      'soc',
      'soh',
      'voltage',
      'current',
      'max_cell_voltage',
      'min_cell_voltage',
      'max_cell_temperature',
      'min_cell_temperature',
      'status_for_run',
      'status_for_fault',
      'status_for_warning',
      'temperature_imbalance_warning',
      'over_current_discharge_fault',
      'tray_rack_communication_fault',
    ]) {
      expect(bank, shared).toContain(shared);
      expect(rack1, shared).toContain(shared);
    }
    for (const name of profile.points.map((p) => p.name)) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('is read in seven requests of at most 125 registers', async () => {
    const { profile } = await load();
    expect(planDeviceReads(profile).map((r) => [r.address, r.count])).toEqual([
      [0, 125],
      [125, 12],
      [200, 125],
      [325, 125],
      [450, 16],
      [500, 89],
      [600, 6],
    ]);
  });
});
