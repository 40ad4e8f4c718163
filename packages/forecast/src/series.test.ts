import { describe, expect, it } from 'vitest';
import { formatStep, inferStep, parseStep, resample } from './series.js';

describe('regular series', () => {
  it('resample: mean per bucket, NaN for an empty bucket, order-independent', () => {
    const points = [
      { ts: 1_000 + 25, value: 4 },
      { ts: 1_000, value: 1 },
      { ts: 1_000 + 10, value: 3 },
      { ts: 1_000 + 35, value: 8 },
      { ts: 1_000 + 39, value: Number.NaN },
    ];
    // Buckets of 10 ms from 1000: [1, …] → 1; [3] → 3; [4] → 4; [8, NaN] → 8 (NaN counts as absent).
    expect(resample(points, { step: 10 })).toEqual({ start: 1000, step: 10, values: [1, 3, 4, 8] });
    expect(resample(points, { step: 20 }).values).toEqual([2, 6]);
    // An explicit window: the empty first bucket is a gap.
    expect(resample(points, { step: 10, start: 990, end: 1030 }).values).toEqual([NaN, 1, 3, 4]);
  });

  it('steps: parse, format, infer from the median difference', () => {
    expect(parseStep('15m')).toBe(900_000);
    expect(parseStep('1d')).toBe(86_400_000);
    expect(() => parseStep('1w')).toThrow('step "1w" is not a duration like 15m, 1h or 1d');
    expect(formatStep(3_600_000)).toBe('1h');
    expect(formatStep(5_400_000)).toBe('90m');
    // One stray reading 1 s after another does not make the step 1 s.
    expect(inferStep([0, 900_000, 901_000, 1_800_000, 2_700_000, 3_600_000])).toBe(900_000);
    expect(() => inferStep([5, 5])).toThrow(/two distinct times/);
  });
});
