import { describe, expect, it } from 'vitest';
import { decodeRegisters, encodeRegisters, type RegisterType, registerCount } from './codec.js';
import { REGISTER_ORDERS, type RegisterOrder } from './profile-schema.js';

// The same 32-bit value as each order puts it on the wire (value bytes A=0x40 B=0x49 C=0x0F D=0xDB).
const PI_F32: Record<RegisterOrder, number[]> = {
  ABCD: [0x4049, 0x0fdb],
  CDAB: [0x0fdb, 0x4049],
  BADC: [0x4940, 0xdb0f],
  DCBA: [0xdb0f, 0x4940],
};

describe('decodeRegisters', () => {
  it('keeps uint16 unsigned and reads int16 as two’s complement', () => {
    expect(decodeRegisters([40000], 'uint16', 'ABCD')).toBe(40000);
    expect(decodeRegisters([0xffff], 'uint16', 'ABCD')).toBe(65535);
    expect(decodeRegisters([0xff9c], 'int16', 'ABCD')).toBe(-100);
    expect(decodeRegisters([0x8000], 'int16', 'ABCD')).toBe(-32768);
    expect(decodeRegisters([0x7fff], 'int16', 'ABCD')).toBe(32767);
  });

  it('byte-swaps 16-bit values for BADC and DCBA only', () => {
    expect(decodeRegisters([0x1234], 'uint16', 'ABCD')).toBe(0x1234);
    expect(decodeRegisters([0x1234], 'uint16', 'CDAB')).toBe(0x1234);
    expect(decodeRegisters([0x1234], 'uint16', 'BADC')).toBe(0x3412);
    expect(decodeRegisters([0x9cff], 'int16', 'DCBA')).toBe(-100);
  });

  it('decodes float32 π (0x40490FDB) in each of the four orders', () => {
    for (const order of REGISTER_ORDERS) {
      expect(decodeRegisters(PI_F32[order], 'float32', order), order).toBe(Math.fround(Math.PI));
    }
  });

  it('decodes 32-bit integers in each order', () => {
    const wire: Record<RegisterOrder, number[]> = {
      ABCD: [0x1234, 0x5678],
      CDAB: [0x5678, 0x1234],
      BADC: [0x3412, 0x7856],
      DCBA: [0x7856, 0x3412],
    };
    for (const order of REGISTER_ORDERS) {
      expect(decodeRegisters(wire[order], 'uint32', order), order).toBe(0x12345678);
      expect(decodeRegisters(wire[order], 'int32', order), order).toBe(0x12345678);
    }
    expect(decodeRegisters([0xffff, 0xfffe], 'int32', 'ABCD')).toBe(-2);
    expect(decodeRegisters([0xffff, 0xfffe], 'uint32', 'ABCD')).toBe(4294967294);
    expect(decodeRegisters([0xfffe, 0xffff], 'int32', 'CDAB')).toBe(-2);
  });

  it('extends the pattern to 64 bits: word order reverses all four registers', () => {
    // 1.0 as float64 is 3F F0 00 00 00 00 00 00; use a value with distinct bytes: 0x400921FB54442D18 = π.
    const abcd = [0x4009, 0x21fb, 0x5444, 0x2d18];
    const wire: Record<RegisterOrder, number[]> = {
      ABCD: abcd,
      CDAB: [0x2d18, 0x5444, 0x21fb, 0x4009],
      BADC: [0x0940, 0xfb21, 0x4454, 0x182d],
      DCBA: [0x182d, 0x4454, 0xfb21, 0x0940],
    };
    for (const order of REGISTER_ORDERS)
      expect(decodeRegisters(wire[order], 'float64', order), order).toBe(Math.PI);
    // DCBA is exactly little-endian bytes.
    const le = Buffer.alloc(8);
    le.writeDoubleLE(Math.PI);
    expect(wire.DCBA.flatMap((w) => [w >> 8, w & 0xff])).toEqual([...le]);
  });

  it('decodes strings in register order, byte swap only, ending at the first NUL', () => {
    const text = [0x4753, 0x2d31, 0x0000]; // "GS-1"
    expect(decodeRegisters(text, 'string', 'ABCD', { length: 3 })).toBe('GS-1');
    expect(decodeRegisters(text, 'string', 'CDAB', { length: 3 })).toBe('GS-1');
    expect(decodeRegisters([0x5347, 0x312d, 0x2020], 'string', 'BADC', { length: 3 })).toBe('GS-1');
  });

  it('reads bits counted from the least significant bit', () => {
    expect(decodeRegisters([0b1000_0000_0000_0001], 'bit', 'ABCD', { bit: 0 })).toBe(true);
    expect(decodeRegisters([0b1000_0000_0000_0001], 'bit', 'ABCD', { bit: 1 })).toBe(false);
    expect(decodeRegisters([0b1000_0000_0000_0001], 'bit', 'ABCD', { bit: 15 })).toBe(true);
  });

  it('reads from an offset and takes words modulo 2^16', () => {
    expect(decodeRegisters([1, 2, 0x4049, 0x0fdb], 'float32', 'ABCD', {}, 2)).toBe(Math.fround(Math.PI));
    expect(decodeRegisters([-100], 'uint16', 'ABCD')).toBe(65436);
    expect(decodeRegisters(new Uint16Array([0xff9c]), 'int16', 'ABCD')).toBe(-100);
  });

  it('throws RangeError when too few words are given', () => {
    expect(() => decodeRegisters([0x4049], 'float32', 'ABCD')).toThrow(RangeError);
    expect(() => decodeRegisters([1, 2, 3], 'float32', 'ABCD', {}, 2)).toThrow(RangeError);
  });

  it('decodes NaN and Infinity as such (the point decoder marks them bad)', () => {
    expect(decodeRegisters([0x7fc0, 0x0000], 'float32', 'ABCD')).toBeNaN();
    expect(decodeRegisters([0x7f80, 0x0000], 'float32', 'ABCD')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('encodeRegisters', () => {
  const cases: [RegisterType, number | string, Record<string, number>?][] = [
    ['uint16', 65535],
    ['int16', -32768],
    ['int32', -123456789],
    ['uint32', 4000000000],
    ['float32', Math.fround(-12.75)],
    ['float64', -1234.5678e-9],
    ['string', 'ESS bank 1', { length: 6 }],
  ];
  for (const [type, value, options] of cases) {
    it(`round-trips ${type} in every order`, () => {
      for (const order of REGISTER_ORDERS) {
        const words = encodeRegisters(value, type, order, options);
        expect(words).toHaveLength(registerCount(type, options?.length));
        expect(decodeRegisters(words, type, order, options), order).toBe(value);
      }
    });
  }

  it('produces the documented wire layouts', () => {
    for (const order of REGISTER_ORDERS) {
      expect(encodeRegisters(Math.fround(Math.PI), 'float32', order), order).toEqual(PI_F32[order]);
    }
  });

  it('refuses integers that do not fit instead of wrapping them', () => {
    expect(() => encodeRegisters(65536, 'uint16', 'ABCD')).toThrow(RangeError);
    expect(() => encodeRegisters(-1, 'uint16', 'ABCD')).toThrow(RangeError);
    expect(() => encodeRegisters(32768, 'int16', 'ABCD')).toThrow(RangeError);
    expect(() => encodeRegisters(1.5, 'int32', 'ABCD')).toThrow(RangeError);
    expect(() => encodeRegisters('too long', 'string', 'ABCD', { length: 2 })).toThrow(RangeError);
  });

  it('sets and clears one bit, keeping the others', () => {
    expect(encodeRegisters(true, 'bit', 'ABCD', { bit: 3 }, 0b0001)).toEqual([0b1001]);
    expect(encodeRegisters(false, 'bit', 'ABCD', { bit: 0 }, 0b1001)).toEqual([0b1000]);
  });
});
