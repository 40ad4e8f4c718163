import type { RegularSeries } from './series.js';

/** One forecast step: the point forecast and a central prediction interval at the requested level. */
export interface ForecastPoint {
  /** Epoch ms the forecast is for. */
  ts: number;
  mean: number;
  lower: number;
  upper: number;
  /**
   * Standard deviation of the forecast error at this step (the interval is mean ± z·sd): what a
   * predicted alarm needs for P(value > limit) = 1 − Φ((limit − mean)/sd) at any level.
   */
  sd: number;
}

export interface ForecastOptions {
  /** Central interval probability, 0 < level < 1; default 0.95. */
  level?: number;
}

export const DEFAULT_LEVEL = 0.95;

/** A model specification: how to fit, not yet fitted. */
export interface ForecastModel {
  /** Short label used in backtest tables, e.g. `hw(24,168)` or `snaive(7)`. */
  readonly label: string;
  /** The fewest values (gaps included) `fit` accepts. */
  readonly minLength: number;
  /** Throws SeriesError for a series it cannot fit (too short, nothing observed). */
  fit(series: RegularSeries): FittedModel;
}

/** A fitted model: its state is the state at the end of the series it was fitted (or updated) on. */
export interface FittedModel {
  readonly kind: ModelKind;
  readonly label: string;
  /** Epoch ms of the last value the model has seen; forecast step h is for end + h·step. */
  readonly end: number;
  readonly step: number;
  /** One-step-ahead residual variance the intervals scale from. */
  readonly sigma2: number;
  /** Values that had an observation (not NaN) in the fit and later updates. */
  readonly observations: number;
  /** h ≥ 1 steps after `end`. */
  forecast(h: number, options?: ForecastOptions): ForecastPoint[];
  /**
   * The model moved over new values that follow `end` directly (NaN for a gap), with the fitted
   * parameters and residual variance unchanged: what a service does every step between refits.
   */
  update(values: readonly number[]): FittedModel;
  /** Versioned JSON (`fromJSON` reads it back); finite numbers only. */
  toJSON(): FittedModelJson;
}

export const MODEL_KINDS = ['seasonal-naive', 'holt-winters'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** `format` and `version` of every saved model; a reader refuses any other version. */
export const MODEL_FORMAT = 'gridstream.forecast-model';
export const MODEL_VERSION = 1;

export interface ModelJsonBase {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  kind: ModelKind;
  end: number;
  step: number;
  sigma2: number;
  observations: number;
}

export interface SeasonalNaiveJson extends ModelJsonBase {
  kind: 'seasonal-naive';
  period: number;
  /** The value forecast for each of the next `period` steps (the last observed one of each position). */
  upcoming: number[];
}

export type TrendKind = 'none' | 'additive' | 'damped';

export interface HoltWintersParams {
  /** Level smoothing, 0 < alpha < 1. */
  alpha: number;
  /** Trend smoothing in error-correction form (= alpha·beta* of the classical form); 0 without a trend. */
  beta: number;
  /** Seasonal smoothing, one per period. */
  gamma: number[];
  /** Damping, 0 < phi ≤ 1 (1 for an undamped trend). */
  phi: number;
}

export interface HoltWintersState {
  level: number;
  trend: number;
  /** seasons[k][j]: the seasonal term of period k for step end + 1 + j (j = 0 … period − 1). */
  seasons: number[][];
}

export interface HoltWintersJson extends ModelJsonBase {
  kind: 'holt-winters';
  trend: TrendKind;
  periods: number[];
  params: HoltWintersParams;
  state: HoltWintersState;
  /** In-sample one-step sum of squared errors of the fit. */
  sse: number;
}

export type FittedModelJson = SeasonalNaiveJson | HoltWintersJson;

/** A saved model that this build cannot read (other version, other format, malformed). */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

export function checkHorizon(h: number): void {
  if (!Number.isInteger(h) || h < 1)
    throw new RangeError(`forecast horizon must be an integer ≥ 1, got ${h}`);
}
