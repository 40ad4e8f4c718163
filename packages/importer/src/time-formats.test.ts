import { describe, expect, it } from 'vitest';
import { parseTime, TimeParseError } from './time-formats.js';

const utc = (s: string) => parseTime(s, 'auto', 'UTC');

describe('parseTime formats', () => {
  it('YYYY-MM-DD HH:MM:SS[.fff], with and without fraction; sub-ms digits truncated', () => {
    expect(parseTime('2019-12-01 10:20:01', 'YYYY-MM-DD HH:mm:ss', 'UTC')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('2019-12-01 10:20:01.001', 'YYYY-MM-DD HH:mm:ss', 'UTC')).toBe(
      '2019-12-01T10:20:01.001Z',
    );
    expect(parseTime('2019-12-01 10:20:01.5', 'YYYY-MM-DD HH:mm:ss', 'UTC')).toBe('2019-12-01T10:20:01.500Z');
    expect(parseTime('2019-12-01 10:20:01.999999', 'YYYY-MM-DD HH:mm:ss', 'UTC')).toBe(
      '2019-12-01T10:20:01.999Z',
    );
    expect(() => parseTime('2019-12-01T10:20:01Z', 'YYYY-MM-DD HH:mm:ss', 'UTC')).toThrow(TimeParseError);
  });

  it('ISO 8601 with Z, with offsets in every spelling, and without a zone (read in the chosen zone)', () => {
    expect(parseTime('2019-12-01T10:20:01.001Z', 'iso', 'Asia/Seoul')).toBe('2019-12-01T10:20:01.001Z');
    expect(parseTime('2019-12-01T19:20:01+09:00', 'iso', 'UTC')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('2019-12-01T19:20:01+0900', 'iso', 'UTC')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('2019-12-01T05:20:01-05', 'iso', 'UTC')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('2019-12-01T10:20', 'iso', 'UTC')).toBe('2019-12-01T10:20:00.000Z');
    expect(parseTime('2019-12-01T19:20:01.250', 'iso', 'Asia/Seoul')).toBe('2019-12-01T10:20:01.250Z');
    expect(() => parseTime('2019-12-01T10:20:01+25:00', 'iso', 'UTC')).toThrow(TimeParseError);
  });

  it('12-hour AM/PM: 12 AM = 00, 1 AM = 01, 11 AM = 11, 12 PM = 12, 1 PM = 13, 11 PM = 23', () => {
    const t = (s: string) => parseTime(s, 'ampm', 'UTC');
    expect(t('2019-12-01T12:00:00.001 AM')).toBe('2019-12-01T00:00:00.001Z');
    expect(t('2019-12-01T12:59:59.999 AM')).toBe('2019-12-01T00:59:59.999Z');
    expect(t('2019-12-01T01:00:00.000 AM')).toBe('2019-12-01T01:00:00.000Z');
    expect(t('2019-12-01T10:00:00.001 AM')).toBe('2019-12-01T10:00:00.001Z');
    expect(t('2019-12-01T11:59:59.000 AM')).toBe('2019-12-01T11:59:59.000Z');
    expect(t('2019-12-01T12:00:00.001 PM')).toBe('2019-12-01T12:00:00.001Z');
    expect(t('2019-12-01T01:00:00.000 PM')).toBe('2019-12-01T13:00:00.000Z');
    expect(t('2019-12-01T11:30:00.000 PM')).toBe('2019-12-01T23:30:00.000Z');
    // Other spellings: space instead of T, lower case, no space, no fraction, one-digit hour.
    expect(t('2019-12-01 3:04:05 pm')).toBe('2019-12-01T15:04:05.000Z');
    expect(t('2019-12-01 03:04:05PM')).toBe('2019-12-01T15:04:05.000Z');
    expect(t('2019-12-01 03:04:05 p.m.')).toBe('2019-12-01T15:04:05.000Z');
  });

  it('refuses hours that do not exist on a 12-hour clock', () => {
    expect(() => parseTime('2019-12-01T00:00:00 AM', 'ampm', 'UTC')).toThrow(/12-hour clock/);
    expect(() => parseTime('2019-12-01T13:00:00 PM', 'ampm', 'UTC')).toThrow(/12-hour clock/);
    expect(() => parseTime('2019-12-01T10:00:00', 'ampm', 'UTC')).toThrow(TimeParseError);
  });

  it('14-digit YYYYmmddHHMMSS', () => {
    expect(parseTime('20191201102001', '14digit', 'UTC')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('20191201192001', '14digit', 'Asia/Seoul')).toBe('2019-12-01T10:20:01.000Z');
    expect(() => parseTime('20191301102001', '14digit', 'UTC')).toThrow(/calendar date/);
    expect(() => parseTime('2019120110200', '14digit', 'UTC')).toThrow(TimeParseError);
  });

  it('epoch seconds (with a fraction, exactly) and milliseconds; zones do not apply', () => {
    expect(parseTime('1575195601', 'epoch_s', 'Asia/Seoul')).toBe('2019-12-01T10:20:01.000Z');
    expect(parseTime('1575195601.001', 'epoch_s', 'UTC')).toBe('2019-12-01T10:20:01.001Z');
    expect(parseTime('1575195601001', 'epoch_ms', 'Asia/Seoul')).toBe('2019-12-01T10:20:01.001Z');
    expect(() => parseTime('-5', 'epoch_s', 'UTC')).toThrow(TimeParseError);
    expect(() => parseTime('1.5', 'epoch_ms', 'UTC')).toThrow(TimeParseError);
  });

  it('rejects empty cells, impossible dates and times', () => {
    expect(() => utc('')).toThrow(/empty/);
    expect(() => utc('  ')).toThrow(/empty/);
    expect(() => utc('2019-02-29 00:00:00')).toThrow(/calendar date/);
    expect(() => utc('2020-02-30 00:00:00')).toThrow(/calendar date/);
    expect(utc('2020-02-29 00:00:00')).toBe('2020-02-29T00:00:00.000Z');
    expect(() => utc('2019-12-01 24:00:00')).toThrow(/time of day/);
    expect(() => utc('yesterday')).toThrow(TimeParseError);
  });
});

describe('auto detection, per value', () => {
  it('tells every format apart', () => {
    expect(utc('2019-12-01 10:20:01.001')).toBe('2019-12-01T10:20:01.001Z');
    expect(utc('2019-12-01T10:20:01.001')).toBe('2019-12-01T10:20:01.001Z');
    expect(utc('2019-12-01T19:20:01.001+09:00')).toBe('2019-12-01T10:20:01.001Z');
    expect(utc('2019-12-01T10:20:01.001Z')).toBe('2019-12-01T10:20:01.001Z');
    expect(utc('2019-12-01T10:00:00.001 PM')).toBe('2019-12-01T22:00:00.001Z');
    expect(utc('2019-12-01T12:00:00.001 AM')).toBe('2019-12-01T00:00:00.001Z');
    expect(utc('20191201102001')).toBe('2019-12-01T10:20:01.000Z');
    expect(utc('1575195601001')).toBe('2019-12-01T10:20:01.001Z');
    expect(utc('1575195601')).toBe('2019-12-01T10:20:01.000Z');
    expect(utc('1575195601.5')).toBe('2019-12-01T10:20:01.500Z');
  });

  it('refuses 12 digits (neither epoch ms nor a calendar time) instead of guessing', () => {
    expect(() => utc('157519560100')).toThrow(TimeParseError);
  });
});

describe('zones', () => {
  it('reads zone-less times in the chosen IANA zone (Seoul: UTC+9, no DST)', () => {
    expect(parseTime('2019-12-01 10:20:01.001', 'auto', 'Asia/Seoul')).toBe('2019-12-01T01:20:01.001Z');
    expect(parseTime('2019-12-01T10:00:00.001 PM', 'auto', 'Asia/Seoul')).toBe('2019-12-01T13:00:00.001Z');
    expect(parseTime('2019-12-01T12:00:00.000 AM', 'auto', 'Asia/Seoul')).toBe('2019-11-30T15:00:00.000Z');
    expect(parseTime('20191201000000', 'auto', 'Asia/Seoul')).toBe('2019-11-30T15:00:00.000Z');
  });

  it('is DST-correct: summer and winter offsets, a skipped hour rejected, a repeated hour = earlier instant', () => {
    const ny = (s: string) => parseTime(s, 'auto', 'America/New_York');
    expect(ny('2024-07-01 12:00:00')).toBe('2024-07-01T16:00:00.000Z'); // EDT, UTC-4
    expect(ny('2024-01-15 12:00:00')).toBe('2024-01-15T17:00:00.000Z'); // EST, UTC-5
    expect(() => ny('2024-03-10 02:30:00')).toThrow(/does not exist/); // spring forward
    expect(ny('2024-11-03 01:30:00')).toBe('2024-11-03T05:30:00.000Z'); // fall back: first 01:30 (EDT)
    expect(ny('2024-11-03T01:30:00.000 AM')).toBe('2024-11-03T05:30:00.000Z');
  });

  it('an explicit offset wins over the chosen zone', () => {
    expect(parseTime('2024-07-01T12:00:00Z', 'auto', 'America/New_York')).toBe('2024-07-01T12:00:00.000Z');
  });
});
