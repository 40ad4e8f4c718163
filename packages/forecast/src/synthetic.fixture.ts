import type { RegularSeries } from './series.js';

/** mulberry32: a seeded uniform generator, so every synthetic series is the same on every run. */
export function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Standard normal draws (Box–Muller) from a seeded uniform. */
export function gaussian(seed: number): () => number {
  const u = uniform(seed);
  return () => {
    const u1 = 1 - u(); // (0, 1]: log(0) would be −Infinity
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u());
  };
}

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2024, 0, 1); // a Monday

/** n values of f(t) + sigma·N(0, 1), hourly from T0. */
export function synthetic(n: number, f: (t: number) => number, sigma: number, seed: number): RegularSeries {
  const noise = gaussian(seed);
  return { start: T0, step: HOUR, values: Array.from({ length: n }, (_, t) => f(t) + sigma * noise()) };
}

/** Daily shape on hourly data: a morning and an evening peak. */
export const daily = (t: number) =>
  10 * Math.sin((2 * Math.PI * (t % 24)) / 24) + 4 * Math.cos((4 * Math.PI * (t % 24)) / 24);

/** Weekly on top of daily: weekends (days 5 and 6 from a Monday) run at 40 % lower with no evening peak. */
export const dailyWeekly = (t: number) => {
  const day = Math.floor(t / 24) % 7;
  const hour = t % 24;
  return day >= 5 ? 0.6 * 10 * Math.sin((2 * Math.PI * hour) / 24) - 6 : daily(t);
};
