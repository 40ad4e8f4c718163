import { describe, expect, it } from 'vitest';
import { decodeArchiveRecord, InvalidRecordError, recordToRows } from './record-rows.js';
import { testRecord } from './test-records.fixture.js';

describe('recordToRows', () => {
  it('makes one row per field, then one per flag (1/0), with quality joined and the Kafka position', () => {
    const record = testRecord(0); // battery rack, quality on soc and on the run flag
    const rows = recordToRows(record, 4, 123n);
    expect(rows.map((r) => [r.field, r.value, r.is_flag, r.quality])).toEqual([
      ['soc', 0, false, 'out_of_range'],
      ['cell_voltage_max', 3.3, false, null],
      ['temp, max', -12.5, false, null],
      ['run', 1, true, 'stale,flatline'],
      ['fault', 1, true, null],
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({
        ts: Date.parse(record.ts),
        site: record.site,
        equipment: 'battery',
        device: record.device,
        rack: record.rack,
        kafka_partition: 4,
        kafka_offset: 123n,
      });
    }
  });

  it('gives rack null for a device itself, and no quality for an empty flag list', () => {
    const rows = recordToRows(testRecord(2), 0, 0n);
    expect(rows.every((r) => r.rack === null && r.quality === null)).toBe(true);
  });
});

describe('decodeArchiveRecord', () => {
  it('accepts what the parser writes', () => {
    const record = testRecord(7);
    expect(decodeArchiveRecord(Buffer.from(JSON.stringify(record)))).toEqual(
      JSON.parse(JSON.stringify(record)),
    );
  });

  it.each([
    ['an empty message', null, /empty/],
    ['bytes that are not JSON', Buffer.from('{"v":1,'), /not JSON/],
    ['JSON that is not a record', Buffer.from('{}'), /not a parsed record/],
    [
      'a record with a string value',
      Buffer.from(JSON.stringify({ ...testRecord(1), fields: { p: 'x' } })),
      /fields\.p/,
    ],
    [
      'a record with a local timestamp',
      Buffer.from(JSON.stringify({ ...testRecord(1), ts: '2024-03-01 10:00:00' })),
      /ts/,
    ],
  ])('refuses %s with InvalidRecordError', (_, value, message) => {
    expect(() => decodeArchiveRecord(value)).toThrow(InvalidRecordError);
    expect(() => decodeArchiveRecord(value)).toThrow(message);
  });
});
