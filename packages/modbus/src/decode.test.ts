import { describe, expect, it } from 'vitest';
import {
  decodePoint,
  decodePointBit,
  encodePoint,
  engineeringToRaw,
  isOutOfRange,
  rawToEngineering,
} from './decode.js';
import { decodeRead, failRead } from './decode-read.js';
import type { ReadRequest } from './plan-reads.js';
import type { ProfilePoint } from './profile-schema.js';

function point(overrides: Partial<ProfilePoint>): ProfilePoint {
  return {
    name: 'v',
    function: 'input',
    address: 0,
    type: 'uint16',
    words: 1,
    order: 'ABCD',
    scale: 1,
    offset: 0,
    equipment: 'battery',
    device: 'bank',
    ...overrides,
  };
}

describe('rawToEngineering', () => {
  it('gives the decimal an operator expects for 10^-n scales', () => {
    // raw × 0.1 would give 0.30000000000000004 and 0.7000000000000001.
    expect(rawToEngineering({ scale: 0.1, offset: 0 }, 3)).toBe(0.3);
    expect(rawToEngineering({ scale: 0.1, offset: 0 }, 7)).toBe(0.7);
    expect(rawToEngineering({ scale: 0.01, offset: 0 }, 4999)).toBe(49.99);
    expect(rawToEngineering({ scale: 0.001, offset: 0 }, 3301)).toBe(3.301);
    expect(rawToEngineering({ scale: 0.1, offset: 0 }, 65535)).toBe(6553.5);
  });

  it('applies other scales and the offset as raw × scale + offset', () => {
    expect(rawToEngineering({ scale: 2, offset: 0 }, 21)).toBe(42);
    expect(rawToEngineering({ scale: 0.5, offset: -40 }, 130)).toBe(25);
  });

  it('inverts for simulators', () => {
    expect(engineeringToRaw({ scale: 0.1, offset: 0, type: 'uint16' }, 4000)).toBe(40000);
    expect(engineeringToRaw({ scale: 0.1, offset: 0, type: 'int16' }, -10)).toBe(-100);
    expect(engineeringToRaw({ scale: 0.5, offset: -40, type: 'int16' }, 25)).toBe(130);
    expect(engineeringToRaw({ scale: 1, offset: 0, type: 'float32' }, 1.25)).toBe(1.25);
  });
});

describe('isOutOfRange', () => {
  it('is inclusive and ignores a missing bound', () => {
    expect(isOutOfRange({ min: 0, max: 10 }, 10)).toBe(false);
    expect(isOutOfRange({ min: 0, max: 10 }, 10.0001)).toBe(true);
    expect(isOutOfRange({ min: 0 }, 1e12)).toBe(false);
    expect(isOutOfRange({ max: 3 }, -5)).toBe(false);
    expect(isOutOfRange(undefined, Number.MAX_VALUE)).toBe(false);
  });
});

describe('decodePoint', () => {
  it('decodes, scales and range-checks; out-of-range values are kept', () => {
    const p = point({ type: 'int16', scale: 0.1, range: { min: -50, max: 50 } });
    expect(decodePoint(p, [0xff9c])).toEqual({
      point: p,
      value: -10,
      raw: -100,
      outOfRange: false,
      bad: false,
    });
    expect(decodePoint(p, [600])).toEqual({ point: p, value: 60, raw: 600, outOfRange: true, bad: false });
  });

  it('marks NaN and Infinity bad, with no value', () => {
    const p = point({ type: 'float32', words: 2 });
    const nan = decodePoint(p, [0x7fc0, 0]);
    expect(nan.bad).toBe(true);
    expect(nan.value).toBeUndefined();
    expect(nan.reason).toBe('float32 decoded to NaN');
    expect(decodePoint(p, [0xff80, 0])).toMatchObject({ bad: true, reason: 'float32 decoded to -Infinity' });
    const huge = point({ type: 'float64', words: 4, scale: 1e300 });
    expect(decodePoint(huge, [0x7fef, 0xffff, 0xffff, 0xffff])).toMatchObject({ bad: true });
  });

  it('marks a point bad instead of throwing when words are missing', () => {
    expect(decodePoint(point({ type: 'float32', words: 2 }), [1])).toMatchObject({ bad: true });
  });

  it('returns flags and text unscaled', () => {
    expect(decodePoint(point({ type: 'bit', bit: 2 }), [0b100]).value).toBe(true);
    expect(decodePoint(point({ type: 'string', length: 2, words: 2 }), [0x4142, 0x4300]).value).toBe('ABC');
    expect(decodePointBit(point({ type: 'bool', function: 'coil' }), true).value).toBe(true);
  });

  it('round-trips with encodePoint', () => {
    const p = point({ type: 'float32', words: 2, order: 'CDAB', scale: 0.001 });
    const words = encodePoint(p, 12.5) as number[];
    expect(decodePoint(p, words).value).toBeCloseTo(12.5, 9);
    const q = point({ type: 'uint16', scale: 0.1 });
    expect(encodePoint(q, 4000)).toEqual([40000]);
    expect(() => encodePoint(q, 7000)).toThrow(RangeError);
  });
});

describe('decodeRead', () => {
  const a = point({ name: 'a', address: 10 });
  const b = point({ name: 'b', address: 12, type: 'float32', words: 2 });
  const request: ReadRequest = { function: 'input', address: 10, count: 4, points: [a, b] };

  it('decodes each point at its offset in the answer', () => {
    const readings = decodeRead(request, [7, 0xdead, 0x4049, 0x0fdb]);
    expect(readings.map((r) => r.value)).toEqual([7, Math.fround(Math.PI)]);
  });

  it('marks points a short answer does not cover as bad', () => {
    const readings = decodeRead(request, [7, 0]);
    expect(readings.map((r) => r.bad)).toEqual([false, true]);
    expect(readings[1]!.reason).toBe('the answer held 2 of the 4 registers requested');
  });

  it('reads coils from the booleans (padding ignored)', () => {
    const c1 = point({ name: 'c1', function: 'coil', type: 'bool', address: 3 });
    const c2 = point({ name: 'c2', function: 'coil', type: 'bool', address: 5 });
    const bits = [true, false, true, false, false, false, false, false];
    const readings = decodeRead({ function: 'coil', address: 3, count: 3, points: [c1, c2] }, bits);
    expect(readings.map((r) => r.value)).toEqual([true, true]);
  });

  it('failRead marks every point bad with the reason', () => {
    expect(failRead(request, 'Timed out').map((r) => [r.bad, r.reason])).toEqual([
      [true, 'Timed out'],
      [true, 'Timed out'],
    ]);
  });
});
