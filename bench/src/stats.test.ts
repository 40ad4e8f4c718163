import { describe, expect, it } from 'vitest';
import { formatNumber, median, percentile } from './stats.js';

describe('percentile', () => {
  it('uses the nearest rank, so p99 of 100 values is the 99th smallest', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(median(values)).toBe(50);
  });
  it('handles one value and none', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('formatNumber', () => {
  it('groups thousands and keeps decimals for small values', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(0.834)).toBe('0.83');
    expect(formatNumber(Number.NaN)).toBe('n/a');
  });
});
