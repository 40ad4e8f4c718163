/**
 * Time arguments of the tools (`--from`, `--to`) and the UTC-day arithmetic the archive layout needs:
 * `dt=YYYY-MM-DD` is always the UTC date of `ts`, so every day boundary here is UTC unless a zone is given
 * explicitly (daily CSV files may be cut at the site's local midnight).
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date-time must say which instant it is: a bare `2024-03-01T10:00` would silently be machine-local. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export class TimeArgumentError extends Error {
  override readonly name = 'TimeArgumentError';
}

/**
 * `YYYY-MM-DD` (midnight of that day, UTC or in `timeZone`) or an ISO date-time with `Z` or an offset,
 * as epoch milliseconds.
 */
export function parseTimeArgument(text: string, what: string, timeZone = 'UTC'): number {
  const trimmed = text.trim();
  const date = DATE_ONLY.exec(trimmed);
  if (date) {
    const ms = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    if (utcDate(ms) !== trimmed) throw new TimeArgumentError(`${what}: ${text} is not a calendar date`);
    return timeZone === 'UTC' ? ms : zonedMidnight(trimmed, timeZone);
  }
  if (DATE_TIME.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeArgumentError(
    `${what}: ${JSON.stringify(text)} is neither YYYY-MM-DD nor an ISO date-time with Z or an offset`,
  );
}

/** `YYYY-MM-DD` of an instant in UTC. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of the day holding `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Every UTC date (`YYYY-MM-DD`) that [fromMs, toMs) touches, in order. */
export function utcDatesBetween(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let day = utcDayStart(fromMs); day < toMs; day += DAY_MS) out.push(utcDate(day));
  return out;
}

/** [start, end) windows of at most `stepMs` covering [fromMs, toMs), aligned to multiples of `stepMs`. */
export function* timeWindows(fromMs: number, toMs: number, stepMs: number): Generator<[number, number]> {
  let start = fromMs;
  while (start < toMs) {
    const aligned = Math.floor(start / stepMs) * stepMs + stepMs;
    const end = Math.min(aligned, toMs);
    yield [start, end];
    start = end;
  }
}

/** Compact, sortable and file-name safe: `20240301T000000Z` (milliseconds only when not zero). */
export function compactInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  const base = iso.slice(0, 19).replace(/[-:]/g, '');
  const millis = iso.slice(20, 23);
  return millis === '000' ? `${base}Z` : `${base}${millis}Z`;
}

/**
 * Midnight of a calendar date in an IANA zone, as epoch ms. Midnight can be skipped by a DST change in a
 * few zones (e.g. America/Havana); the day then starts at the first instant after the gap, which is what
 * a "daily file" of that day has to begin with.
 */
export function zonedMidnight(date: string, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`);
  // The offset at a guess and then at the corrected instant converges within two steps for any real zone.
  let guess = wall - offsetAt(timeZone, wall);
  guess = wall - offsetAt(timeZone, guess);
  if (utcDateIn(timeZone, guess) !== date) {
    // Gap at midnight: the guess landed on the previous day; step forward to the transition.
    let t = guess;
    while (utcDateIn(timeZone, t) !== date) t += 60_000;
    return t;
  }
  return guess;
}

/** The calendar date of an instant in a zone. */
export function utcDateIn(timeZone: string, ms: number): string {
  return formatterFor(timeZone).format(ms);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (fmt === undefined) {
    // en-CA formats as YYYY-MM-DD.
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** Wall clock minus UTC at an instant, in ms. */
function offsetAt(timeZone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour') % 24,
    get('minute'),
    get('second'),
  );
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}
