import { decodePoint, decodePointBit, type PointReading } from './decode.js';
import type { ReadRequest } from './plan-reads.js';

/**
 * Decodes every point of one answered read. `data` is what the client returned: register words for
 * holding/input reads, booleans for coil/discrete-input reads (modbus-serial pads those to a multiple of
 * 8; the padding is ignored). A short answer marks the points it does not cover `bad` instead of throwing,
 * so a misbehaving device cannot crash the collector.
 */
export function decodeRead(
  request: ReadRequest,
  data: ArrayLike<number> | ArrayLike<boolean>,
): PointReading[] {
  const bits = request.function === 'coil' || request.function === 'discrete_input';
  return request.points.map((point) => {
    const start = point.address - request.address;
    if (start < 0 || start + point.words > data.length) {
      return {
        point,
        outOfRange: false,
        bad: true,
        reason: `the answer held ${data.length} of the ${request.count} ${bits ? 'bits' : 'registers'} requested`,
      };
    }
    if (bits) return decodePointBit(point, data[start] as boolean | number);
    return decodePoint(point, data as ArrayLike<number>, start);
  });
}

/** Every point of a read that failed (timeout, exception), marked bad with the reason. */
export function failRead(request: ReadRequest, reason: string): PointReading[] {
  return request.points.map((point) => ({ point, outOfRange: false, bad: true, reason }));
}
