import { LOCAL_TIMESTAMP_PATTERN } from './microgrid.js';

/**
 * Wall-clock time in an IANA zone -> UTC, without a date library. Gateways stamp messages in the site's
 * local time with no offset, so every message needs this; it runs at the full message rate, hence the
 * caches: one Intl formatter per zone and one offset per (zone, local hour).
 */

/** The local time cannot be read or does not exist in the zone; maps to reason `bad_timestamp`. */
export class LocalTimeError extends Error {
  readonly reason = 'bad_timestamp' as const;
  override name = 'LocalTimeError';
}

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** 1000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the range a 4-digit ISO year can express. */
const MIN_MS = -30_610_224_000_000;
const MAX_MS = 253_402_300_800_000;
/** A replay of years of history touches ~9k hours per year; clearing beats tracking recency here. */
const MAX_CACHED_HOURS = 20_000;
/** Marks a local hour that holds a DST transition: resolved exactly on every call, never cached. */
const IRREGULAR = Number.NaN;

interface ZoneState {
  readonly fmt: Intl.DateTimeFormat;
  /** Local hour number (local wall time as if UTC, in hours since the epoch) -> offset ms, or IRREGULAR. */
  readonly hours: Map<number, number>;
  lastHour: number;
  lastOffset: number;
}

const zones = new Map<string, ZoneState>();

/** True if Intl knows the zone (IANA names, `UTC`, fixed offsets like `+09:00`). Call at config time. */
export function isValidTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Converts `YYYY-MM-DD HH:MM:SS[.ffffff]` in `timeZone` to `YYYY-MM-DDTHH:MM:SS.mmmZ`.
 * - Fractions beyond milliseconds are truncated (never rounded into the next second).
 * - A time that does not exist (skipped by a spring-forward transition) throws LocalTimeError.
 * - A time that exists twice (fall-back) resolves to the EARLIER instant, i.e. the one still on the
 *   pre-transition (usually summer) offset. The message carries no offset, so either choice is a guess;
 *   the earlier one keeps a device's readings in order across the transition hour as long as it keeps
 *   sending, and matches what java.time, Temporal (`disambiguation: 'compatible'`) and Python's fold=0 do.
 * - Years before 1000 are rejected: nothing measured this, and ISO years need 4 digits.
 * Throws RangeError if `timeZone` is unknown (a configuration error; validate with isValidTimeZone).
 */
export function localTimeToUtcIso(local: string, timeZone: string): string {
  const m = LOCAL_TIMESTAMP_PATTERN.exec(local);
  if (m === null) throw new LocalTimeError(`timestamp ${quote(local)} is not "YYYY-MM-DD HH:MM:SS[.ffffff]"`);
  const wallMs = checkedWallClockMs(m, local);
  const zone = zoneState(timeZone);
  const hourKey = Math.floor(wallMs / HOUR);
  let offset: number;
  if (hourKey === zone.lastHour) {
    offset = zone.lastOffset;
  } else {
    let cached = zone.hours.get(hourKey);
    if (cached === undefined) {
      cached = regularHourOffset(zone.fmt, hourKey * HOUR);
      if (zone.hours.size >= MAX_CACHED_HOURS) zone.hours.clear();
      zone.hours.set(hourKey, cached);
    }
    offset = cached;
    if (!Number.isNaN(cached)) {
      zone.lastHour = hourKey;
      zone.lastOffset = cached;
    }
  }
  const utcMs = Number.isNaN(offset) ? resolveExactly(zone.fmt, wallMs, local, timeZone) : wallMs - offset;
  if (utcMs < MIN_MS || utcMs >= MAX_MS) {
    throw new LocalTimeError(`timestamp ${quote(local)} is outside the supported range in UTC`);
  }
  return new Date(utcMs).toISOString();
}

/**
 * ISO 8601 with its own offset: `2023-06-09T20:34:06+09:00`, `…+0900`, `…Z`, with `T` or a space, with or
 * without a fraction. Such a time says exactly which instant it is, so no zone is needed (or applied).
 */
const OFFSET_TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A gateway header time to UTC: an ISO 8601 time with `Z` or an offset is converted exactly, whatever the
 * site's zone; a time without one (`YYYY-MM-DD HH:MM:SS`, the reference gateway's format) is wall-clock time
 * in `timeZone`, as localTimeToUtcIso reads it. Throws LocalTimeError for anything else.
 */
export function gatewayTimeToUtcIso(text: string, timeZone: string): string {
  const m = OFFSET_TIMESTAMP_PATTERN.exec(text);
  if (m === null) return localTimeToUtcIso(text, timeZone);
  const wallMs = checkedWallClockMs(m, text);
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 18 || om > 59 || (oh === 18 && om > 0))
      throw new LocalTimeError(`timestamp ${quote(text)} has an impossible offset ${zone}`);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const utcMs = wallMs - offsetMinutes * 60_000;
  if (utcMs < MIN_MS || utcMs >= MAX_MS)
    throw new LocalTimeError(`timestamp ${quote(text)} is outside the supported range in UTC`);
  return new Date(utcMs).toISOString();
}

/**
 * Groups 1–7 of either timestamp pattern (year, month, day, hour, minute, second, fraction) as the
 * wall-clock instant read as if it were UTC, after checking it is a real calendar date and time of day.
 */
function checkedWallClockMs(m: RegExpExecArray, text: string): number {
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const frac = m[7];
  const ms = frac === undefined ? 0 : Number((frac + '00').slice(0, 3));
  if (year < 1000) throw new LocalTimeError(`timestamp ${quote(text)}: years before 1000 are not supported`);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new LocalTimeError(`timestamp ${quote(text)} is not a calendar date`);
  }
  // Second 60 is refused: IANA zones do not model leap seconds, so it has no UTC instant to map to.
  if (hour > 23 || minute > 59 || second > 59) {
    throw new LocalTimeError(`timestamp ${quote(text)} is not a valid time of day`);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

function zoneState(timeZone: string): ZoneState {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      numberingSystem: 'latn',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zone = { fmt, hours: new Map(), lastHour: Number.NaN, lastOffset: 0 };
    zones.set(timeZone, zone);
  }
  return zone;
}

/**
 * The offset valid for the whole local hour starting at `hourStartWall`, or IRREGULAR when the hour holds
 * (part of) a gap or an overlap. Checking both ends is enough because zones never have two transitions
 * within one hour; a transition at a half hour (Australia/Lord_Howe) makes the ends differ and so is caught.
 */
function regularHourOffset(fmt: Intl.DateTimeFormat, hourStartWall: number): number {
  const start = candidates(fmt, hourStartWall);
  if (start.length !== 1) return IRREGULAR;
  const end = candidates(fmt, hourStartWall + HOUR - 1);
  if (end.length !== 1) return IRREGULAR;
  const startOffset = hourStartWall - start[0]!;
  const endOffset = hourStartWall + HOUR - 1 - end[0]!;
  return startOffset === endOffset ? startOffset : IRREGULAR;
}

function resolveExactly(fmt: Intl.DateTimeFormat, wallMs: number, local: string, timeZone: string): number {
  const found = candidates(fmt, wallMs);
  if (found.length === 0) {
    throw new LocalTimeError(
      `timestamp ${quote(local)} does not exist in ${timeZone} (skipped by a daylight-saving change)`,
    );
  }
  return found.length === 1 ? found[0]! : Math.min(found[0]!, found[1]!);
}

/**
 * The UTC instants whose wall-clock time in the zone is `wallMs`: none in a gap, two in an overlap. The
 * offsets a day before and after bracket any single transition, so one of them is the right one; this is
 * the same bracketing Temporal specifies for GetPossibleEpochNanoseconds.
 */
function candidates(fmt: Intl.DateTimeFormat, wallMs: number): number[] {
  const before = offsetAt(fmt, wallMs - DAY);
  const after = offsetAt(fmt, wallMs + DAY);
  const found: number[] = [];
  if (offsetAt(fmt, wallMs - before) === before) found.push(wallMs - before);
  if (after !== before && offsetAt(fmt, wallMs - after) === after) found.push(wallMs - after);
  return found;
}

/** Zone offset (wall clock minus UTC) in ms at a UTC instant. */
function offsetAt(fmt: Intl.DateTimeFormat, utcMs: number): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of fmt.formatToParts(utcMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        // Some ICU versions print midnight as 24 even with h23; it still means hour 0 of that day.
        hour = Number(part.value) % 24;
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  const wholeSecond = utcMs - (((utcMs % SECOND) + SECOND) % SECOND);
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? s.slice(0, 64) + '…' : s);
}
