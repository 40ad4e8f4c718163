import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fenceLevels, iqrFences, quantileSorted } from './fences.js';

const REFERENCE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'reference',
  'water-meter-anomaly',
);

function readCsv(name: string): string[][] {
  return readFileSync(join(REFERENCE, name), 'utf8')
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(','));
}

describe('quantileSorted (linear, numpy/pandas default)', () => {
  it('interpolates between order statistics at (n − 1)·p', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25, 12);
    expect(quantileSorted([5], 0.25)).toBe(5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});

describe('iqrFences vs the water-meter reference (criteria.csv from preprocessed.csv)', () => {
  const values = readCsv('preprocessed.csv')
    .slice(1)
    .map((row) => Number(row[1]));
  const criteria = Object.fromEntries(
    readCsv('criteria.csv')
      .slice(1)
      .map(([name, value]) => [name, Number(value)]),
  );

  it('reproduces normal_min and normal_max with k = 1.5', () => {
    expect(values).toHaveLength(367);
    const f = iqrFences(values, 1.5)!;
    expect(f.lower).toBeCloseTo(criteria.normal_min!, 12);
    expect(f.upper).toBeCloseTo(criteria.normal_max!, 12);
    // raw_max is the preprocessed maximum; raw_min is not (the reference replaced its lowest day by the
    // lower fence before writing preprocessed.csv), which is why levels take the extremes as arguments.
    expect(f.rawMax).toBeCloseTo(criteria.raw_max!, 12);
  });

  it('reproduces U_level and L_level with a 10 % level from the reference extremes', () => {
    const levels = fenceLevels(
      { lower: criteria.normal_min!, upper: criteria.normal_max! },
      criteria.raw_min!,
      criteria.raw_max!,
      10,
    );
    expect(levels.upperLevel).toBeCloseTo(criteria.U_level!, 12);
    expect(levels.lowerLevel).toBeCloseTo(criteria.L_level!, 12);
  });

  it('is not reproduced by a method without interpolation (nearest-rank lower/higher)', () => {
    const sorted = [...values].sort((a, b) => a - b);
    const lowerQ1 = sorted[Math.floor(366 * 0.25)]!;
    const lowerQ3 = sorted[Math.floor(366 * 0.75)]!;
    const lowerFence = lowerQ1 - 1.5 * (lowerQ3 - lowerQ1);
    expect(Math.abs(lowerFence - criteria.normal_min!)).toBeGreaterThan(1e-6);
  });

  it('skips non-finite values and answers undefined for nothing', () => {
    expect(iqrFences([Number.NaN])).toBeUndefined();
    expect(iqrFences([1, 2, Number.POSITIVE_INFINITY, 3, 4])!.count).toBe(4);
  });
});
