import type { AlarmAction, AlarmEvent, ParsedRecord } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import { copyText } from './copy-text.js';
import { rowsByTable } from './dedupe-rows.js';
import {
  alarmActionRows,
  alarmRows,
  InvalidRecordError,
  type PgRow,
  readingRows,
  type TableName,
} from './pg-rows.js';
import { TABLES } from './pg-schema.js';

/** A line back to column → value ('\N' → null), by the table's COPY column order. */
function columns(row: PgRow): Record<string, string | null> {
  const names = TABLES[row.table].columns.map((c) => c.name);
  const values = row.line.split('\t');
  expect(values).toHaveLength(names.length);
  return Object.fromEntries(names.map((n, i) => [n, values[i] === '\\N' ? null : values[i]!]));
}

const key = (row: PgRow) => row.line.slice(0, row.keyLength);

const battery = SAMPLE_RECORDS[0]!;
const rackRecord = SAMPLE_RECORDS.find((r) => r.rack !== undefined)!;

describe('readingRows', () => {
  it('gives one row per reading and per flag, with the exact values, flags as 1/0 and quality joined', () => {
    const rows = readingRows(battery);
    expect(rows).toHaveLength(Object.keys(battery.fields).length + Object.keys(battery.flags).length);
    expect(rows.every((r) => r.table === 'readings')).toBe(true);
    const byField = new Map(rows.map((r) => [columns(r).field, columns(r)]));
    expect(byField.get('soc')).toEqual({
      time: '2023-06-09T11:34:06.000Z',
      site: '000001',
      equipment: 'battery',
      device: '01',
      rack: '',
      field: 'soc',
      value: '31.5',
      is_flag: 'f',
      quality: 'out_of_range',
    });
    expect(byField.get('dc_current')?.quality).toBe('stale,flatline');
    expect(byField.get('soh')).toMatchObject({ value: '100', quality: null });
    expect(byField.get('run')).toMatchObject({ value: '1', is_flag: 't', quality: null });
    expect(byField.get('fault')).toMatchObject({ value: '0', is_flag: 't' });
    // Every value reads back as the same double.
    for (const [field, value] of Object.entries(battery.fields))
      expect(Number(byField.get(field)?.value), field).toBe(value);
  });

  it('keys a row by time, site, equipment, device, rack and field — not by its value', () => {
    const [row] = readingRows(rackRecord);
    expect(columns(row!).rack).toBe(rackRecord.rack);
    const field = columns(row!).field;
    expect(key(row!)).toBe(`2023-06-09T11:34:06.000Z\t000001\tbattery\t01\t${rackRecord.rack}\t${field}\t`);
    const changed = readingRows({ ...rackRecord, fields: { ...rackRecord.fields, [field!]: -1 } });
    expect(key(changed[0]!)).toBe(key(row!));
    expect(changed[0]!.line).not.toBe(row!.line);
  });

  it('spells one instant one way: "…:06Z" and "…:06.000Z" are the same key', () => {
    const a = readingRows({ ...battery, ts: '2023-06-09T11:34:06Z' });
    const b = readingRows({ ...battery, ts: '2023-06-09T11:34:06.000Z' });
    expect(a.map(key)).toEqual(b.map(key));
  });

  it('escapes tabs, newlines and backslashes of names so that columns never shift', () => {
    const record: ParsedRecord = {
      ...battery,
      device: 'a\\b',
      fields: { 'x\\y': 1 },
      flags: {},
      quality: undefined,
    };
    const [row] = readingRows(record);
    expect(columns(row!)).toMatchObject({ device: 'a\\\\b', field: 'x\\\\y', value: '1' });
    expect(copyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
  });

  it('gives no rows for a record without readings or flags', () => {
    expect(readingRows({ ...battery, fields: {}, flags: {}, quality: undefined })).toEqual([]);
  });

  const bad: [string, Partial<Record<keyof ParsedRecord, unknown>>, RegExp][] = [
    ['a local timestamp', { ts: '2023-06-09 20:34:06' }, /^ts: must be a UTC timestamp/],
    ['an impossible date', { ts: '2023-02-30T00:00:00.000Z' }, /^ts:/],
    ['a numeric site', { site: 7 }, /^site: must be a string/],
    ['an empty device', { device: '' }, /^device:/],
    ['a control character in a rack', { rack: 'r\u0000' }, /^rack:/],
    ['an upper-case equipment', { equipment: 'Battery' }, /^equipment: must be lower snake case/],
    ['a string reading', { fields: { soc: '31.5' } }, /^fields\.soc: must be a finite number/],
    ['a NaN reading', { fields: { soc: Number.NaN } }, /^fields\.soc: must be a finite number/],
    ['a numeric flag', { flags: { run: 1 } }, /^flags\.run: must be true or false/],
    ['a field name with a newline', { fields: { 'a\nb': 1 } }, /^fields: a name must have/],
    ['quality that is not a list', { quality: { soc: 'bad' } }, /^quality\.soc: must be a list/],
    ['a quality flag with a comma', { quality: { soc: ['a,b'] } }, /^quality\.soc: "a,b" is not/],
  ];
  for (const [what, change, message] of bad) {
    it(`refuses ${what} with a message that names it`, () => {
      const record = { ...battery, ...change } as ParsedRecord;
      expect(() => readingRows(record)).toThrow(InvalidRecordError);
      expect(() => readingRows(record)).toThrow(message);
    });
  }
});

const event: AlarmEvent = {
  v: 1,
  id: '000001/battery/01/1/cell_over_voltage@2023-06-09T11:34:06.000Z',
  site: '000001',
  equipment: 'battery',
  device: '01',
  rack: '1',
  rule: 'cell_over_voltage',
  field: 'max_cell_voltage',
  state: 'raised',
  level: 'warning',
  value: 3.71,
  threshold: 3.65,
  raisedAt: '2023-06-09T11:34:06.000Z',
  ts: '2023-06-09T11:34:06Z',
  message: 'max cell voltage 3.71 V\tabove 3.65 V',
};

describe('alarmRows and alarmActionRows', () => {
  it('maps an alarm event to one row of alarms, keyed like its InfluxDB point', () => {
    const [row, ...more] = alarmRows(event);
    expect(more).toEqual([]);
    expect(row!.table).toBe('alarms');
    expect(columns(row!)).toEqual({
      site: '000001',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      level: 'warning',
      state: 'raised',
      time: '2023-06-09T11:34:06.000Z',
      field: 'max_cell_voltage',
      value: '3.71',
      threshold: '3.65',
      active: 't',
      message: 'max cell voltage 3.71 V\\tabove 3.65 V',
      id: event.id,
      raised_at: '2023-06-09T11:34:06.000Z',
    });
    expect(key(row!)).toBe(
      '000001\tbattery\t01\t1\tcell_over_voltage\twarning\traised\t2023-06-09T11:34:06.000Z\t',
    );
    const cleared = columns(
      alarmRows({ ...event, rack: undefined, state: 'cleared', value: null, threshold: null })[0]!,
    );
    expect(cleared).toMatchObject({ rack: '', active: 'f', value: null, threshold: null });
  });

  it('maps an operator action to one row of alarm_actions, keyed by id and time', () => {
    const action: AlarmAction = {
      v: 1,
      id: '2b0f6a56-8a43-4c1f-9a0e-4b7b1d3f5a11',
      action: 'shelved',
      episode: event.id,
      site: '000001',
      equipment: 'battery',
      device: '01',
      rule: 'cell_over_voltage',
      by: 'kim',
      at: '2023-06-09T12:00:00.000Z',
      comment: 'maintenance\nuntil noon',
      shelvedUntil: '2023-06-09T15:00:00.000Z',
    };
    const [row] = alarmActionRows(action);
    expect(columns(row!)).toEqual({
      id: action.id,
      time: '2023-06-09T12:00:00.000Z',
      action: 'shelved',
      site: '000001',
      equipment: 'battery',
      device: '01',
      rack: '',
      rule: 'cell_over_voltage',
      episode: event.id,
      level: null,
      done_by: 'kim',
      comment: 'maintenance\\nuntil noon',
      shelved_until: '2023-06-09T15:00:00.000Z',
    });
    expect(key(row!)).toBe(`${action.id}\t2023-06-09T12:00:00.000Z\t`);
  });
});

describe('rowsByTable', () => {
  it('keeps each key once, the later row winning, in key order', () => {
    const first = readingRows({ ...battery, fields: { soc: 1, soh: 2 }, flags: {}, quality: undefined });
    const again = readingRows({ ...battery, fields: { soc: 9 }, flags: {}, quality: undefined });
    const other = readingRows({
      ...battery,
      device: '02',
      fields: { soc: 5 },
      flags: {},
      quality: undefined,
    });
    const alarm = alarmRows(event);
    const tables = rowsByTable([...other, ...first, ...alarm, ...again, ...alarmRows(event)]);
    expect([...tables.keys()]).toEqual<TableName[]>(['readings', 'alarms']);
    const readings = tables.get('readings')!.map(columns);
    expect(readings.map((r) => [r.device, r.field, r.value])).toEqual([
      ['01', 'soc', '9'],
      ['01', 'soh', '2'],
      ['02', 'soc', '5'],
    ]);
    expect(tables.get('alarms')).toHaveLength(1);
  });

  it('returns every row when no key repeats, ordered by key', () => {
    const rows = SAMPLE_RECORDS.flatMap(readingRows);
    const out = rowsByTable([...rows].reverse()).get('readings')!;
    expect(out).toHaveLength(rows.length);
    expect(new Set(out)).toEqual(new Set(rows));
    const keys = out.map(key);
    expect(keys).toEqual([...keys].sort());
  });

  it('tells apart keys that differ only in the rack', () => {
    const device = readingRows({ ...battery, fields: { soc: 1 }, flags: {}, quality: undefined });
    const rack = readingRows({ ...battery, rack: '1', fields: { soc: 2 }, flags: {}, quality: undefined });
    expect(rowsByTable([...device, ...rack]).get('readings')).toHaveLength(2);
  });
});
