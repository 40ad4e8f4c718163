import { decodeRegisters, encodeRegisters } from './codec.js';
import type { PointRange, ProfilePoint } from './profile-schema.js';

/**
 * One point's value from one poll.
 *
 * - `value` is the engineering value (raw × scale + offset) for numbers, the flag for bool/bit, the text
 *   for strings. It is ABSENT when `bad` is true: samples only carry finite numbers, and a NaN or Infinity
 *   decoded from garbage registers (or a failed read) must never be stored as if it were a reading.
 * - `outOfRange` values are KEPT: an operator decides what to trust; the sample flags them `out_of_range`.
 */
export interface PointReading {
  point: ProfilePoint;
  value?: number | boolean | string;
  /** The decoded value before scale/offset (for bad floats: the NaN/Infinity that made it bad). */
  raw?: number | boolean | string;
  outOfRange: boolean;
  bad: boolean;
  /** Why the reading is bad. */
  reason?: string;
}

/**
 * `scale: 0.1` must turn raw 3 into 0.3, the double an operator types, not 0.30000000000000004: for a
 * scale that is exactly 10^-n, dividing by 10^n is correctly rounded where multiplying by 0.1 is not.
 */
const divisorCache = new Map<number, number | null>();
function powerOfTenDivisor(scale: number): number | null {
  let divisor = divisorCache.get(scale);
  if (divisor === undefined) {
    divisor = null;
    for (let n = 1; n <= 15; n++) {
      if (Number(`1e-${n}`) === scale) {
        divisor = Number(`1e${n}`);
        break;
      }
    }
    divisorCache.set(scale, divisor);
  }
  return divisor;
}

/** raw × scale + offset, exact for decimal scales (see powerOfTenDivisor). */
export function rawToEngineering(point: Pick<ProfilePoint, 'scale' | 'offset'>, raw: number): number {
  const divisor = powerOfTenDivisor(point.scale);
  const scaled = divisor === null ? raw * point.scale : raw / divisor;
  return point.offset === 0 ? scaled : scaled + point.offset;
}

/**
 * The raw value a device would hold for an engineering value: (value − offset) / scale, rounded to an
 * integer for integer types. Used by simulators and tests to produce registers from readable numbers.
 */
export function engineeringToRaw(
  point: Pick<ProfilePoint, 'scale' | 'offset' | 'type'>,
  value: number,
): number {
  const unscaled = value - point.offset;
  const divisor = powerOfTenDivisor(point.scale);
  const raw = divisor === null ? unscaled / point.scale : unscaled * divisor;
  return point.type === 'float32' || point.type === 'float64' ? raw : Math.round(raw);
}

/** Inclusive bounds; a missing bound does not limit. */
export function isOutOfRange(range: PointRange | undefined, value: number): boolean {
  if (range === undefined) return false;
  return (range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max);
}

/**
 * Decodes a register point from the words read, `start` being the index of the point's first register in
 * `words`. Never throws for device data: a value that cannot be trusted comes back `bad` with a reason.
 */
export function decodePoint(point: ProfilePoint, words: ArrayLike<number>, start = 0): PointReading {
  if (point.type === 'bool')
    return bad(point, 'a bool point is read from coils/discrete inputs, not registers');
  let raw: number | boolean | string;
  try {
    raw = decodeRegisters(words, point.type, point.order, point, start);
  } catch (error) {
    return bad(point, (error as Error).message);
  }
  if (typeof raw !== 'number') return { point, value: raw, raw, outOfRange: false, bad: false };
  if (!Number.isFinite(raw)) return { ...bad(point, `${point.type} decoded to ${raw}`), raw };
  const value = rawToEngineering(point, raw);
  if (!Number.isFinite(value))
    return { ...bad(point, `${raw} × ${point.scale} + ${point.offset} is not finite`), raw };
  return { point, value, raw, outOfRange: isOutOfRange(point.range, value), bad: false };
}

/** A coil or discrete input. */
export function decodePointBit(point: ProfilePoint, bit: boolean | number): PointReading {
  const value = bit === true || bit === 1;
  return { point, value, raw: value, outOfRange: false, bad: false };
}

/**
 * The registers (or the bit) a device holds for an engineering value: the inverse of decodePoint, so a
 * simulator serves exactly what the profile will decode. For `bit` points, `base` is the register's
 * current content, whose other bits are kept. Throws RangeError when the value does not fit the type.
 */
export function encodePoint(
  point: ProfilePoint,
  value: number | boolean | string,
  base = 0,
): number[] | boolean {
  if (point.type === 'bool') return value === true || value === 1;
  if (point.type === 'bit' || point.type === 'string')
    return encodeRegisters(value, point.type, point.order, point, base);
  if (typeof value !== 'number') throw new TypeError(`${point.name} is ${point.type}: needs a number`);
  return encodeRegisters(engineeringToRaw(point, value), point.type, point.order, point);
}

function bad(point: ProfilePoint, reason: string): PointReading {
  return { point, outOfRange: false, bad: true, reason };
}
