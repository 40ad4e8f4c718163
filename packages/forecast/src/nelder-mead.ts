/**
 * A small Nelder–Mead simplex minimiser (Lagarias et al. 1998 coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5). Deterministic: the same start gives the same path, which the backtests
 * rely on. Unconstrained — callers map bounded parameters through a logistic first.
 */
export interface NelderMeadOptions {
  /** Initial simplex: x0 plus `step` along each axis. Default 0.5. */
  step?: number;
  /** Stop when the spread of f over the simplex falls below this (absolute + relative to |f best|). */
  tolerance?: number;
  /** Default 200 × dimension. */
  maxEvaluations?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  evaluations: number;
}

export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const dim = x0.length;
  const step = options.step ?? 0.5;
  const tolerance = options.tolerance ?? 1e-10;
  const maxEvaluations = options.maxEvaluations ?? 200 * Math.max(1, dim);
  let evaluations = 0;
  // A NaN or infinite cost (a diverging recursion) must lose every comparison, not poison the ordering.
  const cost = (x: readonly number[]) => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  if (dim === 0) return { x: [], value: cost([]), evaluations };

  const simplex: { x: number[]; v: number }[] = [{ x: [...x0], v: cost(x0) }];
  for (let i = 0; i < dim; i++) {
    const x = [...x0];
    x[i]! += step;
    simplex.push({ x, v: cost(x) });
  }
  const combine = (a: readonly number[], b: readonly number[], t: number) =>
    a.map((ai, i) => ai + t * (b[i]! - ai));

  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0]!;
    const worst = simplex[dim]!;
    if (Math.abs(worst.v - best.v) <= tolerance * (1 + Math.abs(best.v))) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j]! += simplex[i]!.x[j]! / dim;

    const xr = combine(centroid, worst.x, -1);
    const vr = cost(xr);
    if (vr < best.v) {
      const xe = combine(centroid, worst.x, -2);
      const ve = cost(xe);
      simplex[dim] = ve < vr ? { x: xe, v: ve } : { x: xr, v: vr };
      continue;
    }
    if (vr < simplex[dim - 1]!.v) {
      simplex[dim] = { x: xr, v: vr };
      continue;
    }
    // Contraction: outside when the reflected point beats the worst, inside otherwise.
    const outside = vr < worst.v;
    const xc = combine(centroid, worst.x, outside ? -0.5 : 0.5);
    const vc = cost(xc);
    if (vc < (outside ? vr : worst.v)) {
      simplex[dim] = { x: xc, v: vc };
      continue;
    }
    for (let i = 1; i <= dim; i++) {
      const x = combine(best.x, simplex[i]!.x, 0.5);
      simplex[i] = { x, v: cost(x) };
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v, evaluations };
}

export const logistic = (x: number): number => 1 / (1 + Math.exp(-x));
export const logit = (p: number): number => Math.log(p / (1 - p));
