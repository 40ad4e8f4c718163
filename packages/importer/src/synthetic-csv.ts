import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * A large CSV of the reference shape (36 columns, unnamed index column, quoted DTC), for the memory test
 * and the import benchmark. Lean on purpose — the constant middle of a row is one string, the time a
 * per-second prefix plus milliseconds, rows written in ~1 MiB strings with backpressure — so that making
 * a 1 GiB file takes seconds and the measurement is of the importer, not of the generator.
 *
 * Row i: device `0100000000<i % 10>`, RECORD_TIME 2019-12-01 00:00:00.000 + i ms, DRIVE_SPEED i % 110,
 * RPM 700 + i % 2500.
 */
export const SYNTHETIC_HEADER =
  ',ACCEL_PEDAL,ACCEL_X,ACCEL_Y,AIR_GAUGE,AMBIENT_TEMPER,AMP,BATTERY_VOLTAGE,CHANGE_GEAR_STEPS,COOLANT_TEMPER,' +
  'DEVICE_STATUS_CD,DRIVE_LENGTH_DAY,DRIVE_LENGTH_TOTAL,DRIVE_SPEED,DRIVE_STATUS,DTC,ENGINE_GAUGE,ENGINE_OIL_TEMPER,' +
  'ENGINE_TORQUE,FUEL_CONSUM_DAY,FUEL_CONSUM_TOTAL,GPS_ANGLE,GPS_LAT,GPS_LENGTH,GPS_LONG,INTAKE_TEMPER,MAF,ORIGIN_TYPE,' +
  'PHONE_NUM,RECORD_TIME,REQ_TIME,RPM,TEMPER1,TEMPER2,VEHICLE_TYPE,_id\n';

const MiB = 1024 * 1024;

/** Writes rows until `limit` is reached (bytes or rows); returns the rows and bytes written. */
export async function writeSyntheticCsv(
  path: string,
  limit: { bytes: number } | { rows: number },
): Promise<{ rows: number; bytes: number }> {
  const out = createWriteStream(path);
  out.write(SYNTHETIC_HEADER);
  let bytes = SYNTHETIC_HEADER.length;
  const middle = ',25.2,0.176,1.155,2.2,11.3,1.3,12.45,1,10.7,0,0,120000,';
  const afterSpeed =
    ',1,"0x00,0x00,0x00,0x00",87.4,99.5,341.3,9.99,5778.01,0,0.000000,0,0.000000,34.5,17.89,T,0100000000';
  const base = Date.UTC(2019, 11, 1);
  const maxBytes = 'bytes' in limit ? limit.bytes : Number.POSITIVE_INFINITY;
  const maxRows = 'rows' in limit ? limit.rows : Number.POSITIVE_INFINITY;
  let rows = 0;
  let chunk = '';
  let secondPrefix = '';
  while (bytes < maxBytes && rows < maxRows) {
    const ms = rows % 1000;
    if (ms === 0) secondPrefix = new Date(base + rows).toISOString().replace('T', ' ').slice(0, 19);
    const msText = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : String(ms);
    const line = `${rows}${middle}${rows % 110}${afterSpeed}${rows % 10},${secondPrefix}.${msText},${secondPrefix},${700 + (rows % 2500)},2.7,4.2,TRUCK,id${rows}\n`;
    chunk += line;
    bytes += line.length; // ASCII only: characters are bytes
    rows++;
    if (chunk.length >= MiB) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { rows, bytes };
}
