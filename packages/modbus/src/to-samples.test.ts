import { SampleSchema } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import type { PointReading } from './decode.js';
import type { ProfilePoint } from './profile-schema.js';
import { toSamples } from './to-samples.js';

function point(name: string, place: Partial<ProfilePoint> = {}): ProfilePoint {
  return {
    name,
    function: 'input',
    address: 0,
    type: 'uint16',
    words: 1,
    order: 'ABCD',
    scale: 1,
    offset: 0,
    equipment: 'battery',
    device: 'bank',
    ...place,
  };
}

const ok = (p: ProfilePoint, value: number | boolean | string, outOfRange = false): PointReading => ({
  point: p,
  value,
  raw: value,
  outOfRange,
  bad: false,
});
const bad = (p: ProfilePoint): PointReading => ({ point: p, outOfRange: false, bad: true, reason: 'NaN' });

describe('toSamples', () => {
  const readAt = new Date('2024-05-01T10:20:30.456Z');

  it('makes one sample per record, in profile order, with fields, flags and quality', () => {
    const readings = [
      ok(point('soc'), 55.5),
      ok(point('soc', { rack: '1' }), 54, true),
      ok(point('run', { type: 'bit', bit: 0 }), true),
      bad(point('power')),
      ok(point('p', { equipment: 'pcs', device: 'pcs' }), -12.5),
      ok(point('serial', { type: 'string' }), 'ABC'),
    ];
    const samples = toSamples('sionyu', readings, readAt);
    expect(samples).toEqual([
      {
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        ts: '2024-05-01T10:20:30.456Z',
        fields: { soc: 55.5 },
        flags: { run: true },
        quality: { power: ['bad'] },
      },
      {
        site: 'sionyu',
        equipment: 'battery',
        device: 'bank',
        rack: '1',
        ts: '2024-05-01T10:20:30.456Z',
        fields: { soc: 54 },
        quality: { soc: ['out_of_range'] },
      },
      {
        site: 'sionyu',
        equipment: 'pcs',
        device: 'pcs',
        ts: '2024-05-01T10:20:30.456Z',
        fields: { p: -12.5 },
      },
    ]);
    for (const s of samples) expect(SampleSchema.safeParse(s).success).toBe(true);
  });

  it('drops a record whose every reading is bad', () => {
    expect(toSamples('s', [bad(point('a')), bad(point('b'))], readAt)).toEqual([]);
  });
});
