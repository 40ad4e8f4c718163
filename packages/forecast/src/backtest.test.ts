import { describe, expect, it } from 'vitest';
import { BacktestError, backtest } from './backtest.js';
import { holtWinters } from './holt-winters.js';
import { seasonalNaive } from './seasonal-naive.js';

const series = (values: number[]) => ({ start: 0, step: 1, values });

describe('rolling-origin backtest', () => {
  it('scores the naive forecast by hand: origins, MAE, RMSE, MAPE without zero actuals, MASE', () => {
    // y = 2 4 3 0 5 6, naive, minTrain 3, horizon 2, every 1 → origins 3, 4 (o + 2 ≤ 6).
    // Origin 3 (train 2 4 3): forecasts 3, 3 for actuals 0, 5 → errors −3, 2. Scale: |4−2|, |3−4| → 1.5.
    // Origin 4 (train 2 4 3 0): forecasts 0, 0 for 5, 6 → errors 5, 6. Scale (2 + 1 + 3)/3 = 2.
    const result = backtest(series([2, 4, 3, 0, 5, 6]), [seasonalNaive(1)], {
      horizon: 2,
      minTrain: 3,
      every: 1,
      scalePeriod: 1,
    });
    expect(result.origins).toEqual([3, 4]);
    const [m] = result.models;
    expect(m!.forecasts).toBe(4);
    expect(m!.mae).toBe((3 + 2 + 5 + 6) / 4);
    expect(m!.rmse).toBe(Math.sqrt((9 + 4 + 25 + 36) / 4));
    // MAPE skips the zero actual: |2/5|, |5/5|, |6/6|.
    expect(m!.zeroActuals).toBe(1);
    expect(m!.mape).toBeCloseTo((100 * (0.4 + 1 + 1)) / 3, 12);
    expect(m!.mase).toBeCloseTo((3 / 1.5 + 2 / 1.5 + 5 / 2 + 6 / 2) / 4, 12);
    expect(m!.perHorizon).toEqual([
      { h: 1, mae: 4, rmse: Math.sqrt(17), forecasts: 2 },
      { h: 2, mae: 4, rmse: Math.sqrt(20), forecasts: 2 },
    ]);
  });

  it('skips missing actuals and says when nothing can be scored', () => {
    const result = backtest(series([1, 2, 3, Number.NaN, 5]), [seasonalNaive(1)], {
      horizon: 2,
      minTrain: 3,
      every: 5,
      scalePeriod: 1,
    });
    // One origin (3): actuals NaN (skipped) and 5, forecast 3.
    expect(result.models[0]!.forecasts).toBe(1);
    expect(result.models[0]!.mae).toBe(2);
    expect(() =>
      backtest(series([1, 2, 3, Number.NaN, Number.NaN]), [seasonalNaive(1)], {
        horizon: 2,
        minTrain: 3,
        every: 1,
        scalePeriod: 1,
      }),
    ).toThrow('no observed actual value after any origin: nothing to score');
  });

  it('refuses a first window shorter than a model needs, and a series with no origin', () => {
    const values = Array.from({ length: 100 }, (_, t) => t % 7);
    expect(() =>
      backtest(series(values), [holtWinters({ periods: [7, 30] })], {
        horizon: 7,
        minTrain: 50,
        every: 7,
        scalePeriod: 7,
      }),
    ).toThrow(new BacktestError('the first training window (50 values) is shorter than hw(7,30) needs (60)'));
    expect(() =>
      backtest(series(values), [seasonalNaive(7)], { horizon: 7, minTrain: 95, every: 7, scalePeriod: 7 }),
    ).toThrow(
      /no origin: the series has 100 values, fewer than the first training window plus one horizon \(95 \+ 7\)/,
    );
  });
});
