import { ParsedRecordSchema, ProblemSchema } from '@gridstream/schema';
import { describe, expect, it, vi } from 'vitest';
import { type DecodeResult, decodeMicrogrid, equipmentFor, type RecordDraft } from './decode-microgrid.js';

const SEOUL = { zoneForSite: () => 'Asia/Seoul' };
const HEADER = { site_id: 'S1', timestamp: '2023-06-09 20:34:06' };
const TS = '2023-06-09T11:34:06.000Z';

function decode(layer: unknown, header: unknown = HEADER): DecodeResult {
  const result = decodeMicrogrid({ header, FieldDeviceLayer: layer }, SEOUL);
  expectCanonical(result);
  return result;
}

/** Every draft must become a valid canonical record once the caller adds schema and lineage. */
function expectCanonical(result: DecodeResult): void {
  for (const draft of result.records) {
    const record = { ...draft, schema: 'microgrid.v1', lineage: { topic: 't', partition: 0, offset: '0' } };
    expect(ParsedRecordSchema.safeParse(record).error?.issues).toBeUndefined();
  }
  for (const problem of result.problems) expect(ProblemSchema.parse(problem)).toEqual(problem);
}

function ids(records: RecordDraft[]): string[] {
  return records.map((r) => [r.equipment, r.device, r.rack].filter((x) => x !== undefined).join('/'));
}

function onlyProblem(result: DecodeResult) {
  expect(result.problems).toHaveLength(1);
  return result.problems[0]!;
}

describe('decodeMicrogrid: message level (one problem, no records)', () => {
  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'str'],
    ['a number', 42],
  ])('a message that is %s -> missing_header', (_name, value) => {
    const result = decodeMicrogrid(value, SEOUL);
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'missing_header', path: '' });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['an array', [HEADER]],
    ['a string', '2023-06-09 20:34:06'],
  ])('a header that is %s -> missing_header', (_name, header) => {
    const result = decodeMicrogrid(
      { header, FieldDeviceLayer: { field5: { service: [{ index: 1, p: 1 }] } } },
      SEOUL,
    );
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'missing_header', path: 'header' });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['an object', { id: 1 }],
    ['negative', -1],
    ['fractional', 1.5],
    ['with a control character', 'S\u00011'],
  ])('a site_id that is %s -> missing_header at header.site_id', (_name, site_id) => {
    const result = decode({}, { ...HEADER, site_id });
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'missing_header', path: 'header.site_id' });
  });

  it('a missing timestamp -> missing_header at header.timestamp', () => {
    expect(onlyProblem(decode({}, { site_id: 'S1' }))).toMatchObject({
      reason: 'missing_header',
      path: 'header.timestamp',
    });
  });

  it.each([
    ['a number', 20230609203406],
    ['not a timestamp', 'yesterday'],
    ['ISO with a T', '2023-06-09T20:34:06'],
    ['not a calendar date', '2023-02-30 12:00:00'],
  ])('a timestamp that is %s -> bad_timestamp', (_name, timestamp) => {
    const result = decode({ field5: { service: [{ index: 1, p: 1 }] } }, { ...HEADER, timestamp });
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_timestamp', path: 'header.timestamp' });
  });

  it('a timestamp inside a daylight-saving gap of the site zone -> bad_timestamp', () => {
    const result = decodeMicrogrid(
      { header: { site_id: 'B', timestamp: '2023-03-26 02:30:00' }, FieldDeviceLayer: {} },
      { zoneForSite: () => 'Europe/Berlin' },
    );
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_timestamp', path: 'header.timestamp' });
    expect(result.problems[0]!.message).toMatch(/does not exist in Europe\/Berlin/);
  });

  it('asks for the zone of the site named in the header (a numeric site_id becomes a string)', () => {
    const zoneForSite = vi.fn(() => 'UTC');
    const result = decodeMicrogrid(
      {
        header: { site_id: 7, timestamp: '2023-06-09 20:34:06' },
        FieldDeviceLayer: { field5: { service: [{ index: 1, p: 2 }] } },
      },
      { zoneForSite },
    );
    expect(zoneForSite).toHaveBeenCalledWith('7');
    expect(result.records).toEqual([
      {
        v: 1,
        site: '7',
        equipment: 'pv',
        device: '1',
        ts: '2023-06-09T20:34:06.000Z',
        fields: { p: 2 },
        flags: {},
      },
    ]);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['an array', [{ service: [] }]],
    ['a string', 'field1'],
  ])('a FieldDeviceLayer that is %s -> bad_structure', (_name, layer) => {
    const result = decode(layer);
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_structure', path: 'FieldDeviceLayer' });
  });
});

describe('decodeMicrogrid: equipment groups', () => {
  const pv = { service: [{ index: 1, AC_Power: 3.5 }] };

  it.each([
    ['service is missing', { Name: 'AC/DC_Invertor' }, /no service array/],
    ['service is an object', { service: { index: 1 } }, /service is an object, not an array/],
    ['service is null', { service: null }, /service is null, not an array/],
    ['the group is a string', 'oops', /the group is the string "oops"/],
    ['the group is null', null, /the group is null/],
  ])('%s -> one missing_service problem; the other groups still parse', (_name, group, message) => {
    const result = decode({ field3: group, field5: pv });
    expect(onlyProblem(result)).toMatchObject({
      reason: 'missing_service',
      path: 'FieldDeviceLayer.field3.service',
    });
    expect(result.problems[0]!.message).toMatch(message);
    expect(ids(result.records)).toEqual(['pv/1']);
  });

  it('names known groups from MICROGRID_EQUIPMENT and others after their key', () => {
    expect(equipmentFor('field1')).toBe('battery');
    expect(equipmentFor('field6')).toBe('ev_charger');
    expect(equipmentFor('field7')).toBe('field7');
    expect(equipmentFor('Wind Turbine #2')).toBe('wind_turbine_2');
    expect(equipmentFor('7-ESS')).toBe('group_7_ess');
    expect(equipmentFor('constructor')).toBe('constructor');
    expect(equipmentFor('__proto__')).toBe('proto');
    expect(equipmentFor('x'.repeat(100))).toBe('x'.repeat(63));
    expect(equipmentFor('!!!')).toBeUndefined();
  });

  it('a group key with nothing to name the equipment after -> bad_structure; other groups parse', () => {
    const result = decode({ '***': pv, field5: pv });
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_structure', path: 'FieldDeviceLayer["***"]' });
    expect(ids(result.records)).toEqual(['pv/1']);
  });

  it('an empty service array yields nothing and is not an error by itself', () => {
    const result = decode({ field1: { service: [] }, field5: pv });
    expect(result.problems).toEqual([]);
    expect(ids(result.records)).toEqual(['pv/1']);
  });
});

describe('decodeMicrogrid: device instances', () => {
  it('numbers are fields, booleans are flags; null, strings and nested objects/arrays are skipped', () => {
    const result = decode({
      field2: {
        service: [
          {
            index: 1,
            frequency: 60,
            dc_current: -3.25,
            run: true,
            fault: false,
            missing_now: null,
            model: 'DCDC-100',
            version: 'v2.3.1',
            label: '12 kW',
            hex: '0x1F',
            empty: '',
            meta: { vendor: 'x', rated: 100 },
            history: [1, 2, 3],
          },
        ],
      },
    });
    expect(result.problems).toEqual([]);
    expect(result.records).toEqual([
      {
        v: 1,
        site: 'S1',
        equipment: 'dcdc_converter',
        device: '1',
        ts: TS,
        fields: { frequency: 60, dc_current: -3.25 },
        flags: { run: true, fault: false },
      },
    ]);
  });

  it('keeps reading names verbatim and in document order', () => {
    const result = decode({
      field3: { service: [{ index: 2, WARN2: 0, AC_ACTIVE: 9.5, 'Cipher Algorithm': 1 }] },
    });
    expect(Object.keys(result.records[0]!.fields)).toEqual(['WARN2', 'AC_ACTIVE', 'Cipher Algorithm']);
  });

  it('uses id when present (batteries, "01"), else index ("1"); neither is ever a field', () => {
    const result = decode({
      field1: { service: [{ id: '01', index: 9, soc: 50 }] },
      field2: { service: [{ index: 1, id: null, p: 1 }] },
      field7: { service: [{ id: 3, p: 2 }] },
    });
    expect(result.records.map((r) => [r.equipment, r.device, r.fields])).toEqual([
      ['battery', '01', { soc: 50 }],
      ['dcdc_converter', '1', { p: 1 }],
      ['field7', '3', { p: 2 }],
    ]);
  });

  it.each([
    ['a string', 'x', 'FieldDeviceLayer.field2.service[1]', /not an object/],
    ['an array', [1], 'FieldDeviceLayer.field2.service[1]', /not an object/],
    ['without id or index', { p: 1 }, 'FieldDeviceLayer.field2.service[1]', /neither id nor index/],
    ['with an empty id', { id: '', p: 1 }, 'FieldDeviceLayer.field2.service[1].id', /not a usable device id/],
    ['with an object index', { index: {}, p: 1 }, 'FieldDeviceLayer.field2.service[1].index', /not a usable/],
    [
      'with a negative index',
      { index: -2, p: 1 },
      'FieldDeviceLayer.field2.service[1].index',
      /not a usable/,
    ],
  ])('an instance that is %s -> bad_structure for it alone', (_name, instance, path, message) => {
    const result = decode({ field2: { service: [{ index: 1, p: 1 }, instance, { index: 3, p: 3 }] } });
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_structure', path });
    expect(result.problems[0]!.message).toMatch(message);
    expect(ids(result.records)).toEqual(['dcdc_converter/1', 'dcdc_converter/3']);
  });

  it.each(['31.5', ' 12 ', '-1e3', '+7', '.5', '5.', '1E+2', 'NaN', 'Infinity', '-Infinity', '\t42\n'])(
    'a reading sent as the string %j -> wrong_type; that instance is rejected, the others are not',
    (text) => {
      const result = decode({
        field1: {
          service: [
            { id: '01', soc: text, soh: 100, run: true },
            { id: '02', soc: 31.2 },
          ],
        },
      });
      expect(onlyProblem(result)).toMatchObject({
        reason: 'wrong_type',
        path: 'FieldDeviceLayer.field1.service[0].soc',
      });
      expect(result.problems[0]!.message).toContain(JSON.stringify(text));
      expect(ids(result.records)).toEqual(['battery/02']);
    },
  );

  it('reports every wrong-typed reading of an instance, each with its own path', () => {
    const result = decode({ field4: { service: [{ index: 1, IA: '86.75', IB: '90.5', IC: 110.09 }] } });
    expect(result.records).toEqual([]);
    expect(result.problems.map((p) => [p.reason, p.path])).toEqual([
      ['wrong_type', 'FieldDeviceLayer.field4.service[0].IA'],
      ['wrong_type', 'FieldDeviceLayer.field4.service[0].IB'],
    ]);
  });

  it('quotes awkward keys in problem paths', () => {
    const result = decode({ 'field 9': { service: [{ index: 1, 'AC power': '3' }] } });
    expect(onlyProblem(result).path).toBe('FieldDeviceLayer["field 9"].service[0]["AC power"]');
  });

  it('a non-finite number (1e999 in JSON) -> invalid_record; the instance is rejected', () => {
    const value = JSON.parse(
      '{"header":{"site_id":"S1","timestamp":"2023-06-09 20:34:06"},"FieldDeviceLayer":{"field5":{"service":[{"index":1,"p":1e999},{"index":2,"p":1}]}}}',
    );
    const result = decodeMicrogrid(value, SEOUL);
    expectCanonical(result);
    expect(onlyProblem(result)).toMatchObject({
      reason: 'invalid_record',
      path: 'FieldDeviceLayer.field5.service[0].p',
    });
    expect(ids(result.records)).toEqual(['pv/2']);
  });

  it.each([
    ['a control character', 'a\u0007b'],
    ['__proto__', '__proto__'],
    ['an empty name', ''],
  ])('a reading whose name has %s -> invalid_record; the instance is rejected', (_name, key) => {
    const value = JSON.parse(
      `{"header":{"site_id":"S1","timestamp":"2023-06-09 20:34:06"},"FieldDeviceLayer":{"field5":{"service":[{"index":1,${JSON.stringify(key)}:1,"ok":2},{"index":2,"p":true}]}}}`,
    );
    const result = decodeMicrogrid(value, SEOUL);
    expectCanonical(result);
    expect(onlyProblem(result).reason).toBe('invalid_record');
    expect(ids(result.records)).toEqual(['pv/2']);
  });

  it('an instance with no numbers and no booleans yields no record and no problem', () => {
    const result = decode({
      field5: {
        service: [
          { index: 1, note: 'offline', p: null },
          { index: 2, p: 4 },
        ],
      },
    });
    expect(result.problems).toEqual([]);
    expect(ids(result.records)).toEqual(['pv/2']);
  });

  it('a message without any reading at all -> one no_readings problem', () => {
    const result = decode({ field5: { service: [{ index: 1, note: 'offline' }] }, field6: { service: [] } });
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'no_readings', path: 'FieldDeviceLayer' });
    expect(onlyProblem(decode({})).reason).toBe('no_readings');
  });

  it('a device id repeated in one group -> bad_structure for the repeat (InfluxDB would overwrite the first)', () => {
    const result = decode({
      field2: {
        service: [
          { index: 1, p: 1 },
          { index: 1, p: 2 },
        ],
      },
    });
    expect(onlyProblem(result)).toMatchObject({
      reason: 'bad_structure',
      path: 'FieldDeviceLayer.field2.service[1]',
    });
    expect(result.records.map((r) => r.fields)).toEqual([{ p: 1 }]);
  });
});

describe('decodeMicrogrid: battery racks', () => {
  const flags = { run: true, fault: false };

  it('a racks object becomes its own record after its parent, with rack = its index', () => {
    const result = decode({
      field1: {
        service: [{ id: '01', soc: 31.5, ...flags, racks: { index: 1, dc_current: 13.3, ...flags } }],
      },
    });
    expect(result.problems).toEqual([]);
    expect(result.records).toEqual([
      { v: 1, site: 'S1', equipment: 'battery', device: '01', ts: TS, fields: { soc: 31.5 }, flags },
      {
        v: 1,
        site: 'S1',
        equipment: 'battery',
        device: '01',
        rack: '1',
        ts: TS,
        fields: { dc_current: 13.3 },
        flags,
      },
    ]);
  });

  it('a racks array gives one record per rack; rack id from index, else id, else 1-based position', () => {
    const result = decode({
      field1: {
        service: [
          { id: '01', soc: 1, racks: [{ index: 1, a: 1 }, { id: 'R2', a: 2 }, { a: 3 }] },
          { id: '02', soc: 2, racks: { a: 4 } },
        ],
      },
    });
    expect(result.problems).toEqual([]);
    expect(ids(result.records)).toEqual([
      'battery/01',
      'battery/01/1',
      'battery/01/R2',
      'battery/01/3',
      'battery/02',
      'battery/02/1',
    ]);
    expect(result.records.map((r) => r.fields)).toEqual([
      { soc: 1 },
      { a: 1 },
      { a: 2 },
      { a: 3 },
      { soc: 2 },
      { a: 4 },
    ]);
  });

  it('a rack with a wrong-typed reading is rejected alone; its parent and sibling racks are kept', () => {
    const result = decode({
      field1: {
        service: [
          {
            id: '01',
            soc: 1,
            racks: [
              { index: 1, a: '13.3' },
              { index: 2, a: 2 },
            ],
          },
        ],
      },
    });
    expect(onlyProblem(result)).toMatchObject({
      reason: 'wrong_type',
      path: 'FieldDeviceLayer.field1.service[0].racks[0].a',
    });
    expect(ids(result.records)).toEqual(['battery/01', 'battery/01/2']);
  });

  it('a parent with a wrong-typed reading is rejected; its racks, being devices of their own, are kept', () => {
    const result = decode({ field1: { service: [{ id: '01', soc: '31.5', racks: { index: 1, a: 1 } }] } });
    expect(onlyProblem(result)).toMatchObject({
      reason: 'wrong_type',
      path: 'FieldDeviceLayer.field1.service[0].soc',
    });
    expect(ids(result.records)).toEqual(['battery/01/1']);
  });

  it.each([
    ['a string', 'none', 'FieldDeviceLayer.field1.service[0].racks', /not an object or an array/],
    ['a number', 2, 'FieldDeviceLayer.field1.service[0].racks', /not an object or an array/],
    ['an array holding a string', ['r1'], 'FieldDeviceLayer.field1.service[0].racks[0]', /not an object/],
    [
      'a rack with a bad index',
      { index: 1.5, a: 1 },
      'FieldDeviceLayer.field1.service[0].racks.index',
      /rack id/,
    ],
  ])('racks that is %s -> bad_structure; the parent is still emitted', (_name, racks, path, message) => {
    const result = decode({ field1: { service: [{ id: '01', soc: 1, racks }] } });
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_structure', path });
    expect(result.problems[0]!.message).toMatch(message);
    expect(ids(result.records)).toEqual(['battery/01']);
  });

  it('null racks are no racks', () => {
    expect(ids(decode({ field1: { service: [{ id: '01', soc: 1, racks: null }] } }).records)).toEqual([
      'battery/01',
    ]);
  });

  it('a repeated rack id within one device -> bad_structure for the repeat', () => {
    const result = decode({
      field1: {
        service: [
          {
            id: '01',
            soc: 1,
            racks: [
              { index: 1, a: 1 },
              { index: 1, a: 2 },
            ],
          },
        ],
      },
    });
    expect(onlyProblem(result)).toMatchObject({
      reason: 'bad_structure',
      path: 'FieldDeviceLayer.field1.service[0].racks[1]',
    });
    expect(ids(result.records)).toEqual(['battery/01', 'battery/01/1']);
  });

  it('racks are read for any equipment, not only batteries', () => {
    expect(ids(decode({ field9: { service: [{ index: 4, racks: [{ index: 1, a: 1 }] }] } }).records)).toEqual(
      ['field9/4/1'],
    );
  });
});
