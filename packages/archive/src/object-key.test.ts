import { describe, expect, it } from 'vitest';
import {
  archiveDate,
  archiveObjectKey,
  parseArchiveObjectKey,
  partitionObjectsPrefix,
} from './object-key.js';

describe('archive object keys', () => {
  it('names a file by dt, topic, partition and zero-padded first/last offsets, and parses back', () => {
    const name = {
      dt: '2024-02-29',
      topic: 'telemetry.parsed',
      partition: 3,
      firstOffset: 42n,
      lastOffset: 1_000_017n,
    };
    const key = archiveObjectKey(name);
    expect(key).toBe('dt=2024-02-29/telemetry.parsed+3+00000000000000000042+00000000000001000017.parquet');
    // Written before generations were recorded: generation 0.
    expect(parseArchiveObjectKey(key)).toEqual({ ...name, generation: 0 });
    expect(key.startsWith(partitionObjectsPrefix('2024-02-29', 'telemetry.parsed', 3))).toBe(true);
    // Partition 3's prefix does not match partition 30's files.
    expect(
      archiveObjectKey({ ...name, partition: 30 }).startsWith(
        partitionObjectsPrefix('2024-02-29', 'telemetry.parsed', 3),
      ),
    ).toBe(false);
  });

  it('carries the writer’s group generation, which does not change where the name sorts', () => {
    const name = {
      dt: '2024-02-29',
      topic: 'telemetry.parsed',
      partition: 3,
      firstOffset: 42n,
      lastOffset: 50n,
    };
    const key = archiveObjectKey({ ...name, generation: 17 });
    expect(key).toBe(
      'dt=2024-02-29/telemetry.parsed+3+00000000000000000042+00000000000000000050+g17.parquet',
    );
    expect(parseArchiveObjectKey(key)).toEqual({ ...name, generation: 17 });
    expect(key.startsWith(partitionObjectsPrefix('2024-02-29', 'telemetry.parsed', 3))).toBe(true);
    expect(() => archiveObjectKey({ ...name, generation: -1 })).toThrow(/generation/);
  });

  it('sorts names by offset, whatever the number of digits, up to int64', () => {
    const keys = [9n, 10n, 100n, 9_223_372_036_854_775_807n].map((o) =>
      archiveObjectKey({ dt: '2024-01-01', topic: 't', partition: 0, firstOffset: o, lastOffset: o }),
    );
    expect([...keys].sort()).toEqual(keys);
    expect(parseArchiveObjectKey(keys[3]!)?.lastOffset).toBe(9_223_372_036_854_775_807n);
  });

  it('refuses names that could not be parsed back or would leave the dt folder', () => {
    const ok = { dt: '2024-01-01', topic: 't', partition: 0, firstOffset: 1n, lastOffset: 2n };
    expect(() => archiveObjectKey({ ...ok, topic: 'a+b' })).toThrow(/topic/);
    expect(() => archiveObjectKey({ ...ok, topic: '../x' })).toThrow(/topic/);
    expect(() => archiveObjectKey({ ...ok, dt: '2024-1-1' })).toThrow(/dt/);
    expect(() => archiveObjectKey({ ...ok, firstOffset: 3n })).toThrow(/offsets/);
    expect(
      parseArchiveObjectKey('dt=2024-01-01/export+pv+20240101T000000Z+20240102T000000Z.parquet'),
    ).toBeUndefined();
    expect(parseArchiveObjectKey('dt=2024-01-01/t+0+1+2.parquet')).toBeUndefined();
  });

  it('dates rows by the UTC day of their timestamp', () => {
    expect(archiveDate(Date.parse('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29');
    expect(archiveDate(Date.parse('2024-03-01T00:00:00.000Z'))).toBe('2024-03-01');
    // 08:59 in Seoul on 1 March is still 29 February in UTC.
    expect(archiveDate(Date.parse('2024-03-01T08:59:00+09:00'))).toBe('2024-02-29');
  });
});
