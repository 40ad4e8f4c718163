import { readFileSync } from 'node:fs';
import { type ParsedRecord, ParsedRecordSchema, ProblemSchema } from '@gridstream/schema';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ParseResult, parseRaw, type RawMessage, zoneResolver } from './parse-raw.js';

// Read inside the tests, not at import: a missing reference file must FAIL the tests, never skip them.
const REFERENCE = new URL('../../../../shared/reference/microgrid/sample.json', import.meta.url);
const OWN_SAMPLE = new URL('../../../sample/microgrid/message.json', import.meta.url);

const MAX_BYTES = 4 * 1024 * 1024;
const zoneForSite = zoneResolver('UTC', { '000001': 'Asia/Seoul', '000042': 'Asia/Seoul' });
const OPTIONS = { maxBytes: MAX_BYTES, zoneForSite };
const LINEAGE = { topic: 'telemetry.raw', partition: 3, offset: '9007199254740993' };

function raw(value: Buffer | string | null, headers: Record<string, string | undefined> = {}): RawMessage {
  return {
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers,
    topic: LINEAGE.topic,
    partition: LINEAGE.partition,
    offset: LINEAGE.offset,
  };
}

/** The invariants every result must hold, whatever the input. */
function expectWellFormed(result: ParseResult): void {
  expect(result.records.length + result.problems.length).toBeGreaterThan(0);
  for (const record of result.records) {
    expect(ParsedRecordSchema.safeParse(record).error?.issues).toBeUndefined();
  }
  for (const problem of result.problems) expect(ProblemSchema.safeParse(problem).success).toBe(true);
  expect(Number.isInteger(result.controlCharsEscaped)).toBe(true);
}

function parse(value: Buffer | string | null, headers?: Record<string, string | undefined>): ParseResult {
  const result = parseRaw(raw(value, headers), OPTIONS);
  expectWellFormed(result);
  return result;
}

function referenceBytes(): Buffer {
  return readFileSync(REFERENCE);
}

/** The reference message as an object (its 0x08 escaped), to derive the defective variants from. */
// biome-ignore lint/suspicious/noExplicitAny: the tests edit this fixture at arbitrary depths.
function referenceValue(): Record<string, any> {
  return JSON.parse(referenceBytes().toString('utf8').replace('\b', '\\b'));
}

function ids(records: ParsedRecord[]): string[] {
  return records.map((r) => [r.equipment, r.device, r.rack].filter((x) => x !== undefined).join('/'));
}

function byId(records: ParsedRecord[], id: string): ParsedRecord {
  const found = records.find((_, i) => ids(records)[i] === id);
  if (found === undefined) throw new Error(`no record ${id}`);
  return found;
}

function onlyProblem(result: ParseResult) {
  expect(result.problems).toHaveLength(1);
  return result.problems[0]!;
}

const BATTERY_FLAGS = {
  communication_error: false,
  stop: false,
  run: true,
  charge: false,
  discharge: true,
  warning: false,
  fault: false,
};

describe('parseRaw: the reference gateway message, byte for byte', () => {
  it('is the file documented in SOURCE.md (raw 0x08 at byte 281)', () => {
    const bytes = referenceBytes();
    expect(bytes.length).toBe(28564);
    expect(bytes[281]).toBe(0x08);
  });

  it('yields exactly the 17 device records in document order, no problems, one escaped control char', () => {
    const result = parse(referenceBytes());
    expect(result.problems).toEqual([]);
    expect(result.controlCharsEscaped).toBe(1);
    expect(ids(result.records)).toEqual([
      'battery/01',
      'battery/01/1',
      'battery/02',
      'battery/02/1',
      'battery/03',
      'battery/03/1',
      'dcdc_converter/1',
      'dcdc_converter/2',
      'dcdc_converter/3',
      'inverter/1',
      'inverter/2',
      'transformer/1',
      'transformer/2',
      'pv/1',
      'ev_charger/1',
      'ev_charger/2',
      'ev_charger/3',
    ]);
  });

  it('stamps every record with the site, the UTC instant of 20:34:06 KST, the schema and the lineage', () => {
    for (const record of parse(referenceBytes()).records) {
      expect(record).toMatchObject({
        v: 1,
        site: '000001',
        ts: '2023-06-09T11:34:06.000Z',
        schema: 'microgrid.v1',
        lineage: LINEAGE,
      });
    }
  });

  it('battery 01: exactly its numeric readings and status flags, no racks, id or metadata', () => {
    expect(byId(parse(referenceBytes()).records, 'battery/01')).toEqual({
      v: 1,
      site: '000001',
      equipment: 'battery',
      device: '01',
      ts: '2023-06-09T11:34:06.000Z',
      fields: {
        total_racks: 1,
        soc: 31.5,
        soh: 100,
        dc_voltage: 733.4,
        dc_current: 14,
        max_cell_voltage: 3.6,
        min_cell_voltage: 3.6,
        max_module_temperature: 32.7,
        min_module_temperature: 28.7,
      },
      flags: BATTERY_FLAGS,
      schema: 'microgrid.v1',
      lineage: LINEAGE,
    });
  });

  it('battery racks are records of their own, with rack "1" and their own readings', () => {
    const records = parse(referenceBytes()).records;
    const rack = byId(records, 'battery/01/1');
    expect(rack).toMatchObject({ equipment: 'battery', device: '01', rack: '1', flags: BATTERY_FLAGS });
    expect(rack.fields).toEqual({
      soc: 31.5,
      soh: 100,
      dc_voltage: 733.4,
      dc_current: 13.3,
      max_cell_voltage: 3.6,
      min_cell_voltage: 3.6,
      max_module_temperature: 32.7,
      min_module_temperature: 28.7,
    });
    expect(byId(records, 'battery/02/1').fields.dc_current).toBe(12.7);
    expect(byId(records, 'battery/03/1').fields).toMatchObject({
      max_module_temperature: 32.7,
      min_module_temperature: 28.6,
    });
    expect(byId(records, 'battery/03').fields).toMatchObject({
      max_module_temperature: 29.1,
      min_module_temperature: 24.6,
    });
  });

  it('dcdc_converter 3: stopped, with its full field set', () => {
    const record = byId(parse(referenceBytes()).records, 'dcdc_converter/3');
    expect(record.flags).toEqual({ ...BATTERY_FLAGS, run: false, discharge: false });
    expect(record.fields).toEqual({
      frequency: 60.03,
      ac_active_power: 222.2,
      igbt_max_temperature: 56.4,
      ac_voltage_rs: 381.2,
      ac_voltage_st: 382.2,
      ac_voltage_tr: 380.1,
      ac_current_r: 888.8,
      ac_current_s: 888.8,
      ac_current_t: 888.8,
      dc_voltage: 890.4,
      dc_current: 432.1,
    });
  });

  it('inverters keep their upper-case keys verbatim; the numeric FAULT/WARN codes are fields, not flags', () => {
    const records = parse(referenceBytes()).records;
    const inverter = byId(records, 'inverter/1');
    expect(Object.keys(inverter.fields)).toHaveLength(28);
    expect(inverter.fields).toMatchObject({
      AC_ACTIVE: 18.5,
      AC_REACTIVE: 0.7,
      DC_POWER: 19,
      FAULT9: 0,
      WARN2: 0,
    });
    expect(inverter.flags).toEqual({});
    expect(byId(records, 'inverter/2').fields).toMatchObject({ AC_REACTIVE: 0.3, IGBT_TEMP3: 25 });
  });

  it('the two transformers carry different field sets', () => {
    const records = parse(referenceBytes()).records;
    expect(byId(records, 'transformer/1').fields).toEqual({
      ACTIVEPOWERCONSUMPTION: 1927341568,
      FREQUENCY: 60.04,
      IA: 86.75,
      IB: 90.5,
      IC: 110.09,
      PF: 0.81,
      REACTIVEPOWERCONSUMPSION: 197824.78,
      TOTALACTIVEPOWER: 44166.32,
      TOTALAPPARENTPOWER: 54508.18,
      TOTALREACTIVEPOWER: 31944.9,
      VA: 218.77,
      VAB: 380.13,
      VB: 220.04,
      VBC: 380.54,
      VC: 218.35,
      VCA: 377.49,
    });
    expect(byId(records, 'transformer/2').fields).toEqual({
      ACTIVEPOWERMAX: 436533.81,
      CTRATIO: 600,
      FREQUENCY: 60.04,
      IINVERSE: 0,
      IA: 52.87,
      IB: 36.56,
      IC: 42.9,
      INVERSEACTIVEPOWERMAX: 317356.47,
      INVERSEREACTIVEPOWERMAX: 556029.88,
      IZERO: 0.24,
      IZEROMAX: 14.44,
      LOADPERCENT: 0,
      PTRATIO: 380,
      PRIMARYNCTRATIO: 5,
      TOTALACTIVEPOWERCONSUMPTION: 88130312,
      TOTALACTIVEPOWER: 0,
      TOTALINVERSEACTIVEPOWERCONSUMPTION: 44325720,
      TOTALINVERSEACTIVEPOWER: 26615.26,
      TOTALPOWERFACTOR: 0,
      TOTALREACTIVEPOWER: 6749.68,
      TOTALREACTIVEPOWERCONSUMPTION: 0,
      VA: 218.69,
      VAB: 379.81,
      VB: 219.37,
      VBC: 379.8,
      VC: 218.42,
      VCA: 377.35,
      VOB: 0,
    });
  });

  it('pv 1 with its full field set', () => {
    expect(byId(parse(referenceBytes()).records, 'pv/1')).toMatchObject({
      flags: {},
      fields: {
        AC_Power: 0,
        CumulativeCO2Saving: 97.15,
        CumulativePowerGeneration: 208354.98,
        DC_Power: 0,
        InverterCapacity: 67,
        Outsidetemperature: 0,
        SolarAltitudeAngle: 8.53,
        SolarAzimuthAngle: 299.74,
        ToDayCO2Saving: 185.72,
        ToDayPerPowerGeneration: 398.33,
        ToDaySunRisingTime_HHMM: 519,
        ToDaySunSetTime_HHMM: 1948,
        ToMonthPerPowerGeneration: 2692.2,
        ToYearPoerPowerGeneration: 37424.54,
        HorizontalInsolation: 0,
        Latitude: 35.31,
        Longitude: 126.19,
        ModuleTemperature: 0,
        PowerGenerationEfficiency: 0,
        SlopeInsolation: 0,
        StringCapacity: 66.36,
        SystemDate_YYYYMMDD: 20230609,
        SystemHours_HHMMSS: 203357,
      },
    });
    expect(Object.keys(byId(parse(referenceBytes()).records, 'pv/1').fields)).toHaveLength(23);
  });

  it('ev chargers 1-3, each with 30 readings', () => {
    const records = parse(referenceBytes()).records;
    for (const id of ['ev_charger/1', 'ev_charger/2', 'ev_charger/3']) {
      expect(Object.keys(byId(records, id).fields)).toHaveLength(30);
    }
    expect(byId(records, 'ev_charger/1').fields).toMatchObject({
      ActivePowerConsumption: 1863255,
      Vca: 217.92,
    });
    expect(byId(records, 'ev_charger/2').fields).toMatchObject({
      CT_Ratio: 40,
      DemandTime: 2,
      Frequency: 60.2,
    });
    expect(byId(records, 'ev_charger/3').fields).toMatchObject({
      ActivePowerConsumption: 62374.7,
      Va: 216.77,
    });
  });

  it('reads the message as microgrid.v1 when gs-schema says so, exactly as without the header', () => {
    const withHeader = parse(referenceBytes(), { 'gs-schema': 'microgrid.v1' });
    expect(withHeader).toEqual(parse(referenceBytes()));
  });
});

describe('parseRaw: our own sample message (sample/microgrid/message.json)', () => {
  it('has no control characters and parses on the fast path', () => {
    const result = parse(readFileSync(OWN_SAMPLE));
    expect(result.controlCharsEscaped).toBe(0);
    expect(result.problems).toEqual([]);
  });

  it('yields 13 records, including two racks from a racks ARRAY and one from a racks object', () => {
    const result = parse(readFileSync(OWN_SAMPLE));
    expect(ids(result.records)).toEqual([
      'battery/01',
      'battery/01/1',
      'battery/01/2',
      'battery/02',
      'battery/02/1',
      'dcdc_converter/1',
      'dcdc_converter/2',
      'inverter/1',
      'transformer/1',
      'transformer/2',
      'pv/1',
      'ev_charger/1',
      'ev_charger/2',
    ]);
    for (const record of result.records) {
      expect(record).toMatchObject({ site: '000042', ts: '2024-03-15T05:05:30.000Z', lineage: LINEAGE });
    }
  });

  it('battery 01 and its second rack carry their own values; the firmware string is metadata', () => {
    const records = parse(readFileSync(OWN_SAMPLE)).records;
    expect(byId(records, 'battery/01')).toMatchObject({
      fields: {
        total_racks: 2,
        soc: 62.4,
        soh: 98,
        dc_voltage: 745.2,
        dc_current: -41.6,
        max_cell_voltage: 3.42,
        min_cell_voltage: 3.39,
        max_module_temperature: 27.9,
        min_module_temperature: 24.1,
      },
      flags: {
        communication_error: false,
        stop: false,
        run: true,
        charge: true,
        discharge: false,
        warning: false,
        fault: false,
      },
    });
    expect(Object.keys(byId(records, 'battery/01').fields)).toHaveLength(9);
    expect(byId(records, 'battery/01/2').fields).toMatchObject({
      soc: 62,
      dc_current: -20.7,
      max_module_temperature: 27.4,
    });
    expect(byId(records, 'battery/02/1').flags.run).toBe(false);
  });

  it('skips the null reading and the string MODE, and keeps differing transformer keys', () => {
    const records = parse(readFileSync(OWN_SAMPLE)).records;
    expect(byId(records, 'pv/1').fields).not.toHaveProperty('Outsidetemperature');
    expect(Object.keys(byId(records, 'pv/1').fields)).toHaveLength(10);
    expect(byId(records, 'inverter/1').fields).not.toHaveProperty('MODE');
    expect(Object.keys(byId(records, 'inverter/1').fields)).toHaveLength(17);
    expect(byId(records, 'transformer/2').fields).toMatchObject({ CTRATIO: 400, PTRATIO: 380 });
    expect(byId(records, 'transformer/1').fields).not.toHaveProperty('CTRATIO');
  });
});

describe('parseRaw: each bad input gives exactly one problem with its reason', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('non-JSON -> not_json', () => {
    const result = parse('this is not JSON');
    expect(result.records).toEqual([]);
    expect(onlyProblem(result).reason).toBe('not_json');
  });

  it('truncated JSON (the reference message cut in the middle) -> not_json', () => {
    const result = parse(referenceBytes().subarray(0, 10_000));
    expect(result.records).toEqual([]);
    expect(onlyProblem(result).reason).toBe('not_json');
    expect(result.problems[0]!.message).toMatch(/JSON/);
  });

  it.each([
    ['a null value', null],
    ['an empty value', Buffer.alloc(0)],
  ])('%s -> not_json', (_name, value) => {
    expect(onlyProblem(parse(value))).toMatchObject({ reason: 'not_json', path: '' });
  });

  it('header missing -> missing_header', () => {
    const value = referenceValue();
    delete value.header;
    const result = parse(JSON.stringify(value));
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'missing_header', path: 'header' });
  });

  it('FieldDeviceLayer not an object -> bad_structure', () => {
    const value = referenceValue();
    value.FieldDeviceLayer = ['field1', 'field2'];
    const result = parse(JSON.stringify(value));
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'bad_structure', path: 'FieldDeviceLayer' });
  });

  it('service missing in field3 -> missing_service; the other groups still give their 15 records', () => {
    const value = referenceValue();
    delete value.FieldDeviceLayer.field3.service;
    const result = parse(JSON.stringify(value));
    expect(onlyProblem(result)).toMatchObject({
      reason: 'missing_service',
      path: 'FieldDeviceLayer.field3.service',
    });
    expect(result.records).toHaveLength(15);
    expect(ids(result.records).filter((id) => id.startsWith('inverter'))).toEqual([]);
  });

  it.each(['2023-06-09 20:34', '09/06/2023 20:34:06', '2023-06-31 20:34:06'])(
    'timestamp %j -> bad_timestamp',
    (timestamp) => {
      const text = referenceBytes().toString('utf8').replace('2023-06-09 20:34:06', timestamp);
      const result = parse(text);
      expect(result.records).toEqual([]);
      expect(onlyProblem(result)).toMatchObject({ reason: 'bad_timestamp', path: 'header.timestamp' });
    },
  );

  it('a number given as a string -> wrong_type at its path; only that device instance is rejected', () => {
    const text = referenceBytes().toString('utf8').replace('"soc": 31.5,', '"soc": "31.5",');
    const result = parse(text);
    expect(onlyProblem(result)).toMatchObject({
      reason: 'wrong_type',
      path: 'FieldDeviceLayer.field1.service[0].soc',
    });
    expect(result.records).toHaveLength(16);
    expect(ids(result.records)).not.toContain('battery/01');
    expect(ids(result.records)).toContain('battery/01/1');
    expect(result.controlCharsEscaped).toBe(1);
  });

  it('a 20 MB message -> oversized, without being parsed', () => {
    const parseSpy = vi.spyOn(JSON, 'parse');
    const huge = Buffer.alloc(20 * 1024 * 1024, 0x20);
    huge.write('{"header":', 0);
    const result = parse(huge);
    expect(parseSpy).not.toHaveBeenCalled();
    expect(result.records).toEqual([]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'oversized', path: '' });
    expect(result.problems[0]!.message).toContain(String(20 * 1024 * 1024));
  });

  it('exactly maxBytes is still accepted', () => {
    const bytes = referenceBytes();
    const result = parseRaw(raw(bytes), { maxBytes: bytes.length, zoneForSite });
    expect(result.records).toHaveLength(17);
  });

  it('an unknown gs-schema -> unknown_schema, before any parsing', () => {
    const parseSpy = vi.spyOn(JSON, 'parse');
    const result = parse(referenceBytes(), { 'gs-schema': 'csv.v1' });
    expect(parseSpy).not.toHaveBeenCalled();
    expect(onlyProblem(result)).toMatchObject({ reason: 'unknown_schema', path: '' });
    expect(onlyProblem(parse('{}', { 'gs-schema': '' })).reason).toBe('unknown_schema');
  });

  it('checks in order: empty, then size, then schema, then JSON', () => {
    expect(onlyProblem(parse(null, { 'gs-schema': 'csv.v1' })).reason).toBe('not_json');
    const tooBig = parseRaw(raw('x'.repeat(100), { 'gs-schema': 'csv.v1' }), { maxBytes: 10, zoneForSite });
    expect(onlyProblem(tooBig).reason).toBe('oversized');
    expect(onlyProblem(parse('not json', { 'gs-schema': 'csv.v1' })).reason).toBe('unknown_schema');
  });
});

describe('parseRaw: samples.v1', () => {
  it('decodes a collector batch and stamps schema and lineage', () => {
    const message = {
      v: 1,
      samples: [
        { site: 'S2', equipment: 'inverter', device: 'mb-1', ts: '2024-03-15T05:05:30Z', fields: { p: 1.5 } },
        { site: 'S2', equipment: 'inverter', device: 'mb-2', ts: '2024-03-15T05:05:30Z', fields: { p: '2' } },
      ],
    };
    const result = parse(JSON.stringify(message), { 'gs-schema': 'samples.v1' });
    expect(result.records).toEqual([
      {
        v: 1,
        site: 'S2',
        equipment: 'inverter',
        device: 'mb-1',
        ts: '2024-03-15T05:05:30.000Z',
        fields: { p: 1.5 },
        flags: {},
        schema: 'samples.v1',
        lineage: LINEAGE,
      },
    ]);
    expect(onlyProblem(result)).toMatchObject({ reason: 'wrong_type', path: 'samples[1].fields.p' });
  });

  it('a gateway message sent as samples.v1 -> one invalid_record problem', () => {
    expect(onlyProblem(parse(referenceBytes(), { 'gs-schema': 'samples.v1' })).reason).toBe('invalid_record');
  });
});

describe('parseRaw never throws', () => {
  /** Small deterministic PRNG, so a failing fuzz case can be reproduced from its seed. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const header = '"header":{"site_id":"000001","timestamp":"2023-06-09 20:34:06"}';

  it.each([
    ['[]', '[]', 'missing_header'],
    ['null', 'null', 'missing_header'],
    ['a string', '"str"', 'missing_header'],
    ['a number', '1e999', 'missing_header'],
    ['true', 'true', 'missing_header'],
    ['{}', '{}', 'missing_header'],
    ['a null header', '{"header":null}', 'missing_header'],
    ['a header hidden in __proto__', `{"__proto__":{${header}}}`, 'missing_header'],
    [
      'a site_id hidden in __proto__',
      '{"header":{"__proto__":{"site_id":"1"},"timestamp":"2023-06-09 20:34:06"}}',
      'missing_header',
    ],
    [
      'a huge numeric site_id',
      '{"header":{"site_id":1e300,"timestamp":"2023-06-09 20:34:06"}}',
      'missing_header',
    ],
    ['deeply nested arrays', `${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'missing_header'],
    ['unbalanced deep arrays', '['.repeat(200_000), 'not_json'],
    ['a NUL byte', '\u0000', 'not_json'],
    [
      'a lone surrogate escape',
      `{${header},"FieldDeviceLayer":{"f":{"service":[{"index":"\\ud800","p":1}]}}}`,
      null,
    ],
    [
      'a deep FieldDeviceLayer',
      `{${header},"FieldDeviceLayer":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`,
      'missing_service',
    ],
    [
      'deep racks',
      `{${header},"FieldDeviceLayer":{"field1":{"service":[{"id":"01","soc":1,"racks":${'['.repeat(50_000)}${']'.repeat(50_000)}}]}}}`,
      'bad_structure',
    ],
    [
      'a huge reading',
      `{${header},"FieldDeviceLayer":{"field5":{"service":[{"index":1,"p":1e999}]}}}`,
      'invalid_record',
    ],
    [
      'a __proto__ group',
      `{${header},"FieldDeviceLayer":{"__proto__":{"service":[{"index":1,"p":1}]}}}`,
      null,
    ],
    [
      'a __proto__ reading',
      `{${header},"FieldDeviceLayer":{"field5":{"service":[{"index":1,"__proto__":1}]}}}`,
      'invalid_record',
    ],
    [
      'a constructor group',
      `{${header},"FieldDeviceLayer":{"constructor":{"service":[{"index":"constructor","toString":1}]}}}`,
      null,
    ],
  ])('%s', (_name, text, reason) => {
    const result = parse(text);
    if (reason !== null) expect(result.problems.map((p) => p.reason)).toContain(reason);
    expect(({} as Record<string, unknown>).service).toBeUndefined();
  });

  it('turns an exception from a collaborator into an invalid_record problem', () => {
    const result = parseRaw(raw(referenceBytes()), {
      maxBytes: MAX_BYTES,
      zoneForSite: () => {
        throw new Error('zone table unavailable');
      },
    });
    expectWellFormed(result);
    expect(onlyProblem(result)).toMatchObject({ reason: 'invalid_record', path: '' });
    expect(result.problems[0]!.message).toContain('zone table unavailable');
  });

  it('survives headers that are not an object and a non-string schema header', () => {
    const broken = { ...raw(referenceBytes()), headers: null } as unknown as RawMessage;
    expect(onlyProblem(parseRaw(broken, OPTIONS)).reason).toBe('invalid_record');
    const odd = raw('{}', { 'gs-schema': 42 as unknown as string });
    expect(onlyProblem(parseRaw(odd, OPTIONS)).reason).toBe('invalid_record');
  });

  it('survives 500 random byte strings', () => {
    const next = prng(1);
    for (let n = 0; n < 500; n++) {
      const bytes = Buffer.alloc(Math.floor(next() * 300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      if (n % 2 === 0 && bytes.length > 0) bytes[0] = 0x7b; // start some like an object
      for (const headers of [{}, { 'gs-schema': 'samples.v1' }])
        expectWellFormed(parseRaw(raw(bytes, headers), OPTIONS));
    }
  });

  it('survives 300 random mutations of the reference message', () => {
    const next = prng(2);
    const original = referenceBytes();
    const structural = Buffer.from('{}[]":,0-.e"tfn\\ \b\u0000');
    for (let n = 0; n < 300; n++) {
      const bytes = Buffer.from(original);
      const edits = 1 + Math.floor(next() * 6);
      for (let e = 0; e < edits; e++) {
        bytes[Math.floor(next() * bytes.length)] = structural[Math.floor(next() * structural.length)]!;
      }
      expectWellFormed(parseRaw(raw(bytes), OPTIONS));
    }
  });

  it('survives 300 random JSON values in place of header, groups, instances and readings', () => {
    const next = prng(3);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
    const randomValue = (depth: number): unknown => {
      switch (Math.floor(next() * (depth > 2 ? 6 : 8))) {
        case 0:
          return null;
        case 1:
          return pick([true, false]);
        case 2:
          return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 7]);
        case 3:
          return pick(['', '31.5', 'x', '2023-06-09 20:34:06', '01', 'a\u0001b', '__proto__']);
        case 4:
          return pick(['id', 'index', 'racks', 'service', '__proto__']);
        case 5:
          return 'NaN';
        case 6:
          return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(depth + 1));
        default: {
          const obj: Record<string, unknown> = {};
          for (let k = Math.floor(next() * 5); k > 0; k--) {
            obj[
              pick(['id', 'index', 'racks', 'service', 'soc', 'run', 'field1', 'x y', 'site_id', 'timestamp'])
            ] = randomValue(depth + 1);
          }
          return obj;
        }
      }
    };
    for (let n = 0; n < 300; n++) {
      const value = referenceValue();
      const target = pick([
        value,
        value.header,
        value.FieldDeviceLayer,
        value.FieldDeviceLayer.field1,
        value.FieldDeviceLayer.field1.service[0],
        value.FieldDeviceLayer.field1.service[0].racks,
        value.FieldDeviceLayer.field4.service[1],
      ]);
      const keys = Object.keys(target);
      target[pick(keys)] = randomValue(0);
      if (next() < 0.3) target[pick(['racks', 'id', 'index', 'service', 'extra'])] = randomValue(0);
      expectWellFormed(parseRaw(raw(JSON.stringify(value)), OPTIONS));
    }
  });
});

describe('zoneResolver', () => {
  it('gives each listed site its zone and every other site the default', () => {
    const resolve = zoneResolver('Asia/Seoul', { '000002': 'Europe/Berlin' });
    expect(resolve('000002')).toBe('Europe/Berlin');
    expect(resolve('000001')).toBe('Asia/Seoul');
  });

  it('does not look site ids up on Object.prototype', () => {
    const resolve = zoneResolver('UTC', {});
    expect(resolve('constructor')).toBe('UTC');
    expect(resolve('__proto__')).toBe('UTC');
  });

  it('refuses unknown zones at configuration time, naming every one', () => {
    expect(() => zoneResolver('Asia/Seul', { a: 'UTC', b: 'Europe/Berln' })).toThrow(
      /default zone "Asia\/Seul", zone "Europe\/Berln" of site "b"/,
    );
  });
});

describe('header times with their own offset', () => {
  const withTs = (ts: string) => {
    const value = referenceValue();
    value.header.timestamp = ts;
    return JSON.stringify(value);
  };

  it('converts ISO 8601 with an offset or Z exactly, whatever the site zone', () => {
    // Site 000001 is configured as Asia/Seoul, but the time says its own offset.
    expect(parse(withTs('2023-06-09T20:34:06+09:00')).records[0]!.ts).toBe('2023-06-09T11:34:06.000Z');
    expect(parse(withTs('2023-06-09T20:34:06+0900')).records[0]!.ts).toBe('2023-06-09T11:34:06.000Z');
    expect(parse(withTs('2023-06-09T11:34:06Z')).records[0]!.ts).toBe('2023-06-09T11:34:06.000Z');
    expect(parse(withTs('2023-06-09 06:34:06.250-05:00')).records[0]!.ts).toBe('2023-06-09T11:34:06.250Z');
    // A zone-less time is still the site's wall clock (Seoul, +09:00).
    expect(parse(withTs('2023-06-09 20:34:06')).records[0]!.ts).toBe('2023-06-09T11:34:06.000Z');
  });

  it('refuses an impossible offset or date as bad_timestamp', () => {
    expect(parse(withTs('2023-06-09T20:34:06+25:00')).problems[0]).toMatchObject({ reason: 'bad_timestamp' });
    expect(parse(withTs('2023-02-30T20:34:06Z')).problems[0]).toMatchObject({ reason: 'bad_timestamp' });
  });
});

describe('NaN and Infinity from a failed sensor (Python json.dumps)', () => {
  it('leaves that reading out, flags it bad, counts it, and parses the rest of the message', () => {
    const text = JSON.stringify(referenceValue())
      .replace('"soc":31.5', '"soc":NaN')
      .replace(/"dc_voltage":([0-9.]+)/, '"dc_voltage":-Infinity');
    expect(text).toContain('NaN');
    const result = parse(text);
    expect(result.problems).toEqual([]);
    expect(result.records).toHaveLength(17);
    expect(result.nonFiniteValues).toBe(2);
    // Both readings belong to the first battery: one record, both flagged, both left out.
    const flagged = result.records.filter((r) => r.quality !== undefined);
    expect(flagged.map((r) => r.quality)).toEqual([{ soc: ['bad'], dc_voltage: ['bad'] }]);
    for (const r of flagged) for (const f of Object.keys(r.quality!)) expect(r.fields[f]).toBeUndefined();
  });

  it('keeps the text "NaN" inside a string as it is', () => {
    const value = referenceValue();
    value.header.site_name = 'NaN Infinity';
    const result = parse(JSON.stringify(value));
    expect(result.nonFiniteValues).toBeUndefined();
    expect(result.records).toHaveLength(17);
  });

  it('does the same for samples.v1', () => {
    const text =
      '{"v":1,"samples":[{"site":"s","equipment":"meter","device":"m1","ts":"2024-01-01T00:00:00Z","fields":{"flow":NaN,"total":12.5}}]}';
    const result = parse(text, { 'gs-schema': 'samples.v1' });
    expect(result.problems).toEqual([]);
    expect(result.records[0]).toMatchObject({ fields: { total: 12.5 }, quality: { flow: ['bad'] } });
    expect(result.nonFiniteValues).toBe(1);
  });
});
