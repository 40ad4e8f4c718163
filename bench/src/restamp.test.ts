import { describe, expect, it } from 'vitest';
import { localStamp, restamp, timestampOffset } from './restamp.js';

const message = Buffer.from(
  '{"header": {"site_id": "000001", "EnergyPlatformLayer": 1, "timestamp": "2026-01-01 09:00:00.000"}, "x": 1}',
);

describe('restamp', () => {
  it('writes the wall-clock time of the zone, with milliseconds', () => {
    expect(localStamp(Date.UTC(2026, 2, 1, 0, 0, 0, 7), 'Asia/Seoul')).toBe('2026-03-01 09:00:00.007');
    expect(localStamp(Date.UTC(2026, 6, 1, 12, 30, 0, 250), 'Europe/Berlin')).toBe('2026-07-01 14:30:00.250');
    expect(localStamp(Date.UTC(2026, 0, 1, 12, 30, 0, 250), 'Europe/Berlin')).toBe('2026-01-01 13:30:00.250');
  });

  it('changes only the timestamp and leaves the template untouched', () => {
    const offset = timestampOffset(message);
    const copy = restamp(message, offset, Date.UTC(2026, 4, 2, 3, 4, 5, 678), 'Asia/Seoul');
    expect(JSON.parse(copy.toString()).header.timestamp).toBe('2026-05-02 12:04:05.678');
    expect(copy.length).toBe(message.length);
    expect(JSON.parse(message.toString()).header.timestamp).toBe('2026-01-01 09:00:00.000');
  });

  it('refuses a second-precision stamp, which has no room for milliseconds', () => {
    expect(() => timestampOffset(Buffer.from('{"header": {"timestamp": "2026-01-01 09:00:00"}}'))).toThrow(
      /mmm/,
    );
  });
});
