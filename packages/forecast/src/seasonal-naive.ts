import {
  checkHorizon,
  DEFAULT_LEVEL,
  type FittedModel,
  type ForecastModel,
  type ForecastOptions,
  type ForecastPoint,
  MODEL_FORMAT,
  MODEL_VERSION,
  type SeasonalNaiveJson,
} from './model.js';
import { intervalZ } from './normal.js';
import { checkSeries, SeriesError, timeAt } from './series.js';

/**
 * Seasonal naive: every step repeats the last observed value of the same season position,
 * ŷ(n+h) = y(n + h − m·⌈h/m⌉). Period 1 is the plain naive (random-walk) forecast. The baseline of every
 * backtest, and the denominator of MASE.
 *
 * Gaps: a position whose latest value is missing takes the latest observed value of that position; one
 * never observed takes the latest observed value of any position (never NaN).
 *
 * Interval: residuals e(t) = y(t) − y(t−m) over pairs where both are observed, σ² = mean(e²); the
 * h-step variance is σ²·(k + 1) with k = ⌊(h − 1)/m⌋ the number of whole seasons ahead (Hyndman &
 * Athanasopoulos, FPP3 §5.5: the seasonal random walk's error accumulates once per season).
 */
export function seasonalNaive(period: number): ForecastModel {
  if (!Number.isInteger(period) || period < 1)
    throw new RangeError(`seasonal naive period must be an integer ≥ 1, got ${period}`);
  return {
    label: period === 1 ? 'naive' : `snaive(${period})`,
    minLength: period + 1,
    fit(series) {
      checkSeries(series);
      const { values } = series;
      if (values.length < period + 1)
        throw new SeriesError(
          `seasonal naive with period ${period} needs at least ${period + 1} values, got ${values.length}`,
        );
      const mae = seasonalNaiveScale(values, period);
      if (!Number.isFinite(mae.mse))
        throw new SeriesError(
          `no two observed values ${period} step(s) apart: seasonal naive cannot be fitted`,
        );
      const upcoming = new Array<number>(period).fill(Number.NaN);
      let latest = Number.NaN;
      for (let t = 0; t < values.length; t++) {
        const v = values[t]!;
        if (!Number.isFinite(v)) continue;
        // Position of time t among the next `period` steps after the end (n, n+1, …): (t − n) mod m.
        upcoming[(((t - values.length) % period) + period) % period] = v;
        latest = v;
      }
      for (let j = 0; j < period; j++) if (!Number.isFinite(upcoming[j]!)) upcoming[j] = latest;
      return new FittedSeasonalNaive({
        format: MODEL_FORMAT,
        version: MODEL_VERSION,
        kind: 'seasonal-naive',
        end: timeAt(series, values.length - 1),
        step: series.step,
        sigma2: mae.mse,
        observations: mae.observations,
        period,
        upcoming,
      });
    },
  };
}

/**
 * In-sample one-step errors of the seasonal naive forecast, |y(t) − y(t−m)| over the pairs where both are
 * observed: `mae` is the MASE scale (Hyndman & Koehler 2006, seasonal version), `mse` the naive's σ².
 * NaN when no pair exists.
 */
export function seasonalNaiveScale(
  values: readonly number[],
  period: number,
): { mae: number; mse: number; pairs: number; observations: number } {
  let abs = 0;
  let sq = 0;
  let pairs = 0;
  let observations = 0;
  for (let t = 0; t < values.length; t++) {
    const v = values[t]!;
    if (!Number.isFinite(v)) continue;
    observations++;
    if (t < period) continue;
    const before = values[t - period]!;
    if (!Number.isFinite(before)) continue;
    const e = v - before;
    abs += Math.abs(e);
    sq += e * e;
    pairs++;
  }
  return {
    mae: pairs > 0 ? abs / pairs : Number.NaN,
    mse: pairs > 0 ? sq / pairs : Number.NaN,
    pairs,
    observations,
  };
}

export class FittedSeasonalNaive implements FittedModel {
  readonly kind = 'seasonal-naive';
  readonly label: string;
  readonly end: number;
  readonly step: number;
  readonly sigma2: number;
  readonly observations: number;
  readonly period: number;
  private readonly upcoming: readonly number[];

  constructor(json: SeasonalNaiveJson) {
    this.end = json.end;
    this.step = json.step;
    this.sigma2 = json.sigma2;
    this.observations = json.observations;
    this.period = json.period;
    this.upcoming = [...json.upcoming];
    this.label = json.period === 1 ? 'naive' : `snaive(${json.period})`;
  }

  forecast(h: number, options: ForecastOptions = {}): ForecastPoint[] {
    checkHorizon(h);
    const z = intervalZ(options.level ?? DEFAULT_LEVEL);
    const out: ForecastPoint[] = [];
    for (let i = 1; i <= h; i++) {
      const mean = this.upcoming[(i - 1) % this.period]!;
      const k = Math.floor((i - 1) / this.period);
      const sd = Math.sqrt(this.sigma2 * (k + 1));
      out.push({ ts: this.end + i * this.step, mean, lower: mean - z * sd, upper: mean + z * sd, sd });
    }
    return out;
  }

  update(values: readonly number[]): FittedSeasonalNaive {
    const upcoming = [...this.upcoming];
    let observations = this.observations;
    for (const v of values) {
      const next = upcoming.shift()!;
      // A gap keeps the position's previous value: the seasonal naive "carried through" the gap.
      if (Number.isFinite(v)) observations++;
      upcoming.push(Number.isFinite(v) ? v : next);
    }
    return new FittedSeasonalNaive({
      ...this.toJSON(),
      end: this.end + values.length * this.step,
      observations,
      upcoming,
    });
  }

  toJSON(): SeasonalNaiveJson {
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      kind: 'seasonal-naive',
      end: this.end,
      step: this.step,
      sigma2: this.sigma2,
      observations: this.observations,
      period: this.period,
      upcoming: [...this.upcoming],
    };
  }
}
