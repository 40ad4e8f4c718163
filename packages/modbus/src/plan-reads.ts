import {
  type DeviceProfile,
  MAX_BITS_PER_READ,
  MAX_REGISTERS_PER_READ,
  MODBUS_FUNCTIONS,
  type ModbusFunction,
  type ProfilePoint,
} from './profile-schema.js';

/** One Modbus request: `count` registers (or bits) of `function` from `address`, and the points inside. */
export interface ReadRequest {
  function: ModbusFunction;
  address: number;
  count: number;
  /** Sorted by address; each lies wholly inside [address, address + count). */
  points: ProfilePoint[];
}

export interface PlanOptions {
  /** Registers per holding/input read, ≤ 125 (protocol limit). */
  maxRegistersPerRead?: number;
  /** Bits per coil/discrete-input read, ≤ 2000 (protocol limit). */
  maxBitsPerRead?: number;
  /**
   * Unrequested registers (or bits) one read may bridge to merge two groups. Bridging saves a round trip
   * but reads addresses no point names, which some devices refuse with "illegal data address": set 0 then.
   */
  maxGap?: number;
}

/**
 * The fewest reads that cover the points: per function, points sorted by address are taken greedily into
 * the current read while the span stays within the limit and the hole before the next point is ≤ maxGap.
 * Greedy is optimal here because any run of consecutive points inside a valid read is itself valid, so
 * extending a read as far as it goes can never force an extra one later. A point is never split across reads.
 * Deterministic: the same points in any order give the same plan (functions in MODBUS_FUNCTIONS order).
 */
export function planReads(points: readonly ProfilePoint[], options: PlanOptions = {}): ReadRequest[] {
  const maxRegisters = Math.min(
    options.maxRegistersPerRead ?? MAX_REGISTERS_PER_READ,
    MAX_REGISTERS_PER_READ,
  );
  const maxBits = Math.min(options.maxBitsPerRead ?? MAX_BITS_PER_READ, MAX_BITS_PER_READ);
  const maxGap = Math.max(0, options.maxGap ?? 10);
  const reads: ReadRequest[] = [];
  for (const fn of MODBUS_FUNCTIONS) {
    const limit = fn === 'coil' || fn === 'discrete_input' ? maxBits : maxRegisters;
    const sorted = points
      .filter((p) => p.function === fn)
      .sort((a, b) => a.address - b.address || a.words - b.words || (a.bit ?? -1) - (b.bit ?? -1));
    let current: ReadRequest | undefined;
    for (const point of sorted) {
      if (point.words > limit) {
        throw new RangeError(
          `${point.name} (${fn} ${point.address}) spans ${point.words}, more than one read (${limit})`,
        );
      }
      const end = point.address + point.words;
      if (current) {
        const currentEnd = current.address + current.count;
        const gap = point.address - currentEnd;
        const newEnd = Math.max(currentEnd, end);
        if (gap <= maxGap && newEnd - current.address <= limit) {
          current.count = newEnd - current.address;
          current.points.push(point);
          continue;
        }
      }
      current = { function: fn, address: point.address, count: point.words, points: [point] };
      reads.push(current);
    }
  }
  return reads;
}

/** The plan for one device profile, with its own limits. */
export function planDeviceReads(profile: DeviceProfile): ReadRequest[] {
  return planReads(profile.points, {
    maxRegistersPerRead: profile.maxRegistersPerRead,
    maxBitsPerRead: profile.maxBitsPerRead,
    maxGap: profile.maxGap,
  });
}
