import type { DeadLetterReason, Sample } from '@gridstream/schema';
import { gatewayTimeToUtcIso, SampleSchema } from '@gridstream/schema';
import { verifyChecksum } from './checksum.js';
import type { LineFormat, ResolvedPort, TimeFormat } from './serial-config.js';

/** What one line gave: a sample, a line to skip (empty or ignored), or why it is bad. */
export type LineResult =
  | { kind: 'sample'; sample: Sample }
  | { kind: 'skip'; why: 'empty' | 'ignored' }
  | { kind: 'bad'; reason: DeadLetterReason; message: string };

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the lines of one port (pure: tests give it bytes and a time). A line is the bytes between two
 * delimiters; a trailing `\r` is dropped. Order of the checks: text (UTF-8), ignore patterns, checksum,
 * format (`unreadable` when it does not match), values (`wrong_type` when not a number), device and time.
 */
export class LineReader {
  private readonly split: (text: string) => Map<string, string> | string;

  constructor(private readonly port: ResolvedPort) {
    this.split = splitter(port.format);
  }

  read(line: Buffer, receivedAt: Date): LineResult {
    const bytes = line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
    let whole: string;
    try {
      whole = utf8.decode(bytes);
    } catch {
      return {
        kind: 'bad',
        reason: 'unreadable',
        message: 'the line is not text (bytes that are not UTF-8)',
      };
    }
    if (whole.trim() === '') return { kind: 'skip', why: 'empty' };
    if (this.port.ignore.some((re) => re.test(whole))) return { kind: 'skip', why: 'ignored' };
    const checked = verifyChecksum(bytes, this.port.checksum);
    if (!checked.ok) return { kind: 'bad', reason: 'bad_checksum', message: checked.message };
    const text = this.port.checksum === 'none' ? whole : checked.body.toString('utf8');
    const values = this.split(text);
    if (typeof values === 'string') return { kind: 'bad', reason: 'unreadable', message: values };

    const fields: Record<string, number> = {};
    for (const [field, f] of Object.entries(this.port.fields)) {
      const from = f.from ?? field;
      const raw = values.get(from);
      if (raw === undefined || raw === '') {
        if (f.optional) continue;
        return { kind: 'bad', reason: 'unreadable', message: `no value for ${from}` };
      }
      if (!NUMBER.test(raw))
        return { kind: 'bad', reason: 'wrong_type', message: `${from}: "${clip(raw)}" is not a number` };
      const value = Number(raw) * f.scale + f.offset;
      if (!Number.isFinite(value))
        return { kind: 'bad', reason: 'wrong_type', message: `${from}: ${clip(raw)} is out of range` };
      fields[field] = value;
    }
    if (Object.keys(fields).length === 0)
      return { kind: 'bad', reason: 'no_readings', message: 'every field of the line is empty' };

    let device = this.port.device;
    if (this.port.deviceFrom !== undefined) {
      device = values.get(this.port.deviceFrom);
      if (device === undefined || device === '')
        return { kind: 'bad', reason: 'unreadable', message: `no device id (${this.port.deviceFrom})` };
    }
    let ts: string;
    if (this.port.time) {
      const raw = values.get(this.port.time.from);
      if (raw === undefined || raw === '')
        return { kind: 'bad', reason: 'bad_timestamp', message: `no time (${this.port.time.from})` };
      try {
        ts = parseTime(raw, this.port.time.format, this.port.timeZone);
      } catch (error) {
        return { kind: 'bad', reason: 'bad_timestamp', message: (error as Error).message };
      }
    } else ts = receivedAt.toISOString();

    const sample: Sample = {
      site: this.port.site,
      equipment: this.port.equipment,
      device: device!,
      ts,
      fields,
    };
    const valid = SampleSchema.safeParse(sample);
    if (!valid.success)
      return {
        kind: 'bad',
        reason: 'invalid_record',
        message: valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      };
    return { kind: 'sample', sample };
  }
}

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

function splitter(format: LineFormat): (text: string) => Map<string, string> | string {
  switch (format.type) {
    case 'delimited': {
      const columns = format.columns;
      const sep = format.separator === ' ' ? / +/ : format.separator;
      return (text) => {
        const cells = (format.separator === ' ' ? text.trim() : text).split(sep);
        if (cells.length !== columns.length)
          return `${cells.length} column${cells.length === 1 ? '' : 's'} where the format has ${columns.length}`;
        const out = new Map<string, string>();
        columns.forEach((name, i) => {
          if (name !== '-') out.set(name, cells[i]!.trim());
        });
        return out;
      };
    }
    case 'regex': {
      const re = new RegExp(format.pattern);
      return (text) => {
        const m = re.exec(text);
        if (!m) return 'the line does not match the pattern';
        const out = new Map<string, string>();
        for (const [name, value] of Object.entries(m.groups ?? {}))
          if (value !== undefined) out.set(name, value.trim());
        return out;
      };
    }
    case 'keyvalue': {
      const pairs = format.pairSeparator ?? /[\s,;]+/;
      return (text) => {
        const out = new Map<string, string>();
        for (const pair of text.trim().split(pairs)) {
          if (pair === '') continue;
          const at = pair.indexOf(format.separator);
          if (at <= 0) return `"${clip(pair)}" is not key${format.separator}value`;
          const key = pair.slice(0, at).trim();
          if (out.has(key)) return `${key} appears twice`;
          out.set(key, pair.slice(at + format.separator.length).trim());
        }
        return out;
      };
    }
  }
}

const EPOCH_S = /^\d{1,11}(?:\.\d{1,9})?$/;
const EPOCH_MS = /^\d{1,14}$/;
const LOCAL_T = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/;

/** A line's time → UTC ISO with ms. Times without offset are wall-clock time in `timeZone` (DST rules of the parser). */
export function parseTime(raw: string, format: TimeFormat, timeZone: string): string {
  let ms: number;
  switch (format) {
    case 'epoch_s':
      if (!EPOCH_S.test(raw)) throw new Error(`"${clip(raw)}" is not epoch seconds`);
      ms = Math.trunc(Number(raw) * 1000);
      break;
    case 'epoch_ms':
      if (!EPOCH_MS.test(raw)) throw new Error(`"${clip(raw)}" is not epoch milliseconds`);
      ms = Number(raw);
      break;
    default: {
      // `T` without a zone is the same wall-clock time as with a space.
      const local = LOCAL_T.exec(raw);
      return gatewayTimeToUtcIso(local ? `${local[1]} ${local[2]!.slice(0, 15)}` : raw, timeZone);
    }
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 9999)
    throw new Error(`"${clip(raw)}" is outside the supported range`);
  return d.toISOString();
}
