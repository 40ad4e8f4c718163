import { describe, expect, it } from 'vitest';
import {
  decodeArchiveMessage,
  decodeArchiveRecord,
  InvalidRecordError,
  recordToRows,
} from './record-rows.js';
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

describe('decodeArchiveMessage', () => {
  const v2 = (records: unknown[]) =>
    JSON.stringify({
      v: 2,
      site: testRecord(0).site,
      schema: testRecord(0).schema,
      lineage: testRecord(0).lineage,
      records,
    });
  const entry = (i: number) => {
    const { v: _v, site: _s, schema: _sc, lineage: _l, ...rest } = testRecord(i);
    return rest;
  };

  it('v2: every valid record, the invalid ones apart with their reason, even in a message of one record', () => {
    const bad = { ...entry(1), fields: { soc: 'high' } };
    const two = decodeArchiveMessage(v2([entry(0), bad]));
    expect(two.bundle).toBe(true);
    expect(two.records).toEqual([testRecord(0)]);
    expect(two.invalid).toHaveLength(1);
    expect(two.invalid[0]!.error).toBeInstanceOf(InvalidRecordError);
    expect(two.invalid[0]!.error.message).toContain('fields.soc');

    const one = decodeArchiveMessage(v2([bad]));
    expect(one).toMatchObject({ bundle: true, records: [] });
    expect(one.invalid).toHaveLength(1);
  });

  it('v1: the record, or the whole message invalid', () => {
    expect(decodeArchiveMessage(JSON.stringify(testRecord(0)))).toEqual({
      bundle: false,
      records: [testRecord(0)],
      invalid: [],
    });
    const bad = decodeArchiveMessage(JSON.stringify({ ...testRecord(0), ts: 'yesterday' }));
    expect(bad).toMatchObject({ bundle: false, records: [] });
    expect(bad.invalid).toHaveLength(1);
  });

  it('a value of neither format throws', () => {
    expect(() => decodeArchiveMessage('{"v":2,"records":[]}')).toThrow(InvalidRecordError);
  });
});
