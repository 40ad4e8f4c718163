import { crc32 } from 'node:zlib';
import type { OutMessage } from '@gridstream/kafka';

/**
 * One spooled message on disk:
 *
 *   u32 body length | u32 CRC-32 of the body | body
 *   body = u64 seq | i32 key length (-1: null) | key | u32 value length | value
 *          | u16 header count | (u16 name length | name | u32 value length | value)…
 *
 * The checksum is what tells a torn write (the process or the machine died mid-append) or a damaged
 * block from a record: recovery keeps every record up to the first one that does not check out.
 */
export const FRAME_HEADER_BYTES = 8;
/** Larger "lengths" are damage, not records (Kafka refuses messages this big anyway). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface SpooledMessage {
  seq: bigint;
  message: OutMessage;
}

const asBuffer = (v: Buffer | string): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

export function encodeRecord(seq: bigint, message: OutMessage): Buffer {
  const key = message.key === null ? null : asBuffer(message.key);
  const value = asBuffer(message.value);
  const headers = Object.entries(message.headers ?? {}).map(
    ([name, v]) => [Buffer.from(name, 'utf8'), Buffer.from(v, 'utf8')] as const,
  );
  let size = 8 + 4 + (key?.length ?? 0) + 4 + value.length + 2;
  for (const [name, v] of headers) size += 2 + name.length + 4 + v.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  let at = FRAME_HEADER_BYTES;
  frame.writeBigUInt64BE(seq, at);
  at += 8;
  if (key === null) {
    frame.writeInt32BE(-1, at);
    at += 4;
  } else {
    frame.writeInt32BE(key.length, at);
    at += 4;
    at += key.copy(frame, at);
  }
  frame.writeUInt32BE(value.length, at);
  at += 4;
  at += value.copy(frame, at);
  frame.writeUInt16BE(headers.length, at);
  at += 2;
  for (const [name, v] of headers) {
    frame.writeUInt16BE(name.length, at);
    at += 2;
    at += name.copy(frame, at);
    frame.writeUInt32BE(v.length, at);
    at += 4;
    at += v.copy(frame, at);
  }
  frame.writeUInt32BE(size, 0);
  frame.writeUInt32BE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4);
  return frame;
}

export type DecodeResult =
  | { kind: 'record'; record: SpooledMessage; end: number }
  /** Not enough bytes for the whole frame: the end of what was read (or a torn last write). */
  | { kind: 'short' }
  /** The bytes at `at` are not a record: damage. */
  | { kind: 'corrupt'; reason: string };

/** Decodes the frame starting at `at` in `buf`. */
export function decodeRecord(buf: Buffer, at: number): DecodeResult {
  if (buf.length - at < FRAME_HEADER_BYTES) return { kind: 'short' };
  const size = buf.readUInt32BE(at);
  if (size < 18 || size > MAX_BODY_BYTES) return { kind: 'corrupt', reason: `impossible length ${size}` };
  const end = at + FRAME_HEADER_BYTES + size;
  if (end > buf.length) return { kind: 'short' };
  const body = buf.subarray(at + FRAME_HEADER_BYTES, end);
  if (crc32(body) !== buf.readUInt32BE(at + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' };
  try {
    let p = 0;
    const seq = body.readBigUInt64BE(p);
    p += 8;
    const keyLength = body.readInt32BE(p);
    p += 4;
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      key = Buffer.from(body.subarray(p, p + keyLength));
      p += keyLength;
    }
    const valueLength = body.readUInt32BE(p);
    p += 4;
    const value = Buffer.from(body.subarray(p, p + valueLength));
    p += valueLength;
    const count = body.readUInt16BE(p);
    p += 2;
    const headers: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const nameLength = body.readUInt16BE(p);
      p += 2;
      const name = body.toString('utf8', p, p + nameLength);
      p += nameLength;
      const vLength = body.readUInt32BE(p);
      p += 4;
      headers[name] = body.toString('utf8', p, p + vLength);
      p += vLength;
    }
    if (p !== body.length) return { kind: 'corrupt', reason: 'trailing bytes in a record' };
    return { kind: 'record', record: { seq, message: { key, value, headers } }, end };
  } catch (error) {
    return { kind: 'corrupt', reason: (error as Error).message };
  }
}
