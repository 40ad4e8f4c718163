import type { PointType, RegisterOrder } from './profile-schema.js';

/**
 * Raw register words <-> typed values, with no profile knowledge: the probe prints every order with it, the
 * decoder applies one, the simulator encodes with it. Everything goes through bytes in one canonical order,
 * so one pair of functions covers every type and every order and they cannot disagree with each other.
 *
 * The order names describe where the bytes of a big-endian value `A B C D` (A most significant) land on
 * the wire, register by register:
 *
 *   ABCD  [A B] [C D]   most significant word first, high byte first (the Modbus default)
 *   CDAB  [C D] [A B]   least significant word first ("word swap")
 *   BADC  [B A] [D C]   bytes swapped inside each register ("byte swap")
 *   DCBA  [D C] [B A]   both: the value is little-endian on the wire
 *
 * 64-bit values extend the same two rules: the word order reverses all four registers (CDAB of
 * `ABCDEFGH` is [G H] [E F] [C D] [A B]) and the byte swap applies inside each register (BADC is
 * [B A] [D C] [F E] [H G]); DCBA is fully little-endian. 16-bit types only see the byte swap. Strings see
 * only the byte swap: their registers always run in reading order.
 */

/** The types that live in registers (coils and discrete inputs carry `bool`). */
export type RegisterType = Exclude<PointType, 'bool'>;

export interface DecodeOptions {
  /** Bit index 0..15 for `bit` (0 = least significant bit of the register as transmitted). */
  bit?: number;
  /** Number of registers for `string`. */
  length?: number;
}

/** How many registers a value of this type occupies. */
export function registerCount(type: PointType, length?: number): number {
  switch (type) {
    case 'bool':
    case 'bit':
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    case 'string':
      if (length === undefined || !Number.isInteger(length) || length < 1) {
        throw new RangeError('a string needs its length in registers');
      }
      return length;
  }
}

function swapsWords(order: RegisterOrder): boolean {
  return order === 'CDAB' || order === 'DCBA';
}

function swapsBytes(order: RegisterOrder): boolean {
  return order === 'BADC' || order === 'DCBA';
}

/**
 * Decodes the value that starts at `words[start]`. Words are taken modulo 2^16, so a caller that hands in
 * signed 16-bit numbers (some clients do) still gets the right bits. Throws RangeError when `words` is too
 * short: that is a programming error in the caller, not bad data from a device.
 */
export function decodeRegisters(
  words: ArrayLike<number>,
  type: RegisterType,
  order: RegisterOrder,
  options: DecodeOptions = {},
  start = 0,
): number | boolean | string {
  const count = registerCount(type, options.length);
  if (start < 0 || start + count > words.length) {
    throw new RangeError(`${type} needs ${count} register(s) from index ${start}; only ${words.length} read`);
  }
  if (type === 'bit') {
    const bit = options.bit ?? 0;
    if (!Number.isInteger(bit) || bit < 0 || bit > 15) throw new RangeError(`bit ${bit} is not 0..15`);
    return ((words[start]! >>> bit) & 1) === 1;
  }
  const bytes = new Uint8Array(count * 2);
  const wordSwap = swapsWords(order) && type !== 'string';
  const byteSwap = swapsBytes(order);
  for (let i = 0; i < count; i++) {
    const word = words[start + (wordSwap ? count - 1 - i : i)]! & 0xffff;
    const hi = word >>> 8;
    const lo = word & 0xff;
    bytes[2 * i] = byteSwap ? lo : hi;
    bytes[2 * i + 1] = byteSwap ? hi : lo;
  }
  const view = new DataView(bytes.buffer);
  switch (type) {
    case 'uint16':
      return view.getUint16(0);
    case 'int16':
      return view.getInt16(0);
    case 'uint32':
      return view.getUint32(0);
    case 'int32':
      return view.getInt32(0);
    case 'float32':
      return view.getFloat32(0);
    case 'float64':
      return view.getFloat64(0);
    case 'string': {
      // Devices pad with NUL or spaces; the text ends at the first NUL.
      const end = bytes.indexOf(0);
      return new TextDecoder('utf-8').decode(end === -1 ? bytes : bytes.subarray(0, end)).trimEnd();
    }
  }
}

const INTEGER_LIMITS: Record<'int16' | 'uint16' | 'int32' | 'uint32', [number, number]> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/**
 * The inverse of decodeRegisters: the registers a device would send for `value` (a raw, unscaled value).
 * Throws RangeError for an integer that does not fit its type rather than wrapping it, so a simulator can
 * never serve a value other than the one it meant. For `bit`, returns the register with that bit set or
 * cleared in `base` (other bits kept).
 */
export function encodeRegisters(
  value: number | boolean | string,
  type: RegisterType,
  order: RegisterOrder,
  options: DecodeOptions = {},
  base = 0,
): number[] {
  const count = registerCount(type, options.length);
  if (type === 'bit') {
    const bit = options.bit ?? 0;
    if (!Number.isInteger(bit) || bit < 0 || bit > 15) throw new RangeError(`bit ${bit} is not 0..15`);
    const mask = 1 << bit;
    return [value === true || value === 1 ? (base | mask) & 0xffff : base & ~mask & 0xffff];
  }
  const bytes = new Uint8Array(count * 2);
  const view = new DataView(bytes.buffer);
  if (type === 'string') {
    if (typeof value !== 'string') throw new TypeError('a string point needs a string value');
    const encoded = new TextEncoder().encode(value);
    if (encoded.length > bytes.length) throw new RangeError(`"${value}" needs more than ${count} registers`);
    bytes.set(encoded);
  } else {
    if (typeof value !== 'number') throw new TypeError(`a ${type} point needs a number`);
    if (type === 'float32') view.setFloat32(0, value);
    else if (type === 'float64') view.setFloat64(0, value);
    else {
      const [min, max] = INTEGER_LIMITS[type];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new RangeError(`${value} is not a ${type} (${min}..${max})`);
      }
      if (type === 'uint16') view.setUint16(0, value);
      else if (type === 'int16') view.setInt16(0, value);
      else if (type === 'uint32') view.setUint32(0, value);
      else view.setInt32(0, value);
    }
  }
  const wordSwap = swapsWords(order) && type !== 'string';
  const byteSwap = swapsBytes(order);
  const words = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const hi = bytes[2 * i]!;
    const lo = bytes[2 * i + 1]!;
    words[wordSwap ? count - 1 - i : i] = byteSwap ? (lo << 8) | hi : (hi << 8) | lo;
  }
  return words;
}
