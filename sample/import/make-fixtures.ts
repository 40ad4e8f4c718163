/**
 * Writes the importer's fixture files into this folder (they are committed; run this to regenerate):
 *
 *   node sample/import/make-fixtures.ts
 *
 * The shape follows the old file-import tool's sample inputs (vehicle telematics, 36 columns, an unnamed
 * pandas index column, a quoted DTC with commas) — with made-up values: no real phone numbers or positions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

const DIR = import.meta.dirname;

export const VEHICLE_COLUMNS = [
  '',
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
  'DTC',
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
  'ORIGIN_TYPE',
  'PHONE_NUM',
  'RECORD_TIME',
  'REQ_TIME',
  'RPM',
  'TEMPER1',
  'TEMPER2',
  'VEHICLE_TYPE',
  '_id',
];

/** Deterministic pseudo-random numbers, so regenerating gives the same files. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A made-up device id in the shape of the originals (digits only; not a real number). */
export function fakeDeviceId(n: number): string {
  return `0100000${String(n).padStart(4, '0')}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2019-12-01 10:20:01.001`-style local time, `ms` after 10:20:01.000. */
function localTime(ms: number): string {
  const d = new Date(Date.UTC(2019, 11, 1, 10, 20, 1) + ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** One 36-cell row: speed and rpm are derived from `i` so tests can recompute them. */
export function vehicleRow(i: number, device: string, time: string, random: () => number): string[] {
  const r = (scale: number, digits = 1) => (random() * scale).toFixed(digits);
  const cells: Record<string, string> = {
    '': String(i),
    ACCEL_PEDAL: r(100),
    ACCEL_X: r(2, 3),
    ACCEL_Y: r(2, 3),
    AIR_GAUGE: r(10),
    AMBIENT_TEMPER: r(30),
    AMP: r(50),
    BATTERY_VOLTAGE: (12 + random()).toFixed(2),
    CHANGE_GEAR_STEPS: String(1 + (i % 6)),
    COOLANT_TEMPER: r(90),
    DEVICE_STATUS_CD: '0',
    DRIVE_LENGTH_DAY: String(i * 3),
    DRIVE_LENGTH_TOTAL: String(120_000 + i * 3),
    DRIVE_SPEED: String(speedOf(i)),
    DRIVE_STATUS: '1',
    DTC: '"0x00,0x00,0x00,0x00"',
    ENGINE_GAUGE: r(100),
    ENGINE_OIL_TEMPER: r(100),
    ENGINE_TORQUE: r(400),
    FUEL_CONSUM_DAY: r(20, 2),
    FUEL_CONSUM_TOTAL: r(9000, 2),
    GPS_ANGLE: String(i % 360),
    GPS_LAT: '0.000000',
    GPS_LENGTH: '0',
    GPS_LONG: '0.000000',
    INTAKE_TEMPER: r(40),
    MAF: r(30, 2),
    ORIGIN_TYPE: 'T',
    PHONE_NUM: device,
    RECORD_TIME: time,
    REQ_TIME: time.slice(0, 19),
    RPM: String(rpmOf(i)),
    TEMPER1: r(30),
    TEMPER2: r(30),
    VEHICLE_TYPE: 'TRUCK',
    _id: `id${String(i).padStart(8, '0')}`,
  };
  return VEHICLE_COLUMNS.map((c) => cells[c]!);
}

export function speedOf(i: number): number {
  return (i * 7) % 110;
}

export function rpmOf(i: number): number {
  return 700 + ((i * 37) % 2500);
}

const lines = (rows: string[][]) => `${rows.map((r) => r.join(',')).join('\n')}\n`;

function vehicleFile(rows: number, deviceOf: (i: number) => string, timeOf: (i: number) => string): string {
  const random = rng(42);
  const out: string[][] = [VEHICLE_COLUMNS];
  for (let i = 0; i < rows; i++) out.push(vehicleRow(i, deviceOf(i), timeOf(i), random));
  return lines(out);
}

/** `2019-12-01T<h>:MM:SS.fff AM|PM` with the hour on a 12-hour clock. */
export function ampmTime(hour24: number, minute: number, second: number, ms: number): string {
  const h12 = hour24 % 12 === 0 ? 12 : hour24 % 12;
  return `2019-12-01T${two(h12)}:${two(minute)}:${two(second)}.${String(ms).padStart(3, '0')} ${hour24 < 12 ? 'AM' : 'PM'}`;
}

/** Hours of the AM/PM fixture rows: midnight, morning, noon, 1 PM, late evening (the edge cases). */
export const AMPM_HOURS = [0, 10, 11, 12, 13, 23];

export async function writeFixtures(dir = DIR): Promise<void> {
  // 1. The reference shape: UTF-8, 36 columns, unnamed first column, quoted DTC, rows 1 ms apart.
  writeFileSync(
    join(dir, 'vehicle-telematics.csv'),
    vehicleFile(
      20,
      () => fakeDeviceId(1),
      (i) => localTime(i),
    ),
  );
  // 2. 12-hour times with the AM/PM suffix the old tool ignored (its PM rows came out 12 h early).
  writeFileSync(
    join(dir, 'vehicle-ampm.csv'),
    vehicleFile(
      AMPM_HOURS.length,
      () => fakeDeviceId(2),
      (i) => ampmTime(AMPM_HOURS[i]!, 0, 0, 1),
    ),
  );
  // 3. Rows of three devices interleaved (the old tool labelled a slice with its first row's id).
  writeFileSync(
    join(dir, 'mixed-devices.csv'),
    vehicleFile(
      30,
      (i) => fakeDeviceId(10 + (i % 3)),
      (i) => localTime(i * 1000),
    ),
  );
  // 4. Korean headers and text in the legacy code pages. CP949 gets syllables only CP949 has (똠, 쀍).
  const korean = (vehicleType: string) =>
    lines([
      ['', '기록시간', '차량번호', '속도', '회전수', '차종'],
      ['0', '2019-12-01 10:20:01', '차량-01', '10', '800', vehicleType],
      ['1', '2019-12-01 10:20:02', '차량-01', '20', '900', vehicleType],
      ['2', '2019-12-01 10:20:03', '차량-02', '30', '1000', vehicleType],
    ]);
  writeFileSync(join(dir, 'korean-euc-kr.csv'), iconv.encode(korean('화물'), 'euc-kr'));
  writeFileSync(join(dir, 'korean-cp949.csv'), iconv.encode(korean('똠방쀍'), 'cp949'));
  // 5. Every kind of bad row, after a quoted field spanning two lines (line numbers must not shift).
  const header = 'idx,RECORD_TIME,PHONE_NUM,DRIVE_SPEED,RPM,NOTE';
  writeFileSync(
    join(dir, 'malformed-rows.csv'),
    [
      header, // line 1
      '0,2019-12-01 10:20:01,dev-1,10,800,ok', // 2 good
      '1,2019-12-01 10:20:02,dev-1,11,810,"two', // 3 good, NOTE spans lines 3-4
      'lines"',
      '2,yesterday,dev-1,12,820,bad time', // 5 bad_time
      '3,2019-12-01 10:20:04,dev-1,fast,830,not a number', // 6 not_a_number
      '4,2019-12-01 10:20:05,,14,840,no device', // 7 missing_device
      '5,2019-12-01 10:20:06,dev-1,15', // 8 column_count
      '6,2019-12-01 10:20:07,dev-1,,,no values', // 9 no_values
      '7,2019-12-01 10:20:08,dev-1,,870,speed empty: only RPM', // 10 good (one field)
      '', // 11 empty line: skipped, not a row
      '8,2019-12-01 10:20:09,dev-1,18,880,"stray"quote', // 12 good: a stray quote is kept as text
      '9,2019-12-01 10:20:10,dev-1,19,890,ok', // 13 good
      '10,2019-12-01 10:20:11,dev-1,20,900,"unclosed', // 14 malformed_csv: the quote never closes
      '',
    ].join('\n'),
  );
  // 6. A workbook with two sheets of the same columns (the old tool read the first sheet only).
  const workbook = new ExcelJS.Workbook();
  workbook.created = new Date(Date.UTC(2020, 0, 1));
  workbook.modified = workbook.created;
  for (const [s, name] of ['Morning', 'Afternoon'].entries()) {
    const sheet = workbook.addWorksheet(name);
    sheet.addRow(['', 'RECORD_TIME', 'PHONE_NUM', 'DRIVE_SPEED', 'RPM']);
    for (let i = 0; i < 5; i++) {
      const time =
        i % 2 === 0
          ? `2019-12-01 ${s === 0 ? '09' : '15'}:00:0${i}.000` // text time
          : new Date(Date.UTC(2019, 11, 1, s === 0 ? 9 : 15, 0, i)); // an Excel date cell
      sheet.addRow([i, time, fakeDeviceId(20 + s), speedOf(i + s * 10), rpmOf(i + s * 10)]);
    }
  }
  await workbook.xlsx.writeFile(join(dir, 'vehicle-two-sheets.xlsx'));
}

if (process.argv[1] === import.meta.filename) await writeFixtures();
