import { DEFAULT_LEVEL, type ForecastModel } from './model.js';
import { seasonalNaiveScale } from './seasonal-naive.js';
import { checkSeries, head, type RegularSeries } from './series.js';

/**
 * Rolling-origin backtest (time-series cross-validation, Tashman 2000): at each origin o = minTrain,
 * minTrain + every, … while o + horizon ≤ n, every model is fitted on values[0, o) only and forecasts
 * values[o, o + horizon). Errors are pooled over every (origin, horizon step) whose actual is observed.
 * Deterministic: the same series and options give the same figures (fit times aside, which are opt-in).
 */

export interface BacktestOptions {
  horizon: number;
  /** The first origin: values before it are the first training window. */
  minTrain: number;
  /** Steps between origins. */
  every: number;
  /** Prediction-interval level whose coverage is reported; default 0.95. */
  level?: number;
  /** Period of the seasonal naive whose in-sample MAE scales MASE (1: the plain naive). */
  scalePeriod: number;
  /** Measure the wall time of each fit (not deterministic, so off by default). */
  timing?: boolean;
}

export interface HorizonScore {
  /** Steps ahead, 1 … horizon. */
  h: number;
  mae: number;
  rmse: number;
  forecasts: number;
}

export interface ModelScore {
  label: string;
  mae: number;
  rmse: number;
  /** Mean |e|/|y|·100 over actuals ≠ 0 (zero actuals skipped); null when every actual is zero. */
  mape: number | null;
  /** Mean of |e| / q(o), q(o) the in-sample seasonal-naive MAE of origin o's training window; null if no q > 0. */
  mase: number | null;
  /** Share of observed actuals inside the interval at `level`. */
  coverage: number;
  /** (origin, step) pairs with an observed actual: the count every figure above averages over. */
  forecasts: number;
  /** Actuals skipped by MAPE because they are zero. */
  zeroActuals: number;
  perHorizon: HorizonScore[];
  /** With `timing`: wall time of fit() in ms. */
  fitMs?: { mean: number; max: number; total: number };
}

export interface BacktestResult {
  horizon: number;
  minTrain: number;
  every: number;
  level: number;
  scalePeriod: number;
  /** Index of each origin (the first forecast value). */
  origins: number[];
  models: ModelScore[];
}

export class BacktestError extends Error {
  override name = 'BacktestError';
}

export function backtest(
  series: RegularSeries,
  models: readonly ForecastModel[],
  options: BacktestOptions,
): BacktestResult {
  checkSeries(series);
  const { horizon, minTrain, every, scalePeriod } = options;
  const level = options.level ?? DEFAULT_LEVEL;
  const n = series.values.length;
  for (const [name, v] of [
    ['horizon', horizon],
    ['minTrain', minTrain],
    ['every', every],
    ['scalePeriod', scalePeriod],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new BacktestError(`${name} must be an integer ≥ 1, got ${v}`);
  if (models.length === 0) throw new BacktestError('no model to backtest');
  for (const model of models)
    if (minTrain < model.minLength)
      throw new BacktestError(
        `the first training window (${minTrain} values) is shorter than ${model.label} needs (${model.minLength})`,
      );
  const origins: number[] = [];
  for (let o = minTrain; o + horizon <= n; o += every) origins.push(o);
  if (origins.length === 0)
    throw new BacktestError(
      `no origin: the series has ${n} values, fewer than the first training window plus one horizon (${minTrain} + ${horizon})`,
    );

  const scales = origins.map((o) => seasonalNaiveScale(series.values.slice(0, o), scalePeriod).mae);
  const scores = models.map((model) => {
    const abs = new Float64Array(horizon);
    const sq = new Float64Array(horizon);
    const count = new Uint32Array(horizon);
    let apeSum = 0;
    let apeCount = 0;
    let zeroActuals = 0;
    let scaledSum = 0;
    let scaledCount = 0;
    let covered = 0;
    const fitTimes: number[] = [];
    origins.forEach((o, oi) => {
      const t0 = options.timing ? performance.now() : 0;
      const fitted = model.fit(head(series, o));
      if (options.timing) fitTimes.push(performance.now() - t0);
      const forecast = fitted.forecast(horizon, { level });
      const q = scales[oi]!;
      for (let k = 0; k < horizon; k++) {
        const actual = series.values[o + k]!;
        if (!Number.isFinite(actual)) continue;
        const f = forecast[k]!;
        const e = actual - f.mean;
        abs[k]! += Math.abs(e);
        sq[k]! += e * e;
        count[k]! += 1;
        if (actual === 0) zeroActuals++;
        else {
          apeSum += Math.abs(e / actual);
          apeCount++;
        }
        if (q > 0 && Number.isFinite(q)) {
          scaledSum += Math.abs(e) / q;
          scaledCount++;
        }
        if (actual >= f.lower && actual <= f.upper) covered++;
      }
    });
    const total = count.reduce((a, b) => a + b, 0);
    if (total === 0) throw new BacktestError('no observed actual value after any origin: nothing to score');
    const score: ModelScore = {
      label: model.label,
      mae: abs.reduce((a, b) => a + b, 0) / total,
      rmse: Math.sqrt(sq.reduce((a, b) => a + b, 0) / total),
      mape: apeCount > 0 ? (100 * apeSum) / apeCount : null,
      mase: scaledCount > 0 ? scaledSum / scaledCount : null,
      coverage: covered / total,
      forecasts: total,
      zeroActuals,
      perHorizon: Array.from({ length: horizon }, (_, k) => ({
        h: k + 1,
        mae: abs[k]! / count[k]!,
        rmse: Math.sqrt(sq[k]! / count[k]!),
        forecasts: count[k]!,
      })),
    };
    if (options.timing) {
      const sum = fitTimes.reduce((a, b) => a + b, 0);
      score.fitMs = { mean: sum / fitTimes.length, max: Math.max(...fitTimes), total: sum };
    }
    return score;
  });
  return { horizon, minTrain, every, level, scalePeriod, origins, models: scores };
}
