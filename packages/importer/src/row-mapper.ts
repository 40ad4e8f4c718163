import type { Sample } from '@gridstream/schema';
import type { ImportOptions } from './options.js';
import type { Reject, RejectReason } from './rejects.js';
import type { Cell, Table } from './table.js';
import { parseTime, type TimeFormat, TimeParseError } from './time-formats.js';

/**
 * One row → one samples.v1 sample, or a reject naming the line and why. Rules (docs/import.md):
 * - the device id is read from EACH row (the old tool labelled a whole slice with its first row's id);
 * - an empty value cell skips that field; a row left with no values at all is rejected (`no_values`);
 * - a non-numeric cell in a chosen value column rejects the whole row (`not_a_number`): a row half stored
 *   would look complete in a dashboard, so it is all or nothing, and the reject says which cell.
 */

/** The header lacks chosen columns: nothing of this file/sheet can be imported. */
export class MappingError extends Error {
  override name = 'MappingError';
}

export type MapResult = { ok: true; sample: Sample } | { ok: false; reason: RejectReason; detail: string };

export type RowMapper = (cells: Cell[]) => MapResult;

export type Mapping = Pick<
  ImportOptions,
  'timeColumn' | 'timeFormat' | 'timeZone' | 'valueColumns' | 'deviceColumn' | 'device' | 'site' | 'equipment'
>;

/** Header cells as column names: trimmed text; an empty header (a pandas index column) stays ''. */
export function columnNames(header: readonly Cell[]): string[] {
  const names: string[] = new Array(header.length);
  for (let i = 0; i < header.length; i++) names[i] = cellText(header[i]).trim();
  return names;
}

export function createRowMapper(
  table: Pick<Table, 'header' | 'strictColumnCount'>,
  mapping: Mapping,
): RowMapper {
  const names = columnNames(table.header);
  const find = (name: string) => names.indexOf(name.trim());
  const missing: string[] = [];
  const timeIdx = find(mapping.timeColumn);
  if (timeIdx < 0) missing.push(mapping.timeColumn);
  const deviceIdx = typeof mapping.deviceColumn === 'string' ? find(mapping.deviceColumn) : -1;
  if (typeof mapping.deviceColumn === 'string' && deviceIdx < 0) missing.push(mapping.deviceColumn);
  const valueIdx = mapping.valueColumns.map(find);
  mapping.valueColumns.forEach((name, i) => {
    if (valueIdx[i]! < 0) missing.push(name);
  });
  if (missing.length > 0) {
    throw new MappingError(
      `column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} not in the header; ` +
        `the columns are ${names.map((n) => (n === '' ? '(unnamed)' : JSON.stringify(n))).join(', ')}`,
    );
  }
  const fieldNames = mapping.valueColumns.map((n) => n.trim());
  const width = names.length;
  const format: TimeFormat = mapping.timeFormat;
  const { site, equipment, timeZone } = mapping;
  const fixedDevice = mapping.device;
  const deviceName = mapping.deviceColumn ?? '';

  return (cells) => {
    if (table.strictColumnCount && cells.length !== width) {
      return reject('column_count', `expected ${width} cells as in the header, found ${cells.length}`);
    }
    let device: string;
    if (fixedDevice !== undefined) device = fixedDevice;
    else {
      device = cellText(cells[deviceIdx]).trim();
      if (device === '')
        return reject('missing_device', `the device-id column ${JSON.stringify(deviceName)} is empty`);
      if (device.length > 128 || CONTROL_CHARS.test(device)) {
        return reject(
          'bad_device',
          `device id ${quote(device)} is over 128 characters or has control characters`,
        );
      }
    }
    let ts: string;
    try {
      ts = timeOf(cells[timeIdx], format, timeZone);
    } catch (error) {
      if (error instanceof TimeParseError) return reject('bad_time', error.message);
      throw error;
    }
    const fields: Record<string, number> = {};
    let count = 0;
    for (let i = 0; i < valueIdx.length; i++) {
      const cell = cells[valueIdx[i]!];
      let value: number;
      if (typeof cell === 'number') value = cell;
      else {
        const text = cellText(cell).trim();
        if (text === '') continue;
        value = isNumberText(text) ? Number(text) : Number.NaN;
        if (Number.isNaN(value)) {
          return reject(
            'not_a_number',
            `column ${JSON.stringify(fieldNames[i])} holds ${quote(text)}, not a number`,
          );
        }
      }
      if (!Number.isFinite(value)) {
        return reject('not_a_number', `column ${JSON.stringify(fieldNames[i])} holds a non-finite number`);
      }
      fields[fieldNames[i]!] = value;
      count++;
    }
    if (count === 0) return reject('no_values', 'every chosen value column is empty in this row');
    return { ok: true, sample: { site, equipment, device, ts, fields } };
  };
}

/** Decimal numbers only: `Number()` alone would also take `0x1F`, `1_000`-less oddities, and `''` as 0. */
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A trimmed value cell the importer stores as a number (a decimal point only: `1,5` is not a number). */
export function isNumberText(text: string): boolean {
  return NUMBER_RE.test(text);
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: the regex exists to find control characters
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function reject(reason: RejectReason, detail: string): MapResult {
  return { ok: false, reason, detail };
}

function timeOf(cell: Cell, format: TimeFormat, timeZone: string): string {
  if (cell instanceof Date) {
    // Excel stores a date as a serial day count with no zone; exceljs exposes it as the same wall time in
    // UTC fields. That wall time is read in the import's zone like any zone-less text time.
    const t = cell.getTime();
    if (Number.isNaN(t)) throw new TimeParseError('the time cell holds an invalid date');
    const wall = cell.toISOString().slice(0, 23).replace('T', ' ');
    return parseTime(wall, format === 'auto' || format === 'YYYY-MM-DD HH:mm:ss' ? format : 'auto', timeZone);
  }
  return parseTime(cellText(cell), format, timeZone);
}

export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString();
  return String(cell);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

export type { Reject };
