import { describe, expect, it } from 'vitest';
import { logistic, logit, nelderMead } from './nelder-mead.js';
import { normalQuantile } from './normal.js';

describe('Nelder–Mead', () => {
  it('finds the minimum of the Rosenbrock function from the textbook start (−1.2, 1)', () => {
    const rosenbrock = ([x, y]: readonly number[]) => 100 * (y! - x! * x!) ** 2 + (1 - x!) ** 2;
    const result = nelderMead(rosenbrock, [-1.2, 1], { maxEvaluations: 2000 });
    expect(result.x[0]).toBeCloseTo(1, 3);
    expect(result.x[1]).toBeCloseTo(1, 3);
    expect(result.value).toBeLessThan(1e-6);
  });

  it('treats a NaN cost as the worst, and stops at the evaluation limit', () => {
    const f = ([x]: readonly number[]) => (x! < 0 ? Number.NaN : (x! - 3) ** 2);
    expect(nelderMead(f, [1]).x[0]).toBeCloseTo(3, 4);
    expect(nelderMead(f, [1], { maxEvaluations: 5 }).evaluations).toBeLessThanOrEqual(7);
  });

  it('logistic and logit are inverses', () => {
    expect(logistic(0)).toBe(0.5);
    expect(logistic(logit(0.2))).toBeCloseTo(0.2, 15);
  });
});

describe('normal quantile', () => {
  it('matches tabulated values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655, 8);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});
