import { describe, expect, it } from 'vitest';
import { decodeParsedMessage, encodeParsedMessages, ParsedMessageError } from './parsed-message.js';
import type { ParsedRecord } from './parsed-record.js';

const record = (over: Partial<ParsedRecord> = {}): ParsedRecord => ({
  v: 1,
  site: '000001',
  equipment: 'battery',
  device: '01',
  ts: '2023-06-09T11:34:06.000Z',
  fields: { soc: 31.5 },
  flags: { run: true },
  schema: 'microgrid.v1',
  lineage: { topic: 'telemetry.raw', partition: 2, offset: '18734' },
  ...over,
});

describe('parsed messages', () => {
  it('v1: one message per record, keyed by device, the record itself', () => {
    const records = [record(), record({ equipment: 'pv', device: '3' })];
    const out = encodeParsedMessages(records, 'v1');
    expect(out.map((m) => m.key)).toEqual(['000001/battery/01', '000001/pv/3']);
    expect(out.map((m) => JSON.parse(m.value))).toEqual(records);
  });

  it('v2: the records of one raw message, site and day in one message keyed by site, round trip exact', () => {
    const records = [
      record({ rack: '1', quality: { soc: ['out_of_range'] } }),
      record({ rack: '2', fields: { soc: 40, soh: 99.5 } }),
      record({ equipment: 'pv', device: '3', flags: {} }),
    ];
    const out = encodeParsedMessages(records, 'v2');
    expect(out).toHaveLength(1);
    expect(out[0]!.key).toBe('000001');
    const value = JSON.parse(out[0]!.value);
    expect(value).toMatchObject({
      v: 2,
      site: '000001',
      schema: 'microgrid.v1',
      lineage: records[0]!.lineage,
    });
    // Identity and lineage are said once per message, not per record.
    expect(Object.keys(value.records[0]).sort()).toEqual(
      ['device', 'equipment', 'fields', 'flags', 'quality', 'rack', 'ts'].sort(),
    );
    expect(decodeParsedMessage(Buffer.from(out[0]!.value))).toEqual(records);
  });

  it('v2: a new message for another raw message, site or UTC day, in order of first appearance', () => {
    const a = record();
    const b = record({ site: '000002' });
    const c = record({ ts: '2023-06-10T00:00:00.000Z' });
    const d = record({ lineage: { topic: 'telemetry.raw', partition: 2, offset: '18735' } });
    const e = record({ device: '02' });
    const out = encodeParsedMessages([a, b, c, d, e], 'v2');
    expect(out.map((m) => m.key)).toEqual(['000001', '000002', '000001', '000001']);
    expect(out.map((m) => decodeParsedMessage(m.value))).toEqual([[a, e], [b], [c], [d]]);
  });

  it('reads a v1 value as its one record', () => {
    const r = record();
    expect(decodeParsedMessage(JSON.stringify(r))).toEqual([r]);
  });

  it.each([
    ['empty', '', 'empty message'],
    ['not JSON', '{', 'not JSON'],
    ['an array', '[]', 'not a JSON object'],
    ['v2 without records', '{"v":2,"site":"s","schema":"microgrid.v1","lineage":{}}', '"records"'],
    [
      'v2 with empty records',
      '{"v":2,"site":"s","schema":"microgrid.v1","lineage":{},"records":[]}',
      '"records"',
    ],
    ['v2 without site', '{"v":2,"schema":"microgrid.v1","lineage":{},"records":[{}]}', '"site"'],
    ['v2 without lineage', '{"v":2,"site":"s","schema":"microgrid.v1","records":[{}]}', '"lineage"'],
    [
      'v2 with a record that is no object',
      '{"v":2,"site":"s","schema":"x","lineage":{},"records":[1]}',
      'records[0]',
    ],
  ])('refuses %s with a reason', (_, value, reason) => {
    expect(() => decodeParsedMessage(value)).toThrow(ParsedMessageError);
    expect(() => decodeParsedMessage(value)).toThrow(reason);
  });
});
