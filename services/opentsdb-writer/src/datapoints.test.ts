import { type AlarmEvent, type ParsedRecord, QUALITY_FLAGS } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import {
  DatapointError,
  DatapointMapper,
  DEFAULT_NAMING,
  MIN_TIMESTAMP_MS,
  type NamingOptions,
  QUALITY_BITS,
  qualityFlagsOf,
} from './datapoints.js';
import { NameRules } from './naming.js';
import { datapointsJson, formatValue } from './opentsdb-target.js';

const mapper = (over: Partial<NamingOptions> = {}) => new DatapointMapper({ ...DEFAULT_NAMING, ...over });
const TS = Date.parse('2023-06-09T11:34:06.000Z');

const record = (over: Partial<ParsedRecord> = {}): ParsedRecord => ({
  v: 1,
  site: '000001',
  equipment: 'battery',
  device: '01',
  rack: '1',
  ts: '2023-06-09T11:34:06.000Z',
  fields: { soc: 31.5, dc_voltage: 733.4 },
  flags: { run: true, fault: false },
  quality: { soc: ['out_of_range', 'stale'] },
  schema: 'microgrid.v1',
  lineage: { topic: 'telemetry.raw', partition: 0, offset: '1' },
  ...over,
});

describe('record → datapoints', () => {
  it('writes one datapoint per reading, flags as 1/0 and a quality mask per flagged value', () => {
    const tags = { site: '000001', device: '01', rack: '1' };
    expect(mapper().recordPoints(record())).toEqual([
      { metric: 'battery.soc', timestamp: TS, value: 31.5, tags },
      { metric: 'battery.dc_voltage', timestamp: TS, value: 733.4, tags },
      { metric: 'battery.run', timestamp: TS, value: 1, tags },
      { metric: 'battery.fault', timestamp: TS, value: 0, tags },
      { metric: 'battery.soc__quality', timestamp: TS, value: 1 + 8, tags },
    ]);
  });

  it('leaves the rack tag out of a record without a rack', () => {
    const points = mapper().recordPoints(record({ rack: undefined, quality: undefined }));
    expect(points.map((p) => p.tags)).toEqual(points.map(() => ({ site: '000001', device: '01' })));
  });

  it('maps every reading of the reference message, and nothing else', () => {
    const m = mapper({ qualityPoints: false });
    for (const r of SAMPLE_RECORDS) {
      const points = m.recordPoints(r);
      expect(points).toHaveLength(Object.keys(r.fields).length + Object.keys(r.flags).length);
      for (const [field, value] of Object.entries(r.fields))
        expect(points).toContainEqual(expect.objectContaining({ metric: `${r.equipment}.${field}`, value }));
    }
  });

  it('writes no quality datapoints when they are off, and none for an empty flag list', () => {
    expect(
      mapper({ qualityPoints: false })
        .recordPoints(record())
        .map((p) => p.metric),
    ).not.toContain('battery.soc__quality');
    expect(
      mapper()
        .recordPoints(record({ quality: { soc: [] } }))
        .map((p) => p.metric),
    ).not.toContain('battery.soc__quality');
  });

  it('writes the quality of a value that was left out (a NaN reading flagged bad)', () => {
    const points = mapper().recordPoints(record({ fields: {}, flags: {}, quality: { temp: ['bad'] } }));
    expect(points).toEqual([expect.objectContaining({ metric: 'battery.temp__quality', value: 2 })]);
  });

  it('gives every quality flag its own bit, the existing ones pinned', () => {
    expect(QUALITY_BITS).toEqual({
      out_of_range: 1,
      bad: 2,
      uncertain: 4,
      stale: 8,
      flatline: 16,
      rate_of_change: 32,
      anomaly: 64,
    });
    expect(Object.keys(QUALITY_BITS)).toEqual([...QUALITY_FLAGS]);
    expect(qualityFlagsOf(1 + 8 + 64)).toEqual(['out_of_range', 'stale', 'anomaly']);
  });

  it('puts the field in a tag when the template has no {field}', () => {
    const points = mapper({
      metricTemplate: 'energy',
      tags: ['site', 'device', 'rack', 'equipment', 'field'],
    }).recordPoints(record({ quality: undefined, flags: {} }));
    expect(points).toEqual([
      {
        metric: 'energy',
        timestamp: TS,
        value: 31.5,
        tags: { site: '000001', device: '01', rack: '1', equipment: 'battery', field: 'soc' },
      },
      {
        metric: 'energy',
        timestamp: TS,
        value: 733.4,
        tags: { site: '000001', device: '01', rack: '1', equipment: 'battery', field: 'dc_voltage' },
      },
    ]);
  });

  it('names site and device in the metric when the template says so', () => {
    const points = mapper({
      metricTemplate: 'gs.{site}.{device}.{equipment}.{field}',
      tags: ['rack'],
    }).recordPoints(record({ fields: { soc: 1 }, flags: {}, quality: undefined }));
    expect(points).toEqual([
      { metric: 'gs.000001.01.battery.soc', timestamp: TS, value: 1, tags: { rack: '1' } },
    ]);
  });

  it('refuses a record whose timestamp OpenTSDB would read as seconds', () => {
    const early = new Date(MIN_TIMESTAMP_MS - 1).toISOString();
    expect(() => mapper().recordPoints(record({ ts: early }))).toThrow(
      /read its millisecond timestamp as seconds/,
    );
    expect(
      mapper().recordPoints(record({ ts: new Date(MIN_TIMESTAMP_MS).toISOString() }))[0]!.timestamp,
    ).toBe(MIN_TIMESTAMP_MS);
  });

  it('refuses readings that are not numbers or booleans, and names them', () => {
    const bad = (over: Partial<ParsedRecord>) => () => mapper().recordPoints(record(over));
    expect(bad({ fields: { soc: '31.5' as unknown as number } })).toThrow(DatapointError);
    expect(bad({ fields: { soc: '31.5' as unknown as number } })).toThrow(
      /fields\.soc: "31\.5" is not a finite number/,
    );
    expect(bad({ flags: { run: 1 as unknown as boolean } })).toThrow(/flags\.run: 1 is not a boolean/);
    expect(bad({ quality: { soc: ['odd' as 'bad'] } })).toThrow(/quality\.soc: "odd" is no quality flag/);
    expect(bad({ device: '' })).toThrow(/device: "" is not a non-empty string/);
  });
});

describe('names OpenTSDB refuses', () => {
  const rules = new NameRules();

  it('accepts what OpenTSDB accepts: ASCII letters, digits, - _ . / and letters of any script', () => {
    for (const ok of ['soc', 'AC_ACTIVE', 'a-b.c/d_e', '온도', 'Température', 'напряжение'])
      expect(rules.invalidChars(ok), ok).toEqual([]);
    expect(rules.invalidChars('temp (°C)')).toEqual([' ', '(', '°', ')']);
    expect(rules.invalidChars('a:b=c,d"e😀')).toEqual([':', '=', ',', '"', '😀']);
    // Digits of other scripts are no letters to Java's Character.isLetter.
    expect(rules.invalidChars('٣')).toEqual(['٣']);
  });

  it('replaces each refused character (a surrogate pair as one) with _ by default', () => {
    const points = mapper().recordPoints(
      record({ device: 'inv 1:A', fields: { 'temp (°C)': 20, '온도😀': 21 }, flags: {}, quality: undefined }),
    );
    expect(points.map((p) => p.metric)).toEqual(['battery.temp___C_', 'battery.온도_']);
    expect(points[0]!.tags.device).toBe('inv_1_A');
  });

  it('refuses the record instead when OPENTSDB_INVALID_CHARS=refuse, naming the characters', () => {
    const m = mapper({ invalidChars: 'refuse' });
    expect(() => m.recordPoints(record({ fields: { 'temp (°C)': 20 } }))).toThrow(
      'fields.temp (°C): "temp (°C)" has characters OpenTSDB refuses in names (" ", "(", "°", ")"); OPENTSDB_INVALID_CHARS=replace would write it as "temp___C_"',
    );
    expect(() => m.recordPoints(record({ site: 'north site' }))).toThrow(/^site: "north site"/);
    expect(m.recordPoints(record())).toHaveLength(5);
  });

  it('accepts the server’s allowed special characters', () => {
    const points = mapper({ allowedSpecialChars: ' :' }).recordPoints(
      record({ device: 'inv 1:A', fields: { 'a b': 1 }, flags: {}, quality: undefined }),
    );
    expect(points).toEqual([
      expect.objectContaining({
        metric: 'battery.a b',
        tags: expect.objectContaining({ device: 'inv 1:A' }),
      }),
    ]);
  });

  it('refuses a record two of whose readings would become one series', () => {
    expect(() =>
      mapper().recordPoints(record({ fields: { 'a b': 1, a_b: 2 }, flags: {}, quality: undefined })),
    ).toThrow('fields.a b and fields.a_b are both written as battery.a_b: one would overwrite the other');
    // A field and a flag of one name, or a field literally named like a quality datapoint.
    expect(() => mapper().recordPoints(record({ fields: { run: 1 }, flags: { run: true } }))).toThrow(
      /fields\.run and flags\.run are both written as battery\.run/,
    );
    expect(() => mapper().recordPoints(record({ fields: { soc: 1, soc__quality: 3 } }))).toThrow(
      /fields\.soc__quality and quality\.soc are both written as battery\.soc__quality/,
    );
  });
});

describe('the naming must tell readings apart', () => {
  it('refuses a template and tags that leave out part of a reading’s identity', () => {
    expect(() => mapper({ metricTemplate: '{equipment}' })).toThrow(
      /field is neither in the metric template/,
    );
    expect(() => mapper({ tags: ['site', 'device'] })).toThrow(/rack must be a tag/);
    expect(() => mapper({ tags: ['device', 'rack'] })).toThrow(/site is neither in the metric template/);
    expect(() => mapper({ metricTemplate: '{equipment}.{feild}' })).toThrow(/\{feild\} is not a placeholder/);
    expect(() => mapper({ metricTemplate: 'my metrics.{equipment}.{field}' })).toThrow(
      /fixed text has characters/,
    );
  });
});

describe('alarm events', () => {
  const event = (over: Partial<AlarmEvent> = {}): AlarmEvent => ({
    v: 1,
    id: '000001/battery/01/1/cell_over_voltage@2023-06-09T11:34:06.000Z',
    site: '000001',
    equipment: 'battery',
    device: '01',
    rack: '1',
    rule: 'cell_over_voltage',
    field: 'max_cell_voltage',
    state: 'raised',
    level: 'warning',
    value: 4.2,
    threshold: 4.15,
    raisedAt: '2023-06-09T11:34:06.000Z',
    ts: '2023-06-09T11:34:06.000Z',
    message: 'max_cell_voltage 4.2 above 4.15',
    ...over,
  });

  it('writes the level as a number: 1 warning, 2 fault, 0 once cleared', () => {
    const tags = { site: '000001', equipment: 'battery', device: '01', rack: '1', rule: 'cell_over_voltage' };
    expect(mapper().alarmPoints(event())).toEqual([
      { metric: 'gridstream.alarm', timestamp: TS, value: 1, tags },
    ]);
    expect(mapper().alarmPoints(event({ state: 'escalated', level: 'fault' }))[0]!.value).toBe(2);
    expect(mapper().alarmPoints(event({ state: 'cleared', level: 'fault' }))[0]!.value).toBe(0);
    expect(mapper().alarmPoints(event({ rack: undefined }))[0]!.tags).not.toHaveProperty('rack');
  });
});

describe('the request body', () => {
  it('is the JSON array /api/put takes, values exact', () => {
    const points = mapper().recordPoints(
      record({ fields: { a: 0.1 + 0.2, b: -1.5, c: 1e-7, d: 12 }, flags: {} }),
    );
    const json = datapointsJson(points);
    expect(JSON.parse(json)).toEqual(points);
    expect(json).toContain('"metric":"battery.a","timestamp":1686310446000,"value":0.30000000000000004');
  });

  it('writes integral values of 2^53 and more in exponent form, so OpenTSDB does not read them as a long', () => {
    expect(formatValue(1e19)).toBe('1e+19');
    expect(formatValue(-(2 ** 60))).toBe('-1.152921504606847e+18');
    expect(Number(formatValue(2 ** 60 + 2 ** 8))).toBe(2 ** 60 + 2 ** 8);
    expect(formatValue(2 ** 53 - 1)).toBe('9007199254740991');
    expect(formatValue(12.5)).toBe('12.5');
    expect(() => formatValue(Number.NaN)).toThrow();
  });

  it('escapes names as JSON', () => {
    const json = datapointsJson([{ metric: 'a"b', timestamp: TS, value: 1, tags: { device: 'x\\y' } }]);
    expect(JSON.parse(json)).toEqual([{ metric: 'a"b', timestamp: TS, value: 1, tags: { device: 'x\\y' } }]);
  });
});
