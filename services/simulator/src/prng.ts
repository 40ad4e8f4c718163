/**
 * Seeded PRNG (mulberry32): the same seed gives the same message sequence, which is what lets tests
 * compare a generated message byte for byte and lets a bug report name the seed that reproduces it.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Roughly normal noise (sum of uniforms): cheap, bounded to +-3 sigma, good enough for sensor jitter. */
  noise(sigma: number): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * sigma * 1.732;
  }

  /** One random-walk step that stays inside [min, max] by reflecting at the bounds. */
  walk(value: number, step: number, min: number, max: number): number {
    let v = value + (this.next() * 2 - 1) * step;
    if (v > max) v = max - (v - max);
    if (v < min) v = min + (min - v);
    return Math.min(max, Math.max(min, v));
  }
}

/** Derives independent seeds for the sites of one run from one base seed (FNV-1a over the site id). */
export function seedFor(baseSeed: number, siteId: string): number {
  let h = (0x811c9dc5 ^ baseSeed) >>> 0;
  for (let i = 0; i < siteId.length; i++) {
    h ^= siteId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
