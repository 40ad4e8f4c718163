import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previewFile } from './preview.js';
import { equipmentFromFileName, type SampleTable, suggestMapping, timeFormatOf } from './suggest-mapping.js';

const REFERENCE = resolve(import.meta.dirname, '../../../../shared/reference');
const SAMPLES = resolve(import.meta.dirname, '../../../sample/import');

/** What the console does: preview the file's first 10 rows, suggest from the first table. */
async function suggestFor(path: string) {
  const preview = await previewFile({ files: [path] }, 10);
  return suggestMapping(preview.tables[0], { fileName: path });
}

const VEHICLE_VALUES = [
  'ACCEL_PEDAL',
  'ACCEL_X',
  'ACCEL_Y',
  'AIR_GAUGE',
  'AMBIENT_TEMPER',
  'AMP',
  'BATTERY_VOLTAGE',
  'CHANGE_GEAR_STEPS',
  'COOLANT_TEMPER',
  'DEVICE_STATUS_CD',
  'DRIVE_LENGTH_DAY',
  'DRIVE_LENGTH_TOTAL',
  'DRIVE_SPEED',
  'DRIVE_STATUS',
  'ENGINE_GAUGE',
  'ENGINE_OIL_TEMPER',
  'ENGINE_TORQUE',
  'FUEL_CONSUM_DAY',
  'FUEL_CONSUM_TOTAL',
  'GPS_ANGLE',
  'GPS_LAT',
  'GPS_LENGTH',
  'GPS_LONG',
  'INTAKE_TEMPER',
  'MAF',
  'RPM',
  'TEMPER1',
  'TEMPER2',
];

describe('suggestMapping on real files', () => {
  it('water-meter abnomal.csv (reference): time with seconds, one value column, no device column', async () => {
    const path = `${REFERENCE}/water-meter-anomaly/abnomal.csv`;
    const suggestion = await suggestFor(path);
    expect(suggestion).toEqual({
      timeColumn: 'time',
      timeFormat: 'YYYY-MM-DD HH:mm:ss',
      valueColumns: ['JM1_p'],
      equipment: 'abnomal',
    });
    // The detected format really reads the file: the suggestion plus what only a person knows previews clean.
    const preview = await previewFile(
      { files: [path], ...suggestion, site: 'jm1', device: 'jm1-pressure' },
      10,
    );
    expect(preview.mappingProblems).toEqual([]);
    expect(preview.tables[0]!.rejects).toEqual([]);
    expect(preview.tables[0]!.samples[0]!.sample).toEqual({
      site: 'jm1',
      equipment: 'abnomal',
      device: 'jm1-pressure',
      ts: '2020-01-02T02:55:00.000Z',
      fields: { JM1_p: 4.1831255 },
    });
  });

  it('water-meter preprocessed.csv (reference): a "time" column of dates the importer cannot read is named, not given a format', async () => {
    expect(await suggestFor(`${REFERENCE}/water-meter-anomaly/preprocessed.csv`)).toEqual({
      timeColumn: 'time',
      unreadableTime: '2020-01-01',
      valueColumns: ['JM1_p'],
      equipment: 'preprocessed',
    });
  });

  it('criteria.csv (reference): a statistics table has no time column; its labels are not a device', async () => {
    expect(await suggestFor(`${REFERENCE}/water-meter-anomaly/criteria.csv`)).toEqual({
      valueColumns: ['Values'],
      equipment: 'criteria',
    });
  });

  it('a UUID-named one-column file (reference microgrid export): a value column, no equipment from the name', async () => {
    expect(await suggestFor(`${REFERENCE}/microgrid/3454a992-50d9-4685-ab58-9ae475fae183.csv`)).toEqual({
      valueColumns: ['_col0'],
    });
  });

  it('vehicle telematics (the reference shape): RECORD_TIME over REQ_TIME, 28 value columns, PHONE_NUM as device', async () => {
    const path = `${SAMPLES}/vehicle-telematics.csv`;
    const suggestion = await suggestFor(path);
    expect(suggestion).toEqual({
      timeColumn: 'RECORD_TIME',
      timeFormat: 'YYYY-MM-DD HH:mm:ss',
      valueColumns: VEHICLE_VALUES,
      // 01000000001: digits with a leading zero are an id, not a quantity.
      deviceColumn: 'PHONE_NUM',
      equipment: 'vehicle_telematics',
    });
    const preview = await previewFile({ files: [path], ...suggestion, site: 'depot-1' }, 10);
    expect(preview.mappingProblems).toEqual([]);
    expect(preview.tables[0]!.rejects).toEqual([]);
    expect(preview.tables[0]!.samples).toHaveLength(10);
  });

  it('12-hour times are detected as ampm', async () => {
    const suggestion = await suggestFor(`${SAMPLES}/vehicle-ampm.csv`);
    expect(suggestion.timeColumn).toBe('RECORD_TIME');
    expect(suggestion.timeFormat).toBe('ampm');
  });

  it('Korean headers in EUC-KR: 기록시간, 속도/회전수, 차량번호', async () => {
    expect(await suggestFor(`${SAMPLES}/korean-euc-kr.csv`)).toEqual({
      timeColumn: '기록시간',
      timeFormat: 'YYYY-MM-DD HH:mm:ss',
      valueColumns: ['속도', '회전수'],
      deviceColumn: '차량번호',
      equipment: 'korean_euc_kr',
    });
  });

  it('XLSX with Excel dates next to text times: auto (the only format that reads both)', async () => {
    const path = `${SAMPLES}/vehicle-two-sheets.xlsx`;
    const suggestion = await suggestFor(path);
    expect(suggestion).toEqual({
      timeColumn: 'RECORD_TIME',
      timeFormat: 'auto',
      valueColumns: ['DRIVE_SPEED', 'RPM'],
      deviceColumn: 'PHONE_NUM',
      equipment: 'vehicle_two_sheets',
    });
    const preview = await previewFile({ files: [path], ...suggestion, site: 'depot-1' }, 10);
    expect(preview.tables.map((t) => t.rejects)).toEqual([[], []]);
  });

  it('a stray bad time: the column by its name, the format of the other rows, the bad sample named; idx is no value', async () => {
    expect(await suggestFor(`${SAMPLES}/malformed-rows.csv`)).toEqual({
      timeColumn: 'RECORD_TIME',
      timeFormat: 'YYYY-MM-DD HH:mm:ss',
      unreadableTime: 'yesterday',
      // DRIVE_SPEED holds "fast" in one row: not all numbers, so not suggested.
      valueColumns: ['RPM'],
      deviceColumn: 'PHONE_NUM',
      equipment: 'malformed_rows',
    });
  });
});

const table = (columns: string[], ...rows: string[][]): SampleTable => ({
  columns,
  rows: rows.map((cells) => ({ cells })),
});

describe('suggestMapping on small tables', () => {
  it('epoch seconds under a time-like header; the same kind of integers under another header are values', () => {
    expect(
      suggestMapping(
        table(
          ['counter', 'ts', 'kw'],
          ['1575195601', '1575195601', '1.5'],
          ['1575195602', '1575195602', '2'],
        ),
      ),
    ).toEqual({ timeColumn: 'ts', timeFormat: 'epoch_s', valueColumns: ['counter', 'kw'] });
  });

  it('epoch milliseconds, 14-digit times (without a time-like header), ISO with a zone, mixed spellings', () => {
    expect(
      suggestMapping(table(['timestamp', 'v'], ['1575195601001', '1'], ['1575195602002', '2'])),
    ).toMatchObject({ timeColumn: 'timestamp', timeFormat: 'epoch_ms', valueColumns: ['v'] });
    expect(
      suggestMapping(table(['when', 'v'], ['20191201102001', '1'], ['20191201102002', '2'])),
    ).toMatchObject({ timeColumn: 'when', timeFormat: '14digit', valueColumns: ['v'] });
    expect(
      suggestMapping(table(['at', 'v'], ['2019-12-01T10:20:01+09:00', '1'], ['2019-12-01T10:20:02Z', '2'])),
    ).toMatchObject({ timeColumn: 'at', timeFormat: 'iso', valueColumns: ['v'] });
    expect(
      suggestMapping(
        table(['일시', 'v'], ['2019-12-01 10:20:01', '1'], ['2019-12-01 1:20:02 PM', '2'], ['', '3']),
      ),
    ).toMatchObject({ timeColumn: '일시', timeFormat: 'auto', valueColumns: ['v'] });
  });

  it('decimal commas are not numbers to the importer, so not value columns; empty cells are skipped', () => {
    expect(
      suggestMapping(
        table(
          ['time', 'power', 'energy'],
          ['2026-01-01 00:00:00', '1,5', '10'],
          ['2026-01-01 00:00:01', '2,5', ''],
          ['2026-01-01 00:00:02', '3,5', '12.5'],
        ),
      ),
    ).toEqual({ timeColumn: 'time', timeFormat: 'YYYY-MM-DD HH:mm:ss', valueColumns: ['energy'] });
  });

  it('the device column: a device-like header first, then a repeating text column, never a row key', () => {
    const rows = [
      ['2026-01-01 00:00:00', 'a', 'north', 'r1', '1'],
      ['2026-01-01 00:00:01', 'b', 'north', 'r2', '2'],
      ['2026-01-01 00:00:02', 'a', 'south', 'r3', '3'],
    ];
    expect(suggestMapping(table(['time', 'meter', 'zone', 'row_key', 'v'], ...rows)).deviceColumn).toBe(
      'meter',
    );
    expect(suggestMapping(table(['time', 'x', 'zone', 'row_key', 'v'], ...rows)).deviceColumn).toBe('x');
    expect(
      suggestMapping(table(['time', 'row_key', 'v'], ...rows.map((r) => [r[0]!, r[3]!, r[4]!]))).deviceColumn,
    ).toBeUndefined();
  });

  it('nothing to detect: no suggestion and no error', () => {
    expect(suggestMapping(undefined)).toEqual({ valueColumns: [] });
    expect(suggestMapping(table(['time', 'value']))).toEqual({ valueColumns: [] });
    expect(
      suggestMapping(
        table(['', 'note', 'comment'], ['0', 'ok', 'first'], ['1', 'late', 'second'], ['2', 'x', 'y']),
      ),
    ).toEqual({ valueColumns: [] });
    expect(suggestMapping(table([]), { fileName: '2026.csv' })).toEqual({ valueColumns: [] });
  });
});

describe('timeFormatOf', () => {
  it('prefers what auto would read: 10 digits are epoch seconds, not milliseconds in 1970', () => {
    expect(timeFormatOf(['1575195601'])).toBe('epoch_s');
    expect(timeFormatOf(['2019-12-01T10:20:01'])).toBe('iso');
    expect(timeFormatOf(['2019-12-01 10:20:01', '2019-12-01T10:20:02'])).toBe('YYYY-MM-DD HH:mm:ss');
    expect(timeFormatOf(['2019-12-01'])).toBeUndefined();
    expect(timeFormatOf(['201912011020'])).toBeUndefined(); // 12 digits: the importer refuses to guess
    expect(timeFormatOf([])).toBeUndefined();
  });
});

describe('equipmentFromFileName', () => {
  it('is the stem in lower snake case, or nothing for names without letters or UUIDs', () => {
    expect(equipmentFromFileName('/data/Vehicle Telematics.csv')).toBe('vehicle_telematics');
    expect(equipmentFromFileName('JM1-pressure.xlsx')).toBe('jm1_pressure');
    expect(equipmentFromFileName('2019_data.csv')).toBe('m_2019_data');
    expect(equipmentFromFileName('2026-01-01.csv')).toBeUndefined();
    expect(equipmentFromFileName('3454a992-50d9-4685-ab58-9ae475fae183.csv')).toBeUndefined();
    expect(equipmentFromFileName('계량기.csv')).toBeUndefined();
    expect(equipmentFromFileName('.csv')).toBeUndefined();
  });
});
