export {
  BacktestError,
  type BacktestOptions,
  type BacktestResult,
  backtest,
  type HorizonScore,
  type ModelScore,
} from './backtest.js';
export {
  centredMovingAverage,
  FittedHoltWinters,
  filter,
  type HoltWintersOptions,
  holtWinters,
  horizonVariances,
  hwLabel,
  initialStates,
  PHI_MAX,
  PHI_MIN,
} from './holt-winters.js';
export {
  DEFAULT_LEVEL,
  type FittedModel,
  type FittedModelJson,
  type ForecastModel,
  type ForecastOptions,
  type ForecastPoint,
  type HoltWintersJson,
  type HoltWintersParams,
  type HoltWintersState,
  MODEL_FORMAT,
  MODEL_KINDS,
  MODEL_VERSION,
  ModelFormatError,
  type ModelKind,
  type SeasonalNaiveJson,
  type TrendKind,
} from './model.js';
export { fromJSON } from './model-json.js';
export { logistic, logit, type NelderMeadOptions, type NelderMeadResult, nelderMead } from './nelder-mead.js';
export { intervalZ, normalQuantile } from './normal.js';
export { FittedSeasonalNaive, seasonalNaive, seasonalNaiveScale } from './seasonal-naive.js';
export {
  checkSeries,
  countMissing,
  formatStep,
  head,
  inferStep,
  parseStep,
  type RegularSeries,
  type ResampleOptions,
  resample,
  SeriesError,
  type TimedValue,
  timeAt,
} from './series.js';
