/**
 * JSON decoding that survives the one defect real gateways ship: raw control characters inside string
 * literals (the reference gateway puts a 0x08 before `$Broker_IP`). Strict `JSON.parse` rejects the whole
 * message for a byte in a metadata string, which would dead-letter every message of that gateway.
 */

import { isAscii } from 'node:buffer';

/** The payload is not JSON even after escaping control characters in strings; maps to reason `not_json`. */
export class JsonDecodeError extends Error {
  readonly reason = 'not_json' as const;
  override name = 'JsonDecodeError';
}

export interface TolerantJson {
  value: unknown;
  /** How many raw control characters inside string literals had to be escaped (0 on the fast path). */
  controlCharsEscaped: number;
  /** How many bare NaN / Infinity / -Infinity tokens were found (each became a NONFINITE_PREFIX string). */
  nonFinite?: number;
}

/**
 * Python's json.dumps writes a failed sensor's float as a bare `NaN` or `Infinity`, which is not JSON:
 * strict parsing would dead-letter the whole message for one dead sensor. Such a token becomes a string
 * starting with this prefix (a NUL cannot come from a real JSON string without an escape), which the
 * decoders recognise: that reading is left out and flagged bad, and the rest of the message parses.
 */
export const NONFINITE_PREFIX = '\u0000gs-nonfinite:';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses UTF-8 JSON. Fast path: plain `JSON.parse`. Only when that fails are raw U+0000–U+001F characters
 * inside string literals replaced by `\u00XX` escapes and the text parsed again. Control characters outside
 * strings are left alone: tab, CR and LF are legal whitespace there, anything else is a real syntax error.
 * Invalid UTF-8 sequences decode to U+FFFD rather than failing, since they can only occur inside strings
 * (metadata) of an otherwise valid document. A leading UTF-8 byte order mark is dropped.
 *
 * The repair is tried in order of cost: the offset that needed it in the previous message, then the
 * offsets JSON.parse's own errors name, then a full scan of the text. All three give the same result; the
 * first two only exist because the reference gateway sends a stray byte in every single message.
 */
export function parseJsonTolerant(bytes: Buffer | string): TolerantJson {
  const text = decodeText(bytes);
  // Predicted repair: a gateway fills the same template every time, so its stray byte sits at the same
  // offset in every message. Escaping it up front saves the failing parse that would find it. Only a
  // non-whitespace control character is tried, which is never valid outside a string: if the guess is
  // wrong the parse fails, and the normal path below starts over from the original text.
  const hint = repairHint;
  if (hint >= 0 && isStrayControlChar(text, hint)) {
    const parsed = parseQuietly(escapeAt(text, hint));
    if (parsed !== FAILED) return { value: parsed, controlCharsEscaped: 1 };
  }
  return parseWithRepairs(text);
}

/** Offset of the last message's first repaired character; -1 until a message needed a repair. */
let repairHint = -1;

function isStrayControlChar(text: string, at: number): boolean {
  const c = text.charCodeAt(at); // NaN past the end: false below
  return c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && text.charCodeAt(at - 1) !== BACKSLASH;
}

function escapeAt(text: string, at: number): string {
  return text.slice(0, at) + escapeOf(text.charCodeAt(at)) + text.slice(at + 1);
}

function parseWithRepairs(original: string): TolerantJson {
  let text = original;
  let escaped = 0;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    const parsed = parseQuietly(text);
    if (parsed !== FAILED) return { value: parsed, controlCharsEscaped: escaped };
    lastError = quietError;
    // Guided repair: V8 names the position of the bad character, so escaping just that one and parsing
    // again spares a scan of the whole text in JS (the reference gateway sends one such byte per message;
    // the scan cost a third of the parser's time). Capped, because each round is a partial parse.
    const at = attempt < MAX_GUIDED_REPAIRS ? controlCharPosition(lastError, text) : -1;
    if (at < 0) break;
    if (attempt === 0) repairHint = at; // still an offset into the original text
    text = escapeAt(text, at);
    escaped++;
  }
  const repaired = escapeControlCharsInStrings(text);
  escaped += repaired.count;
  const nonFinite =
    repaired.text.includes('NaN') || repaired.text.includes('Infinity')
      ? replaceNonFiniteTokens(repaired.text)
      : { text: repaired.text, count: 0 };
  if (repaired.count > 0 || nonFinite.count > 0) {
    try {
      const value = JSON.parse(nonFinite.text);
      return nonFinite.count > 0
        ? { value, controlCharsEscaped: escaped, nonFinite: nonFinite.count }
        : { value, controlCharsEscaped: escaped };
    } catch (err) {
      lastError = err;
    }
  }
  throw new JsonDecodeError(
    escaped === 0
      ? `not valid JSON: ${messageOf(lastError)}`
      : `not valid JSON even after escaping ${escaped} control character(s) in strings: ${messageOf(lastError)}`,
  );
}

const MAX_GUIDED_REPAIRS = 8;

/**
 * JSON.parse whose SyntaxError skips the stack trace: capturing it doubled the cost of a failed parse, on
 * every message of a gateway that always sends a stray byte, and nobody reads that stack. The error is left
 * in `quietError` so the return value needs no wrapper object. Safe because it is synchronous: no other
 * code can run while the limit is lowered.
 */
const FAILED: unique symbol = Symbol('FAILED');
let quietError: unknown;
const stackLimitWritable = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;

function parseQuietly(text: string): unknown {
  const limit = Error.stackTraceLimit;
  if (stackLimitWritable) Error.stackTraceLimit = 0;
  try {
    return JSON.parse(text);
  } catch (err) {
    quietError = err;
    return FAILED;
  } finally {
    if (stackLimitWritable) Error.stackTraceLimit = limit;
  }
}

const V8_CONTROL_CHAR = /^Bad control character in string literal in JSON at position (\d+)/;

/**
 * Where JSON.parse met a raw control character inside a string, or -1. The message format is V8's, not a
 * contract, so the answer is checked against the text; on any doubt (another engine, a control character
 * right after a backslash) the caller falls back to the full scan, which is always correct.
 */
export function controlCharPosition(err: unknown, text: string): number {
  if (!(err instanceof SyntaxError)) return -1;
  const m = V8_CONTROL_CHAR.exec(err.message);
  if (m === null) return -1;
  const at = Number(m[1]);
  return at > 0 && at < text.length && text.charCodeAt(at) < 0x20 && text.charCodeAt(at - 1) !== BACKSLASH
    ? at
    : -1;
}

function escapeOf(c: number): string {
  return (c < 0x10 ? '\\u000' : '\\u001') + (c & 0xf).toString(16);
}

function decodeText(bytes: Buffer | string): string {
  if (typeof bytes === 'string') return bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes;
  // Pure ASCII (the usual gateway payload) decodes identically as latin1, which is a plain copy; the
  // SIMD isAscii check costs a fraction of the UTF-8 decoder's validation.
  if (isAscii(bytes)) return bytes.toString('latin1');
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

/**
 * Walks the text tracking whether it is inside a string literal and whether the previous character was
 * a backslash. A control character right after a backslash is left as it is: turning it into `\u00XX`
 * would yield `\\u00XX`, a valid escaped backslash that silently changes the string.
 */
export function escapeControlCharsInStrings(text: string): { text: string; count: number } {
  let out = '';
  let copiedUpTo = 0;
  let count = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Outside strings only a quote matters; indexOf skips indentation and numbers natively.
    const open = text.indexOf('"', i);
    if (open < 0) break;
    i = open + 1;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        i += 2;
        continue;
      }
      if (c < 0x20) {
        out += text.slice(copiedUpTo, i) + escapeOf(c);
        copiedUpTo = i + 1;
        count++;
      }
      i++;
    }
    i++; // past the closing quote
  }
  if (count === 0) return { text, count };
  return { text: out + text.slice(copiedUpTo), count };
}

const NONFINITE_TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;
const isWordChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;

/**
 * Replaces bare `NaN`, `Infinity` and `-Infinity` outside string literals by the JSON string
 * `"\u0000gs-nonfinite:<token>"`. Inside strings they are text and stay as they are.
 */
export function replaceNonFiniteTokens(text: string): { text: string; count: number } {
  let out = '';
  let copiedUpTo = 0;
  let count = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i += 2;
        else if (d === QUOTE) break;
        else i++;
      }
      i++;
      continue;
    }
    const token = NONFINITE_TOKENS.find((t) => text.startsWith(t, i));
    if (
      token !== undefined &&
      !isWordChar(text.charCodeAt(i - 1)) &&
      !isWordChar(text.charCodeAt(i + token.length))
    ) {
      out += `${text.slice(copiedUpTo, i)}"\\u0000gs-nonfinite:${token}"`;
      i += token.length;
      copiedUpTo = i;
      count++;
      continue;
    }
    i++;
  }
  if (count === 0) return { text, count };
  return { text: out + text.slice(copiedUpTo), count };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
