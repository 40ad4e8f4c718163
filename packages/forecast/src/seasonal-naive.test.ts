import { describe, expect, it } from 'vitest';
import { seasonalNaive, seasonalNaiveScale } from './seasonal-naive.js';

const series = (values: number[]) => ({ start: 0, step: 10, values });

describe('seasonal naive', () => {
  it('repeats the last season, with the interval widening once per season', () => {
    // Period 3 over 1 2 3 | 2 3 5 | 4: errors y(t) − y(t−3) = 1, 1, 2, 2 → σ² = (1+1+4+4)/4 = 2.5.
    const fitted = seasonalNaive(3).fit(series([1, 2, 3, 2, 3, 5, 4]));
    // Next steps t = 7, 8, 9 repeat t = 4, 5, 6: 3, 5, 4.
    const forecast = fitted.forecast(7, { level: 0.95 });
    expect(forecast.map((f) => f.mean)).toEqual([3, 5, 4, 3, 5, 4, 3]);
    expect(forecast.map((f) => f.ts)).toEqual([70, 80, 90, 100, 110, 120, 130]);
    expect(fitted.sigma2).toBe(2.5);
    const half = forecast.map((f) => f.upper - f.mean);
    // k = ⌊(h−1)/3⌋: h 1–3 → σ², h 4–6 → 2σ², h 7 → 3σ².
    expect(half[0]! / half[2]!).toBe(1);
    expect(half[3]! / half[0]!).toBeCloseTo(Math.SQRT2, 12);
    expect(half[6]! / half[0]!).toBeCloseTo(Math.sqrt(3), 12);
    expect(half[0]!).toBeCloseTo(1.959963985 * Math.sqrt(2.5), 8);
  });

  it('fills a missing position from the latest observation of that position, never NaN', () => {
    // Period 2: the next step t = 7 is odd (latest odd value: t = 5 → 6); t = 8 is even, and the latest
    // even value, t = 6, is a gap → t = 4's value, 5.
    const fitted = seasonalNaive(2).fit(series([1, 2, 3, 4, 5, 6, Number.NaN]));
    expect(fitted.forecast(2).map((f) => f.mean)).toEqual([6, 5]);
    // A position never observed takes the latest observed value of any position.
    const sparse = seasonalNaive(2).fit(series([Number.NaN, 2, Number.NaN, 4, Number.NaN]));
    expect(sparse.forecast(2).map((f) => f.mean)).toEqual([4, 4]);
  });

  it('period 1 is the naive (random walk) forecast', () => {
    const fitted = seasonalNaive(1).fit(series([3, 5, 4]));
    expect(fitted.label).toBe('naive');
    expect(fitted.forecast(3).map((f) => f.mean)).toEqual([4, 4, 4]);
    expect(fitted.update([Number.NaN, 7]).forecast(1)[0]!.mean).toBe(7);
  });

  it('MASE scale: in-sample MAE over pairs that are both observed', () => {
    expect(seasonalNaiveScale([1, 2, 4, Number.NaN, 7], 1)).toEqual({
      mae: 1.5,
      mse: 2.5,
      pairs: 2,
      observations: 4,
    });
    expect(() => seasonalNaive(2).fit(series([1, 2]))).toThrow(/at least 3 values/);
  });
});
