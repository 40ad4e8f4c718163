import {
  checkHorizon,
  DEFAULT_LEVEL,
  type FittedModel,
  type ForecastModel,
  type ForecastOptions,
  type ForecastPoint,
  type HoltWintersJson,
  type HoltWintersParams,
  type HoltWintersState,
  MODEL_FORMAT,
  MODEL_VERSION,
  type TrendKind,
} from './model.js';
import { logistic, logit, nelderMead } from './nelder-mead.js';
import { intervalZ } from './normal.js';
import { checkSeries, SeriesError, timeAt } from './series.js';

/**
 * Additive Holt–Winters in the error-correction (innovations state space) form of ETS(A,Ad,A), with one
 * seasonal term per period — two periods make Taylor's (2003) double-seasonal Holt–Winters:
 *
 *   ŷ(t)  = l(t−1) + φ·b(t−1) + Σk s_k(t − m_k)          one-step forecast
 *   e(t)  = y(t) − ŷ(t)
 *   l(t)  = l(t−1) + φ·b(t−1) + α·e(t)
 *   b(t)  = φ·b(t−1) + β·e(t)
 *   s_k(t) = s_k(t − m_k) + γ_k·e(t)
 *
 * A gap (NaN) sets e(t) = 0: the states move on as the one-step forecast (the model "carries its
 * forecast through the gap") and the gap adds nothing to the SSE.
 *
 * h-step forecast: l(n) + (φ + φ² + … + φ^h)·b(n) + Σk s_k(n + h − m_k·⌈h/m_k⌉).
 * Trend `none` drops b (β = 0); `additive` is φ = 1; `damped` fits φ in (0.8, 0.98).
 */

export interface HoltWintersOptions {
  /**
   * One or two seasonal periods in steps, e.g. [24] or [24, 168] on hourly data; [] for none. Kept in
   * ascending order: `gamma[k]` and `seasons[k]` belong to the k-th shortest period.
   */
  periods: number[];
  /** Default `damped`. */
  trend?: TrendKind;
  /** Fixed parameters: skip the optimiser (tests, or a service reusing yesterday's parameters). */
  params?: HoltWintersParams;
  /** Fixed initial states (state before the first value); default: classical decomposition. */
  initial?: HoltWintersState;
}

/** Bounds of the damping parameter when it is fitted (Hyndman et al. 2008 §2.5 recommend 0.8–0.98). */
export const PHI_MIN = 0.8;
export const PHI_MAX = 0.98;

export function holtWinters(options: HoltWintersOptions): ForecastModel {
  const periods = [...options.periods].sort((a, b) => a - b);
  for (const m of periods)
    if (!Number.isInteger(m) || m < 2)
      throw new RangeError(`seasonal periods must be integers ≥ 2, got ${m}`);
  if (new Set(periods).size !== periods.length) throw new RangeError('seasonal periods must differ');
  if (periods.length > 2) throw new RangeError('at most two seasonal periods');
  // gamma[k] and seasons[k] belong to periods[k] in ascending order: a reversed list would pair them
  // with the wrong period without any error.
  if ((options.params || options.initial) && options.periods.some((m, k) => m !== periods[k]))
    throw new RangeError('with fixed params or initial states, give the periods in ascending order');
  const trend = options.trend ?? 'damped';
  if (options.params) checkParams(options.params, periods.length, trend);
  const longest = periods.at(-1) ?? 1;
  const label = hwLabel(periods, trend);
  // Two whole seasons of the longest period: the decomposition needs one centred-average window plus
  // one value per season position.
  const minLength = Math.max(2 * longest, 4);
  return {
    label,
    minLength,
    fit(series) {
      checkSeries(series);
      const values = series.values;
      if (values.length < minLength)
        throw new SeriesError(
          `${label} needs at least ${minLength} values (two seasons of the longest period), got ${values.length}`,
        );
      const initial = options.initial ?? initialStates(values, periods, trend);
      if (options.initial) checkState(options.initial, periods);
      const params = options.params ?? fitParams(values, periods, trend, initial);
      const run = filter(values, params, trend, initial);
      if (run.observations === 0) throw new SeriesError('the series has no observed value');
      const fittedCount = 1 + (trend === 'none' ? 0 : 1) + periods.length + (trend === 'damped' ? 1 : 0);
      // σ² = SSE / (observations − fitted smoothing parameters); the initial states come from the
      // decomposition, not the optimiser, and are not counted.
      const sigma2 = run.sse / Math.max(1, run.observations - (options.params ? 0 : fittedCount));
      return new FittedHoltWinters({
        format: MODEL_FORMAT,
        version: MODEL_VERSION,
        kind: 'holt-winters',
        end: timeAt(series, values.length - 1),
        step: series.step,
        sigma2,
        observations: run.observations,
        trend,
        periods,
        params,
        state: run.state,
        sse: run.sse,
      });
    },
  };
}

/** `hw(24,168)` for the damped default, `hw(7,additive)`, `hw(none,none)`. */
export function hwLabel(periods: readonly number[], trend: TrendKind): string {
  return `hw(${periods.join(',') || 'none'}${trend === 'damped' ? '' : `,${trend}`})`;
}

function checkParams(p: HoltWintersParams, seasons: number, trend: TrendKind): void {
  const inUnit = (v: number) => v > 0 && v < 1;
  if (!inUnit(p.alpha)) throw new RangeError(`alpha must be in (0, 1), got ${p.alpha}`);
  if (trend === 'none' ? p.beta !== 0 : !(p.beta >= 0 && p.beta < 1))
    throw new RangeError(`beta must be in [0, 1) (0 without a trend), got ${p.beta}`);
  if (p.gamma.length !== seasons || !p.gamma.every((g) => g >= 0 && g < 1))
    throw new RangeError(`gamma must hold ${seasons} value(s) in [0, 1), got [${p.gamma.join(', ')}]`);
  if (!(p.phi > 0 && p.phi <= 1)) throw new RangeError(`phi must be in (0, 1], got ${p.phi}`);
}

function checkState(s: HoltWintersState, periods: readonly number[]): void {
  if (s.seasons.length !== periods.length || s.seasons.some((season, k) => season.length !== periods[k]))
    throw new RangeError(`initial seasons must have lengths [${periods.join(', ')}]`);
}

// ------------------------------------------------------------------------------------- initial states

/**
 * Initial states from the first seasons by classical additive decomposition (the usual Holt–Winters
 * start, e.g. Hyndman et al. 2008 §2.6.1, extended to two periods as Taylor 2003 does):
 *  1. window: the first K = min(⌊n/M⌋, 3) whole cycles of the longest period M;
 *  2. trend: the centred moving average of order M (2×M when M is even) — it removes every season whose
 *     period divides M;
 *  3. seasons, shortest period first: the mean of the detrended values at each position, centred to sum
 *     zero, then subtracted before the next (longer) period's indices are taken;
 *  4. level and trend: least-squares line through the seasonally adjusted window, y ≈ a + b·t; the state
 *     before the first value is l = a − b, b = b (so the line's value at t = 0 is l + b). Trend `none`:
 *     l = mean of the adjusted window, b = 0.
 * Gaps: averages skip NaN; a moving-average window with a gap gives no trend value at that time.
 */
export function initialStates(
  values: readonly number[],
  periods: readonly number[],
  trend: TrendKind,
): HoltWintersState {
  const sorted = [...periods].sort((a, b) => a - b);
  const longest = sorted.at(-1) ?? 1;
  const cycles = Math.max(1, Math.min(Math.floor(values.length / longest), 3));
  const window = values.slice(0, cycles * longest);
  const n = window.length;
  const detrended = new Array<number>(n).fill(Number.NaN);
  if (sorted.length > 0) {
    const ma = centredMovingAverage(window, longest);
    for (let t = 0; t < n; t++) detrended[t] = window[t]! - ma[t]!;
  }
  const seasons: number[][] = [];
  for (const m of sorted) {
    const sum = new Array<number>(m).fill(0);
    const count = new Array<number>(m).fill(0);
    for (let t = 0; t < n; t++) {
      const d = detrended[t]!;
      if (!Number.isFinite(d)) continue;
      sum[t % m]! += d;
      count[t % m]! += 1;
    }
    const index = sum.map((s, j) => (count[j]! > 0 ? s / count[j]! : 0));
    const mean = index.reduce((a, b) => a + b, 0) / m;
    const centred = index.map((v) => v - mean);
    for (let t = 0; t < n; t++) detrended[t]! -= centred[t % m]!;
    seasons.push(centred);
  }
  let sumT = 0;
  let sumY = 0;
  let count = 0;
  const adjusted: [number, number][] = [];
  for (let t = 0; t < n; t++) {
    const y = window[t]!;
    if (!Number.isFinite(y)) continue;
    const a = y - seasons.reduce((s, season, k) => s + season[t % sorted[k]!]!, 0);
    adjusted.push([t, a]);
    sumT += t;
    sumY += a;
    count++;
  }
  if (count < 2)
    throw new SeriesError('too few observed values in the first seasons to initialise Holt–Winters');
  const meanT = sumT / count;
  const meanY = sumY / count;
  if (trend === 'none') return { level: meanY, trend: 0, seasons };
  let sxy = 0;
  let sxx = 0;
  for (const [t, a] of adjusted) {
    sxy += (t - meanT) * (a - meanY);
    sxx += (t - meanT) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = meanY - slope * meanT;
  return { level: intercept - slope, trend: slope, seasons };
}

/** Centred moving average of order m (2×m for even m); NaN where the window is incomplete or has a gap. */
export function centredMovingAverage(values: readonly number[], m: number): number[] {
  const n = values.length;
  const out = new Array<number>(n).fill(Number.NaN);
  const half = Math.floor(m / 2);
  for (let t = half; t < n - half; t++) {
    let s = 0;
    if (m % 2 === 1) {
      for (let i = t - half; i <= t + half; i++) s += values[i]!;
      out[t] = s / m;
    } else {
      s = values[t - half]! / 2 + values[t + half]! / 2;
      for (let i = t - half + 1; i < t + half; i++) s += values[i]!;
      out[t] = s / m;
    }
  }
  return out; // NaN in a window propagates: no trend value there
}

// ------------------------------------------------------------------------------------------ filtering

interface FilterRun {
  sse: number;
  observations: number;
  state: HoltWintersState;
}

/** Runs the recursions over `values` from `start` (the state before values[0]). */
export function filter(
  values: readonly number[],
  params: HoltWintersParams,
  trend: TrendKind,
  start: HoltWintersState,
): FilterRun {
  const { alpha, gamma } = params;
  const beta = trend === 'none' ? 0 : params.beta;
  const phi = trend === 'none' ? 0 : trend === 'additive' ? 1 : params.phi;
  let level = start.level;
  let slope = trend === 'none' ? 0 : start.trend;
  const seasons = start.seasons.map((s) => Float64Array.from(s));
  const k = seasons.length;
  const pos = new Array<number>(k).fill(0);
  let sse = 0;
  let observations = 0;
  for (let t = 0; t < values.length; t++) {
    let seasonal = 0;
    for (let i = 0; i < k; i++) seasonal += seasons[i]![pos[i]!]!;
    const damped = phi * slope;
    const y = values[t]!;
    let e = 0;
    if (Number.isFinite(y)) {
      e = y - (level + damped + seasonal);
      sse += e * e;
      observations++;
    }
    level = level + damped + alpha * e;
    slope = damped + beta * e;
    for (let i = 0; i < k; i++) {
      const s = seasons[i]!;
      const p = pos[i]!;
      s[p] = s[p]! + gamma[i]! * e;
      pos[i] = p + 1 === s.length ? 0 : p + 1;
    }
  }
  // Rotate each ring so that index 0 is the next step's term.
  const rotated = seasons.map((s, i) =>
    Array.from({ length: s.length }, (_, j) => s[(pos[i]! + j) % s.length]!),
  );
  return { sse, observations, state: { level, trend: slope, seasons: rotated } };
}

// -------------------------------------------------------------------------------------------- fitting

/**
 * Parameters minimising the one-step-ahead SSE. The optimiser works on unbounded θ mapped through the
 * logistic function σ(θ) ∈ (0, 1), scaled to the usual ETS admissible region:
 *   α = σ(θ₀);  β = α·σ(θ₁) (β < α);  γ_k = (1 − α)·σ(θ) (γ < 1 − α);  φ = 0.8 + 0.18·σ(θ).
 * Start: α = 0.2, β = 0.1·α, γ = 0.1·(1 − α), φ = 0.95; Nelder–Mead, then restarted once from its answer
 * with a fresh simplex (a collapsed simplex is Nelder–Mead's usual way of stopping early).
 */
function fitParams(
  values: readonly number[],
  periods: readonly number[],
  trend: TrendKind,
  initial: HoltWintersState,
): HoltWintersParams {
  const decode = (theta: readonly number[]): HoltWintersParams => {
    let i = 0;
    const alpha = logistic(theta[i++]!);
    const beta = trend === 'none' ? 0 : alpha * logistic(theta[i++]!);
    const gamma = periods.map(() => (1 - alpha) * logistic(theta[i++]!));
    const phi = trend === 'damped' ? PHI_MIN + (PHI_MAX - PHI_MIN) * logistic(theta[i++]!) : 1;
    return { alpha, beta, gamma, phi };
  };
  const theta0 = [logit(0.2)];
  if (trend !== 'none') theta0.push(logit(0.1));
  for (const _ of periods) theta0.push(logit(0.1));
  if (trend === 'damped') theta0.push(logit((0.95 - PHI_MIN) / (PHI_MAX - PHI_MIN)));
  const sse = (theta: readonly number[]) => filter(values, decode(theta), trend, initial).sse;
  const first = nelderMead(sse, theta0, { step: 1 });
  const second = nelderMead(sse, first.x, { step: 0.5 });
  return decode(second.x);
}

// -------------------------------------------------------------------------------------- fitted model

/**
 * Coefficients of the h-step error: y(n+h) − ŷ(n+h|n) = ε(n+h) + Σ_{j=1}^{h−1} c_j·ε(n+h−j), with
 *   c_j = α + β·(φ + φ² + … + φ^j) + Σk γ_k·[j mod m_k = 0]
 * (Hyndman et al. 2008, Table 6.1 / FPP3 §8.7, class 1 models; the seasonal term once per period, for
 * each period). Var = σ²·(1 + Σ c_j²).
 */
export function horizonVariances(
  h: number,
  sigma2: number,
  params: HoltWintersParams,
  trend: TrendKind,
  periods: readonly number[],
): number[] {
  const beta = trend === 'none' ? 0 : params.beta;
  const phi = trend === 'additive' ? 1 : params.phi;
  const out: number[] = [];
  let sumC2 = 0;
  let phiSum = 0;
  let phiPow = 1;
  for (let step = 1; step <= h; step++) {
    out.push(sigma2 * (1 + sumC2));
    // c_j for j = step, used from horizon step + 1 on.
    phiPow *= phi;
    phiSum += phiPow;
    let c = params.alpha + beta * phiSum;
    periods.forEach((m, k) => {
      if (step % m === 0) c += params.gamma[k]!;
    });
    sumC2 += c * c;
  }
  return out;
}

export class FittedHoltWinters implements FittedModel {
  readonly kind = 'holt-winters';
  readonly label: string;
  readonly end: number;
  readonly step: number;
  readonly sigma2: number;
  readonly observations: number;
  readonly trend: TrendKind;
  readonly periods: readonly number[];
  readonly params: Readonly<HoltWintersParams>;
  readonly state: Readonly<HoltWintersState>;
  readonly sse: number;

  constructor(json: HoltWintersJson) {
    this.end = json.end;
    this.step = json.step;
    this.sigma2 = json.sigma2;
    this.observations = json.observations;
    this.trend = json.trend;
    this.periods = [...json.periods];
    this.params = { ...json.params, gamma: [...json.params.gamma] };
    this.state = { ...json.state, seasons: json.state.seasons.map((s) => [...s]) };
    this.sse = json.sse;
    this.label = hwLabel(json.periods, json.trend);
  }

  forecast(h: number, options: ForecastOptions = {}): ForecastPoint[] {
    checkHorizon(h);
    const z = intervalZ(options.level ?? DEFAULT_LEVEL);
    const variances = horizonVariances(h, this.sigma2, this.params, this.trend, this.periods);
    const phi = this.trend === 'none' ? 0 : this.trend === 'additive' ? 1 : this.params.phi;
    const out: ForecastPoint[] = [];
    let phiSum = 0;
    let phiPow = 1;
    for (let i = 1; i <= h; i++) {
      phiPow *= phi;
      phiSum += phiPow;
      let mean = this.state.level + phiSum * this.state.trend;
      this.state.seasons.forEach((s, k) => {
        mean += s[(i - 1) % this.periods[k]!]!;
      });
      const sd = Math.sqrt(variances[i - 1]!);
      out.push({ ts: this.end + i * this.step, mean, lower: mean - z * sd, upper: mean + z * sd, sd });
    }
    return out;
  }

  update(values: readonly number[]): FittedHoltWinters {
    const run = filter(values, this.params, this.trend, this.state);
    return new FittedHoltWinters({
      ...this.toJSON(),
      end: this.end + values.length * this.step,
      observations: this.observations + run.observations,
      state: run.state,
    });
  }

  toJSON(): HoltWintersJson {
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      kind: 'holt-winters',
      end: this.end,
      step: this.step,
      sigma2: this.sigma2,
      observations: this.observations,
      trend: this.trend,
      periods: [...this.periods],
      params: { ...this.params, gamma: [...this.params.gamma] },
      state: { ...this.state, seasons: this.state.seasons.map((s) => [...s]) },
      sse: this.sse,
    };
  }
}
