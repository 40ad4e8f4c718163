import { describe, expect, it } from 'vitest';
import { isValidTimeZone, LocalTimeError, localTimeToUtcIso } from './local-time.js';

function rejection(local: string, zone: string): LocalTimeError {
  try {
    localTimeToUtcIso(local, zone);
  } catch (err) {
    if (err instanceof LocalTimeError) return err;
    throw err;
  }
  throw new Error(`expected ${local} in ${zone} to be rejected`);
}

describe('localTimeToUtcIso', () => {
  it('converts the reference message timestamp from Korea time', () => {
    expect(localTimeToUtcIso('2023-06-09 20:34:06', 'Asia/Seoul')).toBe('2023-06-09T11:34:06.000Z');
  });

  it.each([
    ['2023-06-09 20:34:06', 'UTC', '2023-06-09T20:34:06.000Z'],
    ['2023-01-01 00:00:00', 'Asia/Seoul', '2022-12-31T15:00:00.000Z'],
    ['2023-06-09 05:00:00', 'Asia/Kolkata', '2023-06-08T23:30:00.000Z'],
    ['2023-06-09 05:00:00', 'Asia/Kathmandu', '2023-06-08T23:15:00.000Z'],
    ['2023-06-09 12:00:00', 'Etc/GMT+5', '2023-06-09T17:00:00.000Z'],
    ['2023-06-09 12:00:00', '+09:00', '2023-06-09T03:00:00.000Z'],
    ['2023-01-15 12:00:00', 'Europe/Berlin', '2023-01-15T11:00:00.000Z'],
    ['2023-07-15 12:00:00', 'Europe/Berlin', '2023-07-15T10:00:00.000Z'],
    ['2024-02-29 23:59:59', 'America/New_York', '2024-03-01T04:59:59.000Z'],
    ['2000-02-29 00:00:00', 'UTC', '2000-02-29T00:00:00.000Z'],
    ['1970-01-01 09:00:00', 'Asia/Seoul', '1970-01-01T00:00:00.000Z'],
  ])('%s in %s is %s', (local, zone, utc) => {
    expect(localTimeToUtcIso(local, zone)).toBe(utc);
  });

  it('keeps milliseconds and truncates finer fractions instead of rounding into the next second', () => {
    expect(localTimeToUtcIso('2023-06-09 20:34:06.5', 'Asia/Seoul')).toBe('2023-06-09T11:34:06.500Z');
    expect(localTimeToUtcIso('2023-06-09 20:34:06.12', 'Asia/Seoul')).toBe('2023-06-09T11:34:06.120Z');
    expect(localTimeToUtcIso('2023-06-09 20:34:06.123456', 'Asia/Seoul')).toBe('2023-06-09T11:34:06.123Z');
    expect(localTimeToUtcIso('2023-12-31 23:59:59.999999', 'UTC')).toBe('2023-12-31T23:59:59.999Z');
  });

  describe('Europe/Berlin daylight saving (CET +01:00 / CEST +02:00)', () => {
    it('spring forward 2023-03-26 02:00 -> 03:00: the skipped hour does not exist', () => {
      for (const local of ['2023-03-26 02:00:00', '2023-03-26 02:30:00', '2023-03-26 02:59:59.999']) {
        const err = rejection(local, 'Europe/Berlin');
        expect(err.reason).toBe('bad_timestamp');
        expect(err.message).toMatch(/does not exist in Europe\/Berlin/);
      }
    });

    it('spring forward: the instants either side of the gap', () => {
      expect(localTimeToUtcIso('2023-03-26 01:59:59', 'Europe/Berlin')).toBe('2023-03-26T00:59:59.000Z');
      expect(localTimeToUtcIso('2023-03-26 03:00:00', 'Europe/Berlin')).toBe('2023-03-26T01:00:00.000Z');
      expect(localTimeToUtcIso('2023-03-26 03:30:00', 'Europe/Berlin')).toBe('2023-03-26T01:30:00.000Z');
    });

    it('fall back 2023-10-29 03:00 -> 02:00: the repeated hour resolves to the earlier (CEST) instant', () => {
      expect(localTimeToUtcIso('2023-10-29 02:00:00', 'Europe/Berlin')).toBe('2023-10-29T00:00:00.000Z');
      expect(localTimeToUtcIso('2023-10-29 02:30:00', 'Europe/Berlin')).toBe('2023-10-29T00:30:00.000Z');
      expect(localTimeToUtcIso('2023-10-29 02:59:59', 'Europe/Berlin')).toBe('2023-10-29T00:59:59.000Z');
    });

    it('fall back: the instants either side of the repeated hour', () => {
      expect(localTimeToUtcIso('2023-10-29 01:59:59', 'Europe/Berlin')).toBe('2023-10-28T23:59:59.000Z');
      expect(localTimeToUtcIso('2023-10-29 03:00:00', 'Europe/Berlin')).toBe('2023-10-29T02:00:00.000Z');
    });
  });

  describe('America/New_York daylight saving (EST -05:00 / EDT -04:00)', () => {
    it('spring forward 2023-03-12 02:00 -> 03:00', () => {
      expect(rejection('2023-03-12 02:30:00', 'America/New_York').reason).toBe('bad_timestamp');
      expect(localTimeToUtcIso('2023-03-12 01:59:59', 'America/New_York')).toBe('2023-03-12T06:59:59.000Z');
      expect(localTimeToUtcIso('2023-03-12 03:00:00', 'America/New_York')).toBe('2023-03-12T07:00:00.000Z');
    });

    it('fall back 2023-11-05 02:00 -> 01:00: 01:30 happens twice; the earlier (EDT) one wins', () => {
      expect(localTimeToUtcIso('2023-11-05 01:30:00', 'America/New_York')).toBe('2023-11-05T05:30:00.000Z');
      expect(localTimeToUtcIso('2023-11-05 00:59:59', 'America/New_York')).toBe('2023-11-05T04:59:59.000Z');
      expect(localTimeToUtcIso('2023-11-05 02:00:00', 'America/New_York')).toBe('2023-11-05T07:00:00.000Z');
    });
  });

  describe('Australia/Lord_Howe: half-hour transitions must not be cached per hour', () => {
    it('spring forward 2023-10-01 02:00 -> 02:30 (+10:30 -> +11:00)', () => {
      expect(localTimeToUtcIso('2023-10-01 01:59:00', 'Australia/Lord_Howe')).toBe(
        '2023-09-30T15:29:00.000Z',
      );
      expect(rejection('2023-10-01 02:15:00', 'Australia/Lord_Howe').reason).toBe('bad_timestamp');
      expect(localTimeToUtcIso('2023-10-01 02:45:00', 'Australia/Lord_Howe')).toBe(
        '2023-09-30T15:45:00.000Z',
      );
    });

    it('fall back 2023-04-02 02:00 -> 01:30: 01:45 resolves to the earlier (+11:00) instant', () => {
      expect(localTimeToUtcIso('2023-04-02 01:15:00', 'Australia/Lord_Howe')).toBe(
        '2023-04-01T14:15:00.000Z',
      );
      expect(localTimeToUtcIso('2023-04-02 01:45:00', 'Australia/Lord_Howe')).toBe(
        '2023-04-01T14:45:00.000Z',
      );
      expect(localTimeToUtcIso('2023-04-02 02:15:00', 'Australia/Lord_Howe')).toBe(
        '2023-04-01T15:45:00.000Z',
      );
    });
  });

  it('gives the same answers from the cache as on first computation, in any order', () => {
    const zone = 'Europe/Berlin';
    const cases: Array<[string, string]> = [
      ['2023-10-29 02:30:00', '2023-10-29T00:30:00.000Z'],
      ['2023-10-29 01:30:00', '2023-10-28T23:30:00.000Z'],
      ['2023-10-29 03:30:00', '2023-10-29T02:30:00.000Z'],
      ['2023-10-29 02:15:00', '2023-10-29T00:15:00.000Z'],
      ['2023-10-29 01:45:00', '2023-10-28T23:45:00.000Z'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [local, utc] of round === 1 ? [...cases].reverse() : cases) {
        expect(localTimeToUtcIso(local, zone)).toBe(utc);
      }
    }
  });

  it.each([
    ['2023-02-30 00:00:00', /not a calendar date/],
    ['2023-02-29 00:00:00', /not a calendar date/],
    ['2100-02-29 00:00:00', /not a calendar date/],
    ['2023-04-31 00:00:00', /not a calendar date/],
    ['2023-13-01 00:00:00', /not a calendar date/],
    ['2023-00-10 00:00:00', /not a calendar date/],
    ['2023-06-00 00:00:00', /not a calendar date/],
    ['2023-06-09 24:00:00', /not a valid time of day/],
    ['2023-06-09 23:60:00', /not a valid time of day/],
    ['2023-06-09 23:59:60', /not a valid time of day/],
    ['0999-06-09 12:00:00', /before 1000/],
    ['2023-06-09T20:34:06', /is not "YYYY-MM-DD HH:MM:SS/],
    ['2023-06-09 20:34:06Z', /is not "YYYY-MM-DD HH:MM:SS/],
    ['2023-06-09 20:34:06+09:00', /is not "YYYY-MM-DD HH:MM:SS/],
    ['2023-6-9 20:34:06', /is not "YYYY-MM-DD HH:MM:SS/],
    ['2023-06-09 20:34', /is not "YYYY-MM-DD HH:MM:SS/],
    ['2023-06-09 20:34:06.1234567', /is not "YYYY-MM-DD HH:MM:SS/],
    [' 2023-06-09 20:34:06', /is not "YYYY-MM-DD HH:MM:SS/],
    ['', /is not "YYYY-MM-DD HH:MM:SS/],
    ['yesterday', /is not "YYYY-MM-DD HH:MM:SS/],
  ])('rejects %j as bad_timestamp', (local, message) => {
    const err = rejection(local, 'Asia/Seoul');
    expect(err.reason).toBe('bad_timestamp');
    expect(err.message).toMatch(message);
  });

  it('rejects a local time whose UTC instant needs a 5-digit year', () => {
    expect(localTimeToUtcIso('9999-12-31 18:00:00', 'America/New_York')).toBe('9999-12-31T23:00:00.000Z');
    expect(rejection('9999-12-31 23:00:00', 'America/New_York').message).toMatch(
      /outside the supported range/,
    );
  });

  it('quotes a long bad timestamp only partly in the message', () => {
    expect(rejection('x'.repeat(10_000), 'UTC').message.length).toBeLessThan(200);
  });

  it('throws a RangeError, not a timestamp error, for an unknown zone (that is a configuration bug)', () => {
    expect(() => localTimeToUtcIso('2023-06-09 20:34:06', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it.each(['Asia/Seoul', 'Europe/Berlin', 'America/New_York', 'UTC', 'Etc/GMT-9', 'asia/seoul'])(
    'accepts %s',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(true);
    },
  );

  it.each(['', 'Mars/Olympus_Mons', 'Asia/Seoul ', 'KST+9'])('refuses %j', (zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});
