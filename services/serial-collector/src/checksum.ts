/**
 * Line checksums, both written as `*hh` (two hex digits, either case) at the end of the line:
 * - `nmea` (NMEA 0183 and the many meters that copied it): `$body*hh`, hh = XOR of every byte of `body`
 *   (between the leading `$` or `!`, which is optional here, and the `*`);
 * - `sum8` (a trailing sum): `body*hh`, hh = the sum of every byte of `body` modulo 256.
 * The checksum is verified on the bytes as received and removed (with the leading `$`) before the line is
 * read, so the format describes only the body.
 */
export type ChecksumKind = 'none' | 'nmea' | 'sum8';

export type ChecksumResult = { ok: true; body: Buffer } | { ok: false; message: string };

const HEX2 = /^[0-9A-Fa-f]{2}$/;

export function verifyChecksum(line: Buffer, kind: ChecksumKind): ChecksumResult {
  if (kind === 'none') return { ok: true, body: line };
  const star = line.lastIndexOf(0x2a); // '*'
  const hex = star === -1 ? '' : line.subarray(star + 1).toString('latin1');
  if (star === -1 || !HEX2.test(hex)) return { ok: false, message: 'no *hh checksum at the end of the line' };
  let start = 0;
  if (kind === 'nmea' && (line[0] === 0x24 || line[0] === 0x21)) start = 1; // '$' or '!'
  const body = line.subarray(start, star);
  let sum = 0;
  if (kind === 'nmea') for (const byte of body) sum ^= byte;
  else {
    for (const byte of body) sum = (sum + byte) & 0xff;
  }
  const given = Number.parseInt(hex, 16);
  if (given !== sum)
    return {
      ok: false,
      message: `checksum ${hex.toUpperCase()} does not match the line (${kind} ${sum.toString(16).toUpperCase().padStart(2, '0')})`,
    };
  return { ok: true, body };
}

/** The `*hh` to append to `body` (tests and peers write lines with it). */
export function checksumOf(body: string, kind: Exclude<ChecksumKind, 'none'>): string {
  let sum = 0;
  for (const byte of Buffer.from(body, 'latin1')) sum = kind === 'nmea' ? sum ^ byte : (sum + byte) & 0xff;
  return `*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
}
