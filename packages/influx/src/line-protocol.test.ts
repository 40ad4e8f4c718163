import { type ParsedRecord, ParsedRecordSchema } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import {
  escapeFieldKey,
  escapeMeasurement,
  escapeTag,
  formatFloat,
  LineProtocolError,
  quoteStringValue,
  recordToLine,
  timestampMs,
} from './line-protocol.js';
import { SAMPLE_RECORDS } from './sample-records.fixture.js';

function record(overrides: Partial<ParsedRecord> = {}): ParsedRecord {
  return {
    v: 1,
    site: '000001',
    equipment: 'battery',
    device: '01',
    ts: '2023-06-09T11:34:06.000Z',
    fields: { soc: 31.5 },
    flags: {},
    schema: 'microgrid.v1',
    lineage: { topic: 'telemetry.raw', partition: 0, offset: '1' },
    ...overrides,
  };
}

describe('recordToLine', () => {
  it('writes measurement, sorted tags, float fields, boolean flags and a ms timestamp', () => {
    const line = recordToLine(
      record({ fields: { soc: 31.5, dc_voltage: 733.4 }, flags: { run: true, fault: false } }),
    );
    expect(line).toBe(
      'battery,device=01,site=000001 soc=31.5,dc_voltage=733.4,run=true,fault=false 1686310446000',
    );
  });

  it('adds the rack tag between device and site only when present', () => {
    expect(recordToLine(record({ rack: '1' }))).toBe(
      'battery,device=01,rack=1,site=000001 soc=31.5 1686310446000',
    );
    expect(recordToLine(record())).toBe('battery,device=01,site=000001 soc=31.5 1686310446000');
  });

  it('keeps field keys verbatim (case, underscores)', () => {
    expect(recordToLine(record({ equipment: 'inverter', fields: { AC_ACTIVE: 18.5, soc: 1 } }))).toBe(
      'inverter,device=01,site=000001 AC_ACTIVE=18.5,soc=1 1686310446000',
    );
  });

  it('writes integers without the i suffix, so InfluxDB types them float', () => {
    const line = recordToLine(record({ fields: { a: 100, b: 0, c: 1927341568 } }))!;
    expect(line).toContain(' a=100,b=0,c=1927341568 ');
    expect(line).not.toMatch(/=\d+i/);
  });

  it('returns null for a record with neither readings nor flags', () => {
    expect(recordToLine(record({ fields: {}, flags: {} }))).toBeNull();
    // quality alone is no reading either
    expect(recordToLine(record({ fields: {}, flags: {}, quality: { soc: ['stale'] } }))).toBeNull();
  });

  it('writes a flags-only record', () => {
    expect(recordToLine(record({ fields: {}, flags: { run: false } }))).toBe(
      'battery,device=01,site=000001 run=false 1686310446000',
    );
  });

  it('adds <field>__quality string fields with comma-joined flags', () => {
    const line = recordToLine(
      record({
        fields: { soc: 31.5, dc_current: 14 },
        quality: { soc: ['out_of_range'], dc_current: ['stale', 'flatline'] },
      }),
    );
    expect(line).toBe(
      'battery,device=01,site=000001 soc=31.5,dc_current=14,soc__quality="out_of_range",dc_current__quality="stale,flatline" 1686310446000',
    );
  });

  it('skips empty quality lists', () => {
    expect(recordToLine(record({ quality: { soc: [] } }))).toBe(
      'battery,device=01,site=000001 soc=31.5 1686310446000',
    );
  });

  it('escapes space, comma and equals in tag values and field keys', () => {
    const line = recordToLine(
      record({ site: 'Mirae building, east', device: 'inv=1', rack: 'r 2', fields: { 'AC active,kW=x': 1 } }),
    );
    expect(line).toBe(
      'battery,device=inv\\=1,rack=r\\ 2,site=Mirae\\ building\\,\\ east AC\\ active\\,kW\\=x=1 1686310446000',
    );
  });

  it('keeps inner backslashes literal and escapes only what follows them', () => {
    expect(escapeTag('back\\slash')).toBe('back\\slash');
    expect(escapeTag('a\\,b')).toBe('a\\\\,b');
    expect(escapeFieldKey('b\\x')).toBe('b\\x');
    expect(escapeFieldKey('a\\\\,b')).toBe('a\\\\\\,b');
  });

  it('escapes double quotes in field keys but not in tags (the server unescapes \\" only in field keys)', () => {
    expect(escapeTag('q"uote')).toBe('q"uote');
    expect(escapeFieldKey('f"k')).toBe('f\\"k');
  });

  it('refuses names the parser cannot read back', () => {
    expect(() => escapeTag('trailing\\', 'device')).toThrow(LineProtocolError);
    expect(() => escapeTag('trailing\\', 'device')).toThrow(/device: .*ending in a backslash/);
    expect(() => escapeFieldKey('odd\\,run')).toThrow(/odd run of backslashes/);
    expect(() => escapeFieldKey('k\\')).toThrow(LineProtocolError);
    expect(() => escapeMeasurement('a\\b')).toThrow(LineProtocolError);
    expect(() => recordToLine(record({ fields: { time: 1 } }))).toThrow(/fields\.time/);
  });

  it('refuses a name that is both a reading and a flag', () => {
    expect(() => recordToLine(record({ fields: { run: 1 }, flags: { run: true } }))).toThrow(/flags\.run/);
  });

  it('refuses non-finite numbers and non-boolean flags from unvalidated input', () => {
    expect(() => recordToLine(record({ fields: { soc: Number.NaN } }))).toThrow(
      /fields\.soc: not a finite number/,
    );
    expect(() => recordToLine(record({ fields: { soc: Number.POSITIVE_INFINITY } }))).toThrow(
      LineProtocolError,
    );
    expect(() => recordToLine(record({ flags: { run: 'yes' as unknown as boolean } }))).toThrow(/flags\.run/);
  });

  it('escapes measurement commas and spaces', () => {
    expect(escapeMeasurement('a b,c')).toBe('a\\ b\\,c');
  });

  it('escapes string values (quotes, backslashes)', () => {
    expect(quoteStringValue('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('handles non-ASCII names without escaping them', () => {
    expect(recordToLine(record({ site: '미래관', fields: { 온도: 21.5 } }))).toBe(
      'battery,device=01,site=미래관 온도=21.5 1686310446000',
    );
  });

  it('writes every sample record, each valid under the schema', () => {
    for (const r of SAMPLE_RECORDS) {
      expect(ParsedRecordSchema.safeParse(r).success).toBe(true);
      const line = recordToLine(r);
      expect(line).toMatch(/^[a-z_]+,device=\w+(,rack=\d+)?,site=000001 \S+ 1686310446000$/);
    }
  });
});

describe('formatFloat', () => {
  it.each([
    [0.1, '0.1'],
    [733.4, '733.4'],
    [1927341568, '1927341568'],
    [100, '100'],
    [-0, '0'],
    [-12.5, '-12.5'],
    [1e21, '1e+21'],
    [1.5e-7, '1.5e-7'],
    [Number.MAX_SAFE_INTEGER + 2, '9007199254740992'],
    [Number.MIN_VALUE, '5e-324'],
  ])('%s → %s', (value, text) => {
    expect(formatFloat(value)).toBe(text);
    // the text reads back as the same double
    expect(Number(text)).toBe(value === 0 ? 0 : value);
  });
});

describe('timestampMs', () => {
  it('is exact to the millisecond', () => {
    expect(timestampMs('2023-06-09T11:34:06.789Z')).toBe(1686310446789);
    expect(timestampMs('1970-01-01T00:00:00.001Z')).toBe(1);
  });

  it('truncates sub-millisecond digits (precision=ms)', () => {
    expect(timestampMs('2023-06-09T11:34:06.789999Z')).toBe(1686310446789);
  });

  it('refuses garbage', () => {
    expect(() => timestampMs('yesterday')).toThrow(LineProtocolError);
  });
});
