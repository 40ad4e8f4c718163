/**
 * A regular series: one value per step from `start`, NaN where nothing was measured. Models take only this
 * shape, so a gap is an explicit NaN at its own time rather than two neighbours that look adjacent — which
 * would shift every later value by one season and teach the model the wrong season.
 */
export interface RegularSeries {
  /** Epoch milliseconds of values[0]. */
  start: number;
  /** Milliseconds between consecutive values (> 0). */
  step: number;
  /** NaN marks a gap. */
  values: readonly number[];
}

export interface TimedValue {
  /** Epoch milliseconds. */
  ts: number;
  value: number;
}

export class SeriesError extends Error {
  override name = 'SeriesError';
}

/** Epoch ms of values[i]. */
export const timeAt = (series: RegularSeries, i: number): number => series.start + i * series.step;

/** Count of NaN (missing) values. */
export function countMissing(values: readonly number[]): number {
  let n = 0;
  for (const v of values) if (!Number.isFinite(v)) n++;
  return n;
}

export function checkSeries(series: RegularSeries): void {
  if (!Number.isFinite(series.start)) throw new SeriesError('series start must be a finite epoch ms');
  if (!(series.step > 0) || !Number.isFinite(series.step))
    throw new SeriesError(`series step must be a positive number of ms, got ${series.step}`);
  for (const v of series.values)
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY)
      throw new SeriesError('series values must be finite numbers or NaN for a gap, not Infinity');
}

const STEP_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m`, `1h`, `1d`, `30s` → ms. Throws SeriesError for anything else. */
export function parseStep(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (m === null) throw new SeriesError(`step "${text}" is not a duration like 15m, 1h or 1d`);
  const ms = Number(m[1]) * STEP_UNITS[m[2]!]!;
  if (ms <= 0) throw new SeriesError(`step "${text}" must be longer than zero`);
  return ms;
}

/** 900000 → `15m`; the largest unit that divides the step exactly. */
export function formatStep(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = STEP_UNITS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The step of irregular or regular timestamps: the median of the positive differences between sorted
 * distinct times. The median, not the minimum, so one duplicated-then-corrected reading a second apart
 * does not turn a 15-minute series into a one-second one (with 899 of 900 buckets empty).
 */
export function inferStep(timestamps: readonly number[]): number {
  const sorted = [...new Set(timestamps)].sort((a, b) => a - b);
  const diffs: number[] = [];
  for (let i = 1; i < sorted.length; i++) diffs.push(sorted[i]! - sorted[i - 1]!);
  if (diffs.length === 0) throw new SeriesError('cannot infer a step from fewer than two distinct times');
  diffs.sort((a, b) => a - b);
  return diffs[Math.floor((diffs.length - 1) / 2)]!;
}

export interface ResampleOptions {
  /** Bucket width in ms. */
  step: number;
  /** Start of the first bucket; default the earliest timestamp (so regular input maps one-to-one). */
  start?: number;
  /** Exclusive end; default just after the latest timestamp's bucket. */
  end?: number;
}

/**
 * Irregular (ts, value) points → a regular series: the mean of the finite values in each bucket
 * [start + i·step, start + (i+1)·step), NaN for an empty bucket. Points before `start` or at/after `end`
 * are left out; non-finite values count as absent. Input order does not matter.
 */
export function resample(points: readonly TimedValue[], options: ResampleOptions): RegularSeries {
  const { step } = options;
  if (!(step > 0)) throw new SeriesError(`resample step must be > 0 ms, got ${step}`);
  const finite = points.filter((p) => Number.isFinite(p.ts));
  if (finite.length === 0 && options.start === undefined)
    throw new SeriesError('resample: no points and no start');
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const p of finite) {
    if (p.ts < minTs) minTs = p.ts;
    if (p.ts > maxTs) maxTs = p.ts;
  }
  const start = options.start ?? minTs;
  const end =
    options.end ?? (finite.length === 0 ? start : start + (Math.floor((maxTs - start) / step) + 1) * step);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const sum = new Float64Array(n);
  const count = new Uint32Array(n);
  for (const p of finite) {
    if (!Number.isFinite(p.value) || p.ts < start || p.ts >= end) continue;
    const i = Math.floor((p.ts - start) / step);
    sum[i]! += p.value;
    count[i]! += 1;
  }
  const values = Array.from({ length: n }, (_, i) => (count[i]! > 0 ? sum[i]! / count[i]! : Number.NaN));
  return { start, step, values };
}

/** The first `length` values as a series of their own (same start and step). */
export function head(series: RegularSeries, length: number): RegularSeries {
  return { start: series.start, step: series.step, values: series.values.slice(0, length) };
}
