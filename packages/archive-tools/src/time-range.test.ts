import { describe, expect, it } from 'vitest';
import { daysOf } from './influx-export.js';
import {
  compactInstant,
  HOUR_MS,
  parseTimeArgument,
  TimeArgumentError,
  timeWindows,
  utcDatesBetween,
  zonedMidnight,
} from './time-range.js';

describe('time arguments', () => {
  it('reads dates as midnight UTC (or in a zone) and ISO times with an offset', () => {
    expect(parseTimeArgument('2024-03-01', '--from')).toBe(Date.parse('2024-03-01T00:00:00Z'));
    expect(parseTimeArgument('2024-03-01', '--from', 'Asia/Seoul')).toBe(Date.parse('2024-02-29T15:00:00Z'));
    expect(parseTimeArgument('2024-03-01T09:30:00+09:00', '--to')).toBe(Date.parse('2024-03-01T00:30:00Z'));
    expect(parseTimeArgument('2024-03-01T10:00Z', '--to')).toBe(Date.parse('2024-03-01T10:00:00Z'));
  });

  it('refuses times that would silently be machine-local, and impossible dates', () => {
    expect(() => parseTimeArgument('2024-03-01T10:00:00', '--from')).toThrow(TimeArgumentError);
    expect(() => parseTimeArgument('2024-02-30', '--from')).toThrow(/not a calendar date/);
    expect(() => parseTimeArgument('yesterday', '--from')).toThrow(/--from/);
  });

  it('cuts ranges into aligned windows and lists the UTC days they touch', () => {
    const from = Date.parse('2024-03-01T22:30:00Z');
    const to = Date.parse('2024-03-02T01:00:00Z');
    expect(
      [...timeWindows(from, to, HOUR_MS)].map(([a, b]) => [compactInstant(a), compactInstant(b)]),
    ).toEqual([
      ['20240301T223000Z', '20240301T230000Z'],
      ['20240301T230000Z', '20240302T000000Z'],
      ['20240302T000000Z', '20240302T010000Z'],
    ]);
    expect(utcDatesBetween(from, to)).toEqual(['2024-03-01', '2024-03-02']);
    expect(compactInstant(Date.parse('2024-03-01T00:00:00.250Z'))).toBe('20240301T000000250Z');
  });

  it('finds local midnight across DST changes', () => {
    expect(new Date(zonedMidnight('2024-03-31', 'Europe/Berlin')).toISOString()).toBe(
      '2024-03-30T23:00:00.000Z',
    );
    expect(new Date(zonedMidnight('2024-04-01', 'Europe/Berlin')).toISOString()).toBe(
      '2024-03-31T22:00:00.000Z',
    );
    // Havana skips midnight on its spring-forward day: the day starts at 01:00 local (05:00Z).
    expect(new Date(zonedMidnight('2024-03-10', 'America/Havana')).toISOString()).toBe(
      '2024-03-10T05:00:00.000Z',
    );
  });

  it('splits an export range into days, clipped, in UTC or a zone', () => {
    const from = Date.parse('2024-03-01T12:00:00Z');
    const to = Date.parse('2024-03-03T00:00:00Z');
    expect(
      [...daysOf(from, to, 'UTC')].map((d) => [d.date, compactInstant(d.start), compactInstant(d.end)]),
    ).toEqual([
      ['2024-03-01', '20240301T120000Z', '20240302T000000Z'],
      ['2024-03-02', '20240302T000000Z', '20240303T000000Z'],
    ]);
    expect([...daysOf(from, to, 'Asia/Seoul')].map((d) => d.date)).toEqual([
      '2024-03-01',
      '2024-03-02',
      '2024-03-03',
    ]);
  });
});
