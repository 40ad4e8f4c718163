/**
 * The Kafka key of a raw message: its site id, so one site's messages stay in one partition, in order.
 *
 * Read with a byte scan instead of JSON.parse: the bridge forwards bytes and must keep up with RabbitMQ,
 * and parsing a 10-100 KB document only to read one header field would cost more than everything else it
 * does. The parser still reads the real header; a wrong key here only places a message in another
 * partition, it never changes its content.
 */

const NEEDLE = Buffer.from('"site_id"', 'latin1');
const MAX_KEY_LENGTH = 128;

// Byte values used by the scanner.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const isNumberByte = (b: number) =>
  (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x65 || b === 0x45;

/** Reads the value of the first `"site_id"` within the first `scanBytes` bytes; undefined if there is none usable. */
export function siteIdFromBody(body: Buffer, scanBytes = 4096): string | undefined {
  const window = body.length > scanBytes ? body.subarray(0, scanBytes) : body;
  const at = window.indexOf(NEEDLE);
  if (at < 0) return undefined;
  let i = at + NEEDLE.length;
  while (i < window.length && isSpace(window[i]!)) i++;
  if (window[i] !== COLON) return undefined;
  i++;
  while (i < window.length && isSpace(window[i]!)) i++;
  const first = window[i];
  if (first === undefined) return undefined;
  let value: string | undefined;
  if (first === QUOTE) {
    const start = i + 1;
    let end = start;
    let escaped = false;
    while (end < window.length && window[end] !== QUOTE) {
      if (window[end] === BACKSLASH) {
        escaped = true;
        end++; // skip the escaped byte, which may be a quote
      }
      end++;
    }
    if (end >= window.length) return undefined; // cut off by the window or the message
    const raw = window.subarray(start, end).toString('utf8');
    if (escaped) {
      try {
        value = JSON.parse(`"${raw}"`) as string;
      } catch {
        return undefined;
      }
    } else {
      value = raw;
    }
  } else if (isNumberByte(first)) {
    let end = i;
    while (end < window.length && isNumberByte(window[end]!)) end++;
    if (end >= window.length && window.length < body.length) return undefined; // number cut off by the window
    value = window.subarray(i, end).toString('latin1');
  } else {
    return undefined;
  }
  return usable(value) ? value : undefined;
}

/** Ids end up as Kafka keys and InfluxDB tags: non-empty, bounded, no control characters. */
function usable(value: string): boolean {
  if (value.length === 0 || value.length > MAX_KEY_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * The key for a delivery: the body's site id, else the routing key without the conventional `site.`
 * prefix (so `site.000001` keys the same partition as a body saying `"site_id": "000001"`), else none
 * (Kafka then spreads the messages over partitions).
 */
export function siteKey(body: Buffer, routingKey: string, scanBytes = 4096): string | null {
  const fromBody = siteIdFromBody(body, scanBytes);
  if (fromBody !== undefined) return fromBody;
  const fromRoute = routingKey.startsWith('site.') ? routingKey.slice('site.'.length) : routingKey;
  return usable(fromRoute) ? fromRoute : null;
}
