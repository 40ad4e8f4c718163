import { LocalTimeError, localTimeToUtcIso } from '@gridstream/schema';

/**
 * Time cells → UTC ISO (`YYYY-MM-DDTHH:MM:SS.mmmZ`). The old tool ignored the AM/PM suffix (PM rows came out
 * 12 h early) and read zone-less times in the host's zone; here the format is explicit or detected per
 * value, 12-hour clocks are converted properly, and zone-less times are read in a configured IANA zone with
 * the parser's DST rules (gap → rejected, overlap → earlier instant).
 */

export const TIME_FORMATS = [
  'auto',
  'YYYY-MM-DD HH:mm:ss',
  'iso',
  'ampm',
  '14digit',
  'epoch_s',
  'epoch_ms',
] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** The value is not a time in the expected format; the row is rejected with reason `bad_time`. */
export class TimeParseError extends Error {
  override name = 'TimeParseError';
}

// `2019-12-01 10:20:01.001` (also with `T`, which ISO without a zone is).
const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
// ISO 8601 extended: seconds optional, zone optional (Z, ±HH:MM, ±HHMM, ±HH).
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
// `2019-12-01T10:00:00.001 AM`: space before the marker optional, either case.
const AMPM_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ?([AaPp])\.?[Mm]\.?$/;
const DIGITS14_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const EPOCH_S_RE = /^\d{1,11}(?:\.\d+)?$/;
const EPOCH_MS_RE = /^\d{1,14}$/;
const MERIDIEM_END_RE = /[AaPp]\.?[Mm]\.?$/;

/** Parses one cell. Throws TimeParseError (or LocalTimeError for a time the zone skips). */
export function parseTime(raw: string, format: TimeFormat, timeZone: string): string {
  const text = raw.trim();
  if (text === '') throw new TimeParseError('the time cell is empty');
  switch (format) {
    case 'YYYY-MM-DD HH:mm:ss':
      return parseLocal(text, timeZone) ?? fail(text, 'YYYY-MM-DD HH:MM:SS[.fff]');
    case 'iso':
      return parseIso(text, timeZone) ?? fail(text, 'ISO 8601 (YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM])');
    case 'ampm':
      return parseAmPm(text, timeZone) ?? fail(text, 'YYYY-MM-DD[T]HH:MM:SS[.fff] AM|PM');
    case '14digit':
      return parse14(text, timeZone) ?? fail(text, 'YYYYmmddHHMMSS');
    case 'epoch_s':
      return EPOCH_S_RE.test(text) ? epochSeconds(text) : fail(text, 'epoch seconds');
    case 'epoch_ms':
      return EPOCH_MS_RE.test(text) ? fromEpochMs(Number(text), text) : fail(text, 'epoch milliseconds');
    case 'auto':
      return parseAuto(text, timeZone);
  }
}

/**
 * Per value: the separators decide between the text formats, the digit count between the numeric ones —
 * 14 digits is a calendar time (epoch ms has 13 digits until the year 2286), 13 digits epoch ms, up to 11
 * digits (optionally with a fraction) epoch seconds. 12 digits is neither and is refused rather than guessed.
 */
function parseAuto(text: string, timeZone: string): string {
  if (MERIDIEM_END_RE.test(text)) return parseAmPm(text, timeZone) ?? fail(text, 'YYYY-MM-DD HH:MM:SS AM|PM');
  if (text.length > 10 && text.charCodeAt(4) === 45 /* - */) {
    return (
      parseLocal(text, timeZone) ??
      parseIso(text, timeZone) ??
      fail(text, 'a time (YYYY-MM-DD HH:MM:SS[.fff], ISO 8601, … AM/PM)')
    );
  }
  if (DIGITS14_RE.test(text)) return parse14(text, timeZone) ?? fail(text, 'YYYYmmddHHMMSS');
  if (/^\d{13}$/.test(text)) return fromEpochMs(Number(text), text);
  if (EPOCH_S_RE.test(text) && !/^\d{12}$/.test(text)) return epochSeconds(text);
  return fail(
    text,
    'a time (YYYY-MM-DD HH:MM:SS[.fff], ISO 8601, … AM/PM, YYYYmmddHHMMSS, epoch seconds or milliseconds)',
  );
}

function parseLocal(text: string, timeZone: string): string | undefined {
  const m = LOCAL_RE.exec(text);
  if (m === null) return undefined;
  return wallToUtc(m[1]!, m[2]!, m[3]!, Number(m[4]), m[5]!, m[6]!, m[7], timeZone, text);
}

function parseIso(text: string, timeZone: string): string | undefined {
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  const zone = m[8];
  const sec = m[6] ?? '00';
  if (zone === undefined)
    return wallToUtc(m[1]!, m[2]!, m[3]!, Number(m[4]), m[5]!, sec, m[7], timeZone, text);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(sec);
  checkFields(year, month, day, hour, minute, second, text);
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) throw new TimeParseError(`time ${quote(text)} has an impossible UTC offset`);
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis(m[7])) - offsetMin * 60_000;
  return fromEpochMs(ms, text);
}

function parseAmPm(text: string, timeZone: string): string | undefined {
  const m = AMPM_RE.exec(text);
  if (m === null) return undefined;
  const hour12 = Number(m[4]);
  // A 12-hour clock runs 12, 1, …, 11: hour 0 or 13+ next to AM/PM is a contradiction, not a guess to make.
  if (hour12 < 1 || hour12 > 12) {
    throw new TimeParseError(`time ${quote(text)}: hour ${hour12} does not exist on a 12-hour clock`);
  }
  const pm = m[8] === 'P' || m[8] === 'p';
  // 12 AM is midnight (00), 12 PM is noon (12), 1 PM is 13.
  const hour = (hour12 % 12) + (pm ? 12 : 0);
  return wallToUtc(m[1]!, m[2]!, m[3]!, hour, m[5]!, m[6]!, m[7], timeZone, text);
}

function parse14(text: string, timeZone: string): string | undefined {
  const m = DIGITS14_RE.exec(text);
  if (m === null) return undefined;
  return wallToUtc(m[1]!, m[2]!, m[3]!, Number(m[4]), m[5]!, m[6]!, undefined, timeZone, text);
}

/** Zone-less wall time in `timeZone` → UTC, through the parser's conversion (same DST rules). */
function wallToUtc(
  y: string,
  mo: string,
  d: string,
  hour: number,
  mi: string,
  s: string,
  frac: string | undefined,
  timeZone: string,
  text: string,
): string {
  if (timeZone === 'UTC') {
    // The common case without Intl: plain calendar arithmetic.
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const minute = Number(mi);
    const second = Number(s);
    checkFields(year, month, day, hour, minute, second, text);
    return fromEpochMs(Date.UTC(year, month - 1, day, hour, minute, second, millis(frac)), text);
  }
  const hh = hour < 10 ? `0${hour}` : String(hour);
  const local = `${y}-${mo}-${d} ${hh}:${mi}:${s}${frac === undefined ? '' : `.${frac.slice(0, 6)}`}`;
  try {
    return localTimeToUtcIso(local, timeZone);
  } catch (error) {
    if (error instanceof LocalTimeError)
      throw new TimeParseError(error.message.replace(quote(local), quote(text)));
    throw error;
  }
}

function checkFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  text: string,
): void {
  if (year < 1000) throw new TimeParseError(`time ${quote(text)}: years before 1000 are not supported`);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new TimeParseError(`time ${quote(text)} is not a calendar date`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new TimeParseError(`time ${quote(text)} is not a valid time of day`);
  }
}

/** Fractions beyond milliseconds are truncated, never rounded into the next second (as the parser does). */
function millis(frac: string | undefined): number {
  return frac === undefined ? 0 : Number(`${frac}00`.slice(0, 3));
}

const MIN_MS = Date.UTC(1000, 0, 1);
const MAX_MS = Date.UTC(10000, 0, 1);

function fromEpochMs(ms: number, text: string): string {
  // Sub-millisecond epoch fractions are truncated like the text formats' digits.
  const whole = Math.trunc(ms);
  if (!Number.isFinite(whole) || whole < MIN_MS || whole >= MAX_MS) {
    throw new TimeParseError(`time ${quote(text)} is outside the supported range`);
  }
  return new Date(whole).toISOString();
}

/** Integer and fraction apart: `1575195601.001 * 1000` in floating point is 1575195601000.9999. */
function epochSeconds(text: string): string {
  const dot = text.indexOf('.');
  const whole = Number(dot < 0 ? text : text.slice(0, dot));
  return fromEpochMs(whole * 1000 + (dot < 0 ? 0 : millis(text.slice(dot + 1))), text);
}

function fail(text: string, expected: string): never {
  throw new TimeParseError(`time ${quote(text)} is not ${expected}`);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
