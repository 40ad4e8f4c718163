import type { ParsedRecord } from '@gridstream/schema';

/**
 * Records for archive tests (test data only): several sites, devices with and without racks, days that
 * cross a UTC midnight, quality flags, status flags, and field names that would break a careless CSV or
 * SQL writer (a comma, a quote, non-ASCII). Record #i is always the same record.
 */
const SITES = ['000001', 'site-b', 'Site "C", east'];
const DAY0 = Date.parse('2024-02-28T22:00:00.000Z');

export function testRecord(i: number): ParsedRecord {
  const site = SITES[i % SITES.length]!;
  // Spread over four UTC days (2024-02-28 .. 2024-03-02, leap day included), whole milliseconds.
  const ts = new Date(DAY0 + (i % 4) * 86_400_000 + Math.floor(i / 4) * 1_000 + (i % 7) * 125);
  const kind = i % 3;
  if (kind === 0) {
    return {
      v: 1,
      site,
      equipment: 'battery',
      device: `bank-${i % 2}`,
      rack: String((i % 8) + 1),
      ts: ts.toISOString(),
      fields: {
        soc: (i % 1000) / 10,
        cell_voltage_max: 3.3 + (i % 17) / 1000,
        'temp, max': -12.5 + (i % 40),
      },
      flags: { run: i % 2 === 0, fault: i % 11 === 0 },
      quality: i % 5 === 0 ? { soc: ['out_of_range'], run: ['stale', 'flatline'] } : undefined,
      schema: 'samples.v1',
      lineage: { topic: 'telemetry.raw', partition: i % 3, offset: String(i) },
    };
  }
  if (kind === 1) {
    return {
      v: 1,
      site,
      equipment: 'pv',
      device: 'inv-1',
      ts: ts.toISOString(),
      fields: { ac_power_kw: i * 0.25, 'dc "string" 1': 600 + (i % 50), 'Temperatur °C': 21.5 },
      flags: {},
      schema: 'microgrid.v1',
      lineage: { topic: 'telemetry.raw', partition: i % 3, offset: String(i) },
    };
  }
  return {
    v: 1,
    site,
    equipment: 'ev_charger',
    device: `evc-${i % 4}`,
    ts: ts.toISOString(),
    fields: { power_kw: 7.4 * (i % 3), energy_kwh: 1e6 + i / 3, tiny: 5e-324 },
    flags: { charging: i % 2 === 1 },
    quality: { energy_kwh: [] },
    schema: 'microgrid.v1',
    lineage: { topic: 'telemetry.raw', partition: i % 3, offset: String(i) },
  };
}

/** Values per record: one row per field and per flag. */
export function rowCount(record: ParsedRecord): number {
  return Object.keys(record.fields).length + Object.keys(record.flags).length;
}
