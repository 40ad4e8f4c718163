import type { ParsedRecord } from '@gridstream/schema';

/**
 * ParsedRecord → InfluxDB line protocol (precision ms).
 *
 *   <equipment>,device=<id>[,rack=<id>],site=<id> <field>=<float>,...,<flag>=true,...,<field>__quality="a,b" <ms>
 *
 * - Readings are written as plain decimals, which line protocol types as float (`1i` would be an integer).
 *   Writing `100` as an integer once would make the field integer for the whole shard, and every later
 *   `100.5` would then be refused with `field type conflict`.
 * - Tags are written in key order (device < rack < site): the server sorts unsorted tags itself, but
 *   sorted input takes its fast path.
 * - Escaping follows what the 1.x/2.x parser actually accepts (models/points.go), not just the spec
 *   table; see {@link LineProtocolError} for the few names that cannot be written at all.
 *
 * Runs for every record at 100k+ records/s: one char-code scan per name (no regex), and escaped names are
 * cached because the same few hundred field names and device ids repeat in every message.
 */

export const QUALITY_FIELD_SUFFIX = '__quality';

/**
 * A record that has no correct line-protocol form. Thrown, not logged, so the caller dead-letters that one
 * record (reason `invalid_record`) instead of sending a line that the server would misparse — a trailing
 * backslash in a tag would swallow the following separator and silently merge two tags.
 */
export class LineProtocolError extends Error {
  override readonly name = 'LineProtocolError';
  /** Which part of the record is at fault, e.g. `fields.time` or `tags.device`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

const BACKSLASH = 92;
const COMMA = 44;
const SPACE = 32;
const EQUALS = 61;

// Characters that must be backslash-escaped in each part (ASCII only; everything else is literal UTF-8).
const MEASUREMENT_SPECIAL = charTable(',', ' ');
const TAG_SPECIAL = charTable(',', '=', ' ');
// Field keys also escape `"`: the server unescapes `\"` in field keys (but not in tags), so a key holding
// a literal backslash-quote must be written `\\"` to survive the round trip.
const FIELD_KEY_SPECIAL = charTable(',', '=', ' ', '"');
const STRING_VALUE_SPECIAL = charTable('"', '\\');

function charTable(...chars: string[]): Uint8Array {
  const table = new Uint8Array(128);
  for (const c of chars) table[c.charCodeAt(0)] = 1;
  return table;
}

function escapeWith(s: string, special: Uint8Array): string {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 128 && special[c] === 1) break;
    i++;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  let from = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && special[c] === 1) {
      out += s.slice(from, i) + '\\';
      from = i;
    }
  }
  return out + s.slice(from);
}

/**
 * The parser decides "escaped" by looking only at the previous byte for tags and the measurement, so a name
 * ending in a backslash swallows the separator after it. Field keys are scanned in backslash pairs, so an
 * odd run of backslashes before a separator does the same. Neither can be expressed; refuse them.
 */
function checkBackslashes(path: string, s: string, pairScanned: boolean): void {
  if (s.indexOf('\\') === -1) return;
  if (s.charCodeAt(s.length - 1) === BACKSLASH) {
    throw new LineProtocolError(path, 'a name ending in a backslash cannot be written in line protocol');
  }
  if (!pairScanned) return;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      run++;
      continue;
    }
    if (run % 2 === 1 && (c === COMMA || c === EQUALS || c === SPACE)) {
      throw new LineProtocolError(path, 'an odd run of backslashes before , = or space cannot be written');
    }
    run = 0;
  }
}

/** Small memo with a hard size cap: ids churn over months, and an unbounded map would be a slow leak. */
class EscapeCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly max: number) {}
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
  }
}

const CACHE_SIZE = 20_000;
const measurementCache = new EscapeCache(1_000);
const tagCache = new EscapeCache(CACHE_SIZE);
/** Field key → `key=` (escaped), the form it is appended in. */
const fieldPrefixCache = new EscapeCache(CACHE_SIZE);
/** Field key → `key__quality=` (escaped). */
const qualityPrefixCache = new EscapeCache(CACHE_SIZE);

export function escapeMeasurement(name: string): string {
  const hit = measurementCache.get(name);
  if (hit !== undefined) return hit;
  if (name.length === 0) throw new LineProtocolError('equipment', 'the measurement name is empty');
  // The measurement scanner skips whatever follows any backslash, so no backslash is safe there.
  if (name.indexOf('\\') !== -1) {
    throw new LineProtocolError('equipment', 'a measurement name cannot contain a backslash');
  }
  const escaped = escapeWith(name, MEASUREMENT_SPECIAL);
  measurementCache.set(name, escaped);
  return escaped;
}

/** Escapes a tag key or value; `path` names it in the error. */
export function escapeTag(value: string, path = 'tag'): string {
  const hit = tagCache.get(value);
  if (hit !== undefined) return hit;
  if (value.length === 0) throw new LineProtocolError(path, 'a tag value cannot be empty');
  checkBackslashes(path, value, false);
  const escaped = escapeWith(value, TAG_SPECIAL);
  tagCache.set(value, escaped);
  return escaped;
}

export function escapeFieldKey(key: string, path = 'field'): string {
  if (key.length === 0) throw new LineProtocolError(path, 'a field key cannot be empty');
  // InfluxDB 1.x drops a whole point that has a field named `time` (partial write); refusing the record
  // here dead-letters exactly it, instead of a batch-level error that names no line.
  if (key === 'time') throw new LineProtocolError(path, 'InfluxDB refuses a field named "time"');
  checkBackslashes(path, key, true);
  return escapeWith(key, FIELD_KEY_SPECIAL);
}

/** A string field value including its surrounding quotes. */
export function quoteStringValue(value: string): string {
  return `"${escapeWith(value, STRING_VALUE_SPECIAL)}"`;
}

function fieldPrefix(key: string, path: string): string {
  const hit = fieldPrefixCache.get(key);
  if (hit !== undefined) return hit;
  const prefix = `${escapeFieldKey(key, path)}=`;
  fieldPrefixCache.set(key, prefix);
  return prefix;
}

function qualityPrefix(key: string): string {
  const hit = qualityPrefixCache.get(key);
  if (hit !== undefined) return hit;
  const prefix = `${escapeFieldKey(key + QUALITY_FIELD_SUFFIX, `quality.${key}`)}=`;
  qualityPrefixCache.set(key, prefix);
  return prefix;
}

/**
 * A reading as a line-protocol float. `String(n)` is the shortest text that round-trips the double
 * (`0.1`, `733.4`, `1927341568`, `1e+21`, `5e-324`), and every form it produces is accepted by the server's
 * number scanner and typed float because it has no `i`/`u` suffix. `-0` prints as `0`.
 */
export function formatFloat(value: number, path = 'field'): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LineProtocolError(path, `not a finite number: ${String(value)}`);
  }
  return String(value);
}

/** Milliseconds since the epoch for `precision=ms`; sub-millisecond digits are truncated. */
export function timestampMs(ts: string): number {
  const ms = Date.parse(ts);
  if (!Number.isFinite(ms)) throw new LineProtocolError('ts', `not a timestamp: ${ts}`);
  return ms;
}

/**
 * One record as one line (no trailing newline), or null when the record has neither readings nor flags:
 * a point without fields is invalid line protocol and would fail the whole request.
 * Throws {@link LineProtocolError} for a record that cannot be written correctly.
 */
export function recordToLine(record: ParsedRecord): string | null {
  let fields = '';
  for (const key in record.fields) {
    const path = `fields.${key}`;
    fields +=
      (fields === '' ? '' : ',') + fieldPrefix(key, path) + formatFloat(record.fields[key] as number, path);
  }
  for (const key in record.flags) {
    const value = record.flags[key];
    const path = `flags.${key}`;
    if (typeof value !== 'boolean') throw new LineProtocolError(path, 'a flag must be true or false');
    // One key twice in a line is a duplicate field whose surviving type is up to the server.
    if (Object.hasOwn(record.fields, key)) {
      throw new LineProtocolError(path, 'the same name is both a reading and a flag');
    }
    fields += (fields === '' ? '' : ',') + fieldPrefix(key, path) + (value ? 'true' : 'false');
  }
  if (fields === '') return null;

  const quality = record.quality;
  if (quality !== undefined) {
    for (const key in quality) {
      const flags = quality[key];
      if (flags === undefined || flags.length === 0) continue;
      fields += `,${qualityPrefix(key)}${quoteStringValue(flags.join(','))}`;
    }
  }

  let series = `${escapeMeasurement(record.equipment)},device=${escapeTag(record.device, 'device')}`;
  if (record.rack !== undefined) series += `,rack=${escapeTag(record.rack, 'rack')}`;
  series += `,site=${escapeTag(record.site, 'site')}`;

  return `${series} ${fields} ${timestampMs(record.ts)}`;
}
