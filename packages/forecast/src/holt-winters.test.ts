import { describe, expect, it } from 'vitest';
import { backtest } from './backtest.js';
import {
  centredMovingAverage,
  type FittedHoltWinters,
  holtWinters,
  horizonVariances,
  initialStates,
} from './holt-winters.js';
import { intervalZ } from './normal.js';
import { seasonalNaive } from './seasonal-naive.js';
import type { RegularSeries } from './series.js';
import { daily, dailyWeekly, HOUR, synthetic, T0 } from './synthetic.fixture.js';

// Eight values, period 2. All parameters are powers of two, so every intermediate value below is a
// dyadic fraction that a double holds exactly: the assertions use toBe, not toBeCloseTo.
const Y = [7, 14, 10, 15, 13, 16, 15, 19];
const TINY: RegularSeries = { start: T0, step: HOUR, values: Y };
const PARAMS = { alpha: 1 / 2, beta: 1 / 2, gamma: [1 / 2], phi: 1 / 2 };

describe('Holt–Winters initial states (classical decomposition)', () => {
  it('takes level, trend and season from the first three cycles of the tiny series, by hand', () => {
    // Window: the first min(⌊8/2⌋, 3) = 3 cycles = 6 values: 7 14 10 15 13 16.
    // 2×2 centred MA at t = 1..4: T(t) = (y(t−1)/2 + y(t) + y(t+1)/2) / 2
    //   T1 = (3.5 + 14 + 5) / 2 = 11.25   T2 = (7 + 10 + 7.5) / 2 = 12.25
    //   T3 = (5 + 15 + 6.5) / 2 = 13.25   T4 = (7.5 + 13 + 8) / 2 = 14.25
    expect(centredMovingAverage(Y.slice(0, 6), 2)).toEqual([NaN, 11.25, 12.25, 13.25, 14.25, NaN]);
    // Detrended: d1 = 2.75, d2 = −2.25, d3 = 1.75, d4 = −1.25.
    // Even positions: (−2.25 − 1.25)/2 = −1.75; odd: (2.75 + 1.75)/2 = 2.25; their mean 0.25 is removed:
    //   s = [−2, 2].
    // Seasonally adjusted window: 7+2, 14−2, 10+2, 15−2, 13+2, 16−2 = 9 12 12 13 15 14.
    // Line through t = 0..5: mean t 2.5, mean a 12.5, Sxy = (−2.5)(−3.5) + (−1.5)(−0.5) + (−0.5)(−0.5)
    //   + (0.5)(0.5) + (1.5)(2.5) + (2.5)(1.5) = 8.75 + 0.75 + 0.25 + 0.25 + 3.75 + 3.75 = 17.5;
    //   Sxx = 17.5 → b = 1, a = 12.5 − 2.5 = 10; state before t = 0: l = a − b = 9.
    expect(initialStates(Y, [2], 'damped')).toEqual({ level: 9, trend: 1, seasons: [[-2, 2]] });
    // Without a trend: level = the mean of the adjusted window, 12.5.
    expect(initialStates(Y, [2], 'none')).toEqual({ level: 12.5, trend: 0, seasons: [[-2, 2]] });
  });
});

describe('Holt–Winters with fixed parameters', () => {
  // α = β = γ = φ = ½ from l = 9, b = 1, s = [−2 (even t), 2 (odd t)]:
  //   ŷ = l + φb + s;  e = y − ŷ;  l' = l + φb + αe;  b' = φb + βe;  s' = s + γe
  // t0 y=7 : ŷ = 9 + 0.5 − 2 = 7.5, e = −0.5;  l = 9.5 − 0.25 = 9.25;  b = 0.5 − 0.25 = 0.25;  s0 = −2.25
  // t1 y=14: ŷ = 9.25 + 0.125 + 2 = 11.375, e = 2.625 (21/8);  l = 9.375 + 1.3125 = 10.6875 (171/16);
  //          b = 0.125 + 1.3125 = 1.4375 (23/16);  s1 = 2 + 1.3125 = 3.3125 (53/16)
  // t2 y=10: ŷ = 171/16 + 23/32 − 9/4 = 293/32, e = 27/32;  l = 365/32 + 27/64 = 757/64;
  //          b = 23/32 + 27/64 = 73/64;  s0 = −9/4 + 27/64 = −117/64
  // t3 y=15: ŷ = 757/64 + 73/128 + 53/16 = 2011/128, e = −91/128;  l = 1587/128 − 91/256 = 3083/256;
  //          b = 73/128 − 91/256 = 55/256;  s1 = 53/16 − 91/256 = 757/256
  // t4 y=13: ŷ = 3083/256 + 55/512 − 117/64 = 5285/512, e = 1371/512;  l = 6221/512 + 1371/1024 = 13813/1024;
  //          b = 55/512 + 1371/1024 = 1481/1024;  s0 = −117/64 + 1371/1024 = −501/1024
  // t5 y=16: ŷ = 13813/1024 + 1481/2048 + 757/256 = 35163/2048, e = −2395/2048;
  //          l = 29107/2048 − 2395/4096 = 55819/4096;  b = 1481/2048 − 2395/4096 = 567/4096;
  //          s1 = 757/256 − 2395/4096 = 9717/4096
  // t6 y=15: ŷ = 55819/4096 + 567/8192 − 501/1024 = 108197/8192, e = 14683/8192;
  //          l = 112205/8192 + 14683/16384 = 239093/16384;  b = 567/8192 + 14683/16384 = 15817/16384;
  //          s0 = −501/1024 + 14683/16384 = 6667/16384
  // t7 y=19: ŷ = 239093/16384 + 15817/32768 + 9717/4096 = 571739/32768, e = 50853/32768;
  //          l = 494003/32768 + 50853/65536 = 1038859/65536;  b = 15817/32768 + 50853/65536 = 82487/65536;
  //          s1 = 9717/4096 + 50853/65536 = 206325/65536
  // Next step (t = 8) is even: upcoming seasons [s0, s1] = [6667/16384, 206325/65536].
  // Forecasts: ŷ(8) = l + ½b + s0; ŷ(9) = l + (½ + ¼)b + s1; ŷ(10) = l + (½ + ¼ + ⅛)b + s0.
  const level = 1038859 / 65536;
  const trend = 82487 / 65536;
  const s0 = 6667 / 16384;
  const s1 = 206325 / 65536;
  const errors = [-1 / 2, 21 / 8, 27 / 32, -91 / 128, 1371 / 512, -2395 / 2048, 14683 / 8192, 50853 / 32768];
  const sse = errors.reduce((s, e) => s + e * e, 0);

  const fitted = holtWinters({ periods: [2], trend: 'damped', params: PARAMS }).fit(
    TINY,
  ) as FittedHoltWinters;

  it('ends in the states computed by hand', () => {
    expect(fitted.state).toEqual({ level, trend, seasons: [[s0, s1]] });
    expect(fitted.sse).toBe(sse);
    // Fixed parameters: nothing was fitted, σ² = SSE / 8 observations.
    expect(fitted.sigma2).toBe(sse / 8);
    expect(fitted.end).toBe(T0 + 7 * HOUR);
  });

  it('forecasts 1..3 steps as computed by hand, with the ETS horizon variances', () => {
    const forecast = fitted.forecast(3, { level: 0.8 });
    expect(forecast.map((f) => f.mean)).toEqual([
      level + trend / 2 + s0,
      level + (3 / 4) * trend + s1,
      level + (7 / 8) * trend + s0,
    ]);
    expect(forecast.map((f) => f.ts)).toEqual([T0 + 8 * HOUR, T0 + 9 * HOUR, T0 + 10 * HOUR]);
    // c1 = α + β·φ = ½ + ¼ = ¾ (1 is not a multiple of 2: no γ)
    // c2 = α + β·(φ + φ²) + γ = ½ + ⅜ + ½ = 11/8
    // v1 = σ², v2 = σ²(1 + 9/16) = 25/16 σ², v3 = σ²(1 + 9/16 + 121/64) = 221/64 σ²
    const sigma2 = sse / 8;
    expect(horizonVariances(3, sigma2, PARAMS, 'damped', [2])).toEqual([
      sigma2,
      (25 / 16) * sigma2,
      (221 / 64) * sigma2,
    ]);
    const z = intervalZ(0.8);
    expect(z).toBeCloseTo(1.2815515655, 8); // Acklam: |error| < 1.2e-9 relative
    expect(forecast[2]!.upper - forecast[2]!.mean).toBeCloseTo(z * Math.sqrt((221 / 64) * sigma2), 12);
    expect(forecast[0]!.mean - forecast[0]!.lower).toBeCloseTo(z * Math.sqrt(sigma2), 12);
    expect(forecast.map((f) => f.sd)).toEqual([
      Math.sqrt(sigma2),
      Math.sqrt((25 / 16) * sigma2),
      Math.sqrt((221 / 64) * sigma2),
    ]);
  });

  it('update() with new values gives the states of a filter over the whole series', () => {
    // Six values: the same three-cycle initialisation window as the eight-value fit.
    const first = holtWinters({ periods: [2], params: PARAMS }).fit({ ...TINY, values: Y.slice(0, 6) });
    const updated = first.update(Y.slice(6)) as FittedHoltWinters;
    expect(updated.state).toEqual(fitted.state);
    expect(updated.end).toBe(fitted.end);
    expect(updated.observations).toBe(8);
  });

  it('rejects parameters outside their ranges', () => {
    expect(() => holtWinters({ periods: [2], params: { ...PARAMS, alpha: 1 } })).toThrow(/alpha/);
    expect(() => holtWinters({ periods: [2], params: { ...PARAMS, gamma: [0.1, 0.1] } })).toThrow(/gamma/);
    expect(() => holtWinters({ periods: [24, 24] })).toThrow(/differ/);
    expect(() => holtWinters({ periods: [168, 24], params: { ...PARAMS, gamma: [0.1, 0.2] } })).toThrow(
      'with fixed params or initial states, give the periods in ascending order',
    );
    expect(() => holtWinters({ periods: [24] }).fit({ ...TINY, values: new Array(47).fill(1) })).toThrow(
      'hw(24) needs at least 48 values (two seasons of the longest period), got 47',
    );
  });
});

describe('fitted Holt–Winters on synthetic seasonal series', () => {
  it('beats seasonal naive (lower MAE) on a seasonal series with trend and noise', () => {
    // 30 days hourly: daily shape + 0.05/h trend + N(0, 2²).
    const series = synthetic(720, (t) => 100 + 0.05 * t + daily(t), 2, 16);
    const result = backtest(series, [holtWinters({ periods: [24] }), seasonalNaive(24)], {
      horizon: 24,
      minTrain: 240,
      every: 24,
      scalePeriod: 24,
    });
    const [hw, naive] = result.models;
    expect(result.origins).toHaveLength(20);
    expect(hw!.forecasts).toBe(480);
    // The seasonal naive's error has the noise twice (σ√2 ≈ 2.83, MAE ≈ 2.26) plus a day of trend (1.2).
    expect(naive!.mae).toBeGreaterThan(2.2);
    expect(hw!.mae).toBeLessThan(0.8 * naive!.mae);
    expect(hw!.mase!).toBeLessThan(naive!.mase!);
  });

  it('double-seasonal (24, 168) beats single-seasonal (24) on a daily + weekly pattern', () => {
    // 10 weeks hourly: weekdays and weekend days have different daily shapes.
    const series = synthetic(1680, (t) => 50 + dailyWeekly(t), 1, 7);
    const result = backtest(series, [holtWinters({ periods: [24, 168] }), holtWinters({ periods: [24] })], {
      horizon: 24,
      minTrain: 672,
      every: 48,
      scalePeriod: 168,
    });
    const [double, single] = result.models;
    expect(double!.label).toBe('hw(24,168)');
    expect(double!.mae).toBeLessThan(0.7 * single!.mae);
    // With the weekly term the errors are close to the noise alone (MAE of N(0,1) ≈ 0.80).
    expect(double!.mae).toBeLessThan(1.2);
  });

  it('the 80 % interval covers 70–90 % of held-out actuals on a long Gaussian series', () => {
    const series = synthetic(2400, (t) => 20 + daily(t), 1.5, 42);
    const result = backtest(series, [holtWinters({ periods: [24] })], {
      horizon: 24,
      minTrain: 480,
      every: 24,
      scalePeriod: 24,
      level: 0.8,
    });
    const coverage = result.models[0]!.coverage;
    expect(result.models[0]!.forecasts).toBe(1920);
    expect(coverage).toBeGreaterThanOrEqual(0.7);
    expect(coverage).toBeLessThanOrEqual(0.9);
  });

  it('gaps (NaN, one alone, a run of a day, at the very end) never give a NaN forecast', () => {
    const full = synthetic(24 * 14, (t) => 30 + daily(t), 1, 3);
    const values = [...full.values];
    values[5] = Number.NaN; // inside the initialisation window
    for (let t = 100; t < 124; t++) values[t] = Number.NaN;
    values[values.length - 1] = Number.NaN;
    values[values.length - 2] = Number.NaN;
    const series = { ...full, values };
    for (const model of [
      holtWinters({ periods: [24] }),
      holtWinters({ periods: [24, 168] }),
      seasonalNaive(24),
    ]) {
      const forecast = model.fit(series).forecast(48, { level: 0.95 });
      const numbers = forecast.flatMap((f) => [f.mean, f.lower, f.upper]);
      expect(numbers.every(Number.isFinite), model.label).toBe(true);
    }
    // The gap is carried by the one-step forecast: the fitted daily shape still matches the truth.
    const forecast = holtWinters({ periods: [24] })
      .fit(series)
      .forecast(24);
    const truth = Array.from({ length: 24 }, (_, k) => 30 + daily(24 * 14 + k));
    const mae = forecast.reduce((s, f, k) => s + Math.abs(f.mean - truth[k]!), 0) / 24;
    expect(mae).toBeLessThan(1);
  });

  it('is deterministic: the same series gives the same parameters', () => {
    const series = synthetic(480, (t) => 100 + daily(t), 2, 5);
    const a = holtWinters({ periods: [24] })
      .fit(series)
      .toJSON();
    const b = holtWinters({ periods: [24] })
      .fit(series)
      .toJSON();
    expect(a).toEqual(b);
    expect(a.kind === 'holt-winters' && a.params.phi).toBeGreaterThan(0.8);
  });
});
