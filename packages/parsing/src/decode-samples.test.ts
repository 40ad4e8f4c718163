import { describe, expect, it } from 'vitest';
import { decodeSamples } from './decode-samples.js';

const good = {
  site: 'S1',
  equipment: 'inverter',
  device: 'inv-1',
  ts: '2024-03-15T05:05:30.250Z',
  fields: { ac_power: 30.6, dc_voltage: 752 },
};

describe('decodeSamples', () => {
  it('turns valid samples into drafts; flags default to {}; rack and quality pass through', () => {
    const result = decodeSamples({
      v: 1,
      samples: [
        good,
        {
          site: 'S1',
          equipment: 'battery',
          device: '01',
          rack: '2',
          ts: '2024-03-15T05:05:30Z',
          fields: { soc: 62 },
          flags: { run: true },
          quality: { soc: ['stale'] },
        },
      ],
    });
    expect(result.problems).toEqual([]);
    expect(result.records).toEqual([
      { v: 1, ...good, flags: {} },
      {
        v: 1,
        site: 'S1',
        equipment: 'battery',
        device: '01',
        rack: '2',
        ts: '2024-03-15T05:05:30.000Z',
        fields: { soc: 62 },
        flags: { run: true },
        quality: { soc: ['stale'] },
      },
    ]);
    expect(result.records[0]).not.toHaveProperty('rack');
    expect(result.records[0]).not.toHaveProperty('quality');
  });

  it('writes every timestamp the same way, truncated to milliseconds', () => {
    const result = decodeSamples({ v: 1, samples: [{ ...good, ts: '2024-03-15T05:05:30.123456Z' }] });
    expect(result.records[0]!.ts).toBe('2024-03-15T05:05:30.123Z');
  });

  it('a number sent as a string -> wrong_type for that sample only; the others are still emitted', () => {
    const result = decodeSamples({
      v: 1,
      samples: [
        good,
        { ...good, device: 'inv-2', fields: { ac_power: '31.5' } },
        { ...good, device: 'inv-3' },
      ],
    });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ reason: 'wrong_type', path: 'samples[1].fields.ac_power' });
    expect(result.problems[0]!.message).toMatch(/expected number, received string/);
    expect(result.records.map((r) => r.device)).toEqual(['inv-1', 'inv-3']);
  });

  it.each([
    ['a missing site', { ...good, site: undefined }, 'samples[0].site'],
    [
      'an equipment name that is not snake case',
      { ...good, equipment: 'PV Inverter' },
      'samples[0].equipment',
    ],
    ['a timestamp with an offset', { ...good, ts: '2024-03-15T14:05:30+09:00' }, 'samples[0].ts'],
    [
      'an unknown quality flag',
      { ...good, quality: { ac_power: ['weird'] } },
      'samples[0].quality.ac_power[0]',
    ],
    ['a device id with a newline', { ...good, device: 'a\nb' }, 'samples[0].device'],
  ])('%s -> invalid_record at its path', (_name, sample, path) => {
    const result = decodeSamples({ v: 1, samples: [sample] });
    expect(result.records).toEqual([]);
    expect(result.problems).toEqual([{ reason: 'invalid_record', path, message: expect.any(String) }]);
  });

  it('a non-finite number (1e999) is not a wrong type but an invalid record', () => {
    const value = JSON.parse(
      '{"v":1,"samples":[{"site":"S","equipment":"pv","device":"1","ts":"2024-03-15T05:05:30Z","fields":{"p":1e999}}]}',
    );
    expect(decodeSamples(value).problems).toEqual([
      { reason: 'invalid_record', path: 'samples[0].fields.p', message: expect.any(String) },
    ]);
  });

  it('a sample with several defects gives ONE problem naming all of them', () => {
    const result = decodeSamples({ v: 1, samples: [{ ...good, site: '', device: 7, fields: { a: 'x' } }] });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(
      /samples\[0\]\.site: .*; samples\[0\]\.device: .*; samples\[0\]\.fields\.a/,
    );
  });

  it('a reading called __proto__ is refused before zod could drop it silently', () => {
    const value = JSON.parse(
      '{"v":1,"samples":[{"site":"S","equipment":"pv","device":"1","ts":"2024-03-15T05:05:30Z","fields":{"__proto__":1,"p":2}}]}',
    );
    expect(decodeSamples(value).problems).toEqual([
      { reason: 'invalid_record', path: 'samples[0].fields.__proto__', message: expect.any(String) },
    ]);
  });

  it.each([
    ['null', null, 'invalid_record', ''],
    ['an array', [good], 'invalid_record', ''],
    ['version 2', { v: 2, samples: [good] }, 'invalid_record', 'v'],
    ['no samples key', { v: 1 }, 'invalid_record', 'samples'],
    ['samples as a string', { v: 1, samples: 'x' }, 'wrong_type', 'samples'],
    ['an empty samples array', { v: 1, samples: [] }, 'invalid_record', 'samples'],
  ])('an envelope that is %s -> one problem', (_name, value, reason, path) => {
    const result = decodeSamples(value);
    expect(result.records).toEqual([]);
    expect(result.problems).toEqual([{ reason, path, message: expect.any(String) }]);
  });

  it('skips samples without fields or flags; a message of only such samples -> no_readings', () => {
    const empty = { ...good, fields: {} };
    expect(decodeSamples({ v: 1, samples: [empty, good] }).records).toHaveLength(1);
    expect(decodeSamples({ v: 1, samples: [empty] }).problems).toEqual([
      { reason: 'no_readings', path: 'samples', message: expect.any(String) },
    ]);
    expect(decodeSamples({ v: 1, samples: [{ ...empty, flags: { run: true } }] }).records).toHaveLength(1);
  });
});
