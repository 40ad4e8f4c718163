/**
 * IQR fences: values outside [Q1 − k·IQR, Q3 + k·IQR] of a series' recent history are flagged `anomaly`.
 *
 * Quantiles use linear interpolation between order statistics at position (n − 1)·p (Hyndman–Fan type 7,
 * the default of numpy.quantile / pandas.Series.quantile). That is the method that reproduces the
 * reference criteria.csv from its preprocessed.csv exactly (see docs/quality.md and fences.test.ts).
 */

/** Quantile p ∈ [0, 1] of values that are ALREADY SORTED ascending; NaN for an empty array. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  return a + (h - lo) * (sorted[hi]! - a);
}

export interface Fences {
  q1: number;
  q3: number;
  iqr: number;
  /** Q1 − k·IQR */
  lower: number;
  /** Q3 + k·IQR */
  upper: number;
  k: number;
  /** Values the fences were computed from (non-finite values are skipped). */
  count: number;
  rawMin: number;
  rawMax: number;
}

/** Fences of a sample; undefined when it holds no finite value. The input is not modified. */
export function iqrFences(values: Iterable<number>, k = 1.5): Fences | undefined {
  const finite: number[] = [];
  for (const v of values) if (Number.isFinite(v)) finite.push(v);
  if (finite.length === 0) return undefined;
  const sorted = Float64Array.from(finite).sort();
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  return {
    q1,
    q3,
    iqr,
    lower: q1 - k * iqr,
    upper: q3 + k * iqr,
    k,
    count: sorted.length,
    rawMin: sorted[0]!,
    rawMax: sorted[sorted.length - 1]!,
  };
}

/**
 * Outer alarm levels as the reference computes them: each fence moved outwards by `levelPercent` % of
 * its distance to the raw extreme on that side (U = upper + l·|rawMax − upper|, L = lower − l·|lower −
 * rawMin|). Outwards on both sides, even when the raw extreme lies inside the fence.
 */
export function fenceLevels(
  fences: Pick<Fences, 'lower' | 'upper'>,
  rawMin: number,
  rawMax: number,
  levelPercent: number,
): { lowerLevel: number; upperLevel: number } {
  const l = levelPercent / 100;
  return {
    upperLevel: fences.upper + l * Math.abs(rawMax - fences.upper),
    lowerLevel: fences.lower - l * Math.abs(fences.lower - rawMin),
  };
}
