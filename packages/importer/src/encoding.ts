import chardet from 'chardet';

/**
 * Text encodings of the files operators have: UTF-8 and the two Korean legacy code pages. The old tool
 * tried utf-8, euc-kr and cp949 in turn by catching decode errors; here the first bytes decide, once.
 */
export const ENCODINGS = ['auto', 'utf-8', 'euc-kr', 'cp949'] as const;
export type EncodingChoice = (typeof ENCODINGS)[number];
export type Encoding = Exclude<EncodingChoice, 'auto'>;

/** How many bytes detection looks at. */
export const DETECT_BYTES = 64 * 1024;

export class EncodingError extends Error {
  override name = 'EncodingError';
}

export interface Detected {
  encoding: Encoding;
  /** Bytes of a byte-order mark at the start (skipped before decoding). */
  bomBytes: number;
}

/**
 * - A UTF-8 BOM says UTF-8; UTF-16/32 BOMs are refused (no such exports seen, and decoding them as bytes
 *   would turn every row into garbage that then fails as `not_a_number`, hiding the real cause).
 * - A sample that is valid UTF-8 is UTF-8 (pure ASCII included): Korean code-page bytes are almost never
 *   valid UTF-8, whereas chardet can call short UTF-8 samples something else.
 * - Otherwise chardet decides whether it is Korean at all; EUC-KR vs CP949 is then exact: CP949 (Microsoft's
 *   extension, "UHC") is the only one with lead bytes 0x81–0xA0 or trail bytes below 0xA1.
 * `sample` is the file's first DETECT_BYTES bytes (a multi-byte character may be cut at its end).
 */
export function detectEncoding(sample: Buffer, complete: boolean): Detected {
  if (sample.length >= 3 && sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) {
    return { encoding: 'utf-8', bomBytes: 3 };
  }
  if (
    sample.length >= 2 &&
    ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff))
  ) {
    throw new EncodingError('the file is UTF-16 (byte-order mark); save it as UTF-8, EUC-KR or CP949');
  }
  if (isUtf8(complete ? sample : trimCutUtf8(sample))) return { encoding: 'utf-8', bomBytes: 0 };
  const guess = chardet.detect(sample);
  const korean = guess === 'EUC-KR' || koreanShare(sample) > 0.5;
  if (!korean) {
    throw new EncodingError(
      `the file is neither UTF-8 nor Korean (EUC-KR/CP949)${guess ? `; it looks like ${guess}` : ''}: choose the encoding explicitly or convert it to UTF-8`,
    );
  }
  return { encoding: hasUhcPairs(sample) ? 'cp949' : 'euc-kr', bomBytes: 0 };
}

/** Strips a BOM for an explicitly chosen UTF-8 file (iconv-lite would too, but the byte count matters for ids). */
export function bomLength(sample: Buffer, encoding: Encoding): number {
  return encoding === 'utf-8' && sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf ? 3 : 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Drops an incomplete multi-byte sequence at the very end (the sample was cut at a byte count). */
function trimCutUtf8(bytes: Buffer): Buffer {
  let i = bytes.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (bytes[i]! & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return bytes;
  const lead = bytes[i]!;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return need > continuation ? bytes.subarray(0, i) : bytes;
}

/** Share of high bytes that form a plausible Korean double-byte pair (lead 0x81–0xFE, trail 0x41–0xFE). */
function koreanShare(bytes: Buffer): number {
  let pairs = 0;
  let high = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x80) continue;
    high++;
    const t = bytes[i + 1];
    if (b >= 0x81 && b <= 0xfe && t !== undefined && t >= 0x41 && t <= 0xfe) {
      pairs++;
      high++;
      i++;
    }
  }
  return high === 0 ? 0 : (pairs * 2) / high;
}

/** True if a double-byte pair exists that only CP949 defines (outside EUC-KR's 0xA1–0xFE × 0xA1–0xFE). */
function hasUhcPairs(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length - 1; i++) {
    const b = bytes[i]!;
    if (b < 0x80) continue;
    const t = bytes[i + 1]!;
    if ((b >= 0x81 && b <= 0xa0) || t < 0xa1) return true;
    i++;
  }
  return false;
}
