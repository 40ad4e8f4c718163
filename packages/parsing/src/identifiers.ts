/**
 * Cheap hand-written versions of the schema package's Identifier and FieldName rules, for the hot path.
 * They must agree with `@gridstream/schema` (identifiers.test.ts checks that): site, device and rack become
 * InfluxDB tags and Kafka keys, field names become InfluxDB fields, and a control character in either
 * would corrupt line protocol downstream instead of being rejected here with a reason.
 */

const MAX_IDENTIFIER = 128;
const MAX_FIELD_NAME = 200;

/** True if the string has no U+0000–U+001F or U+007F. */
function hasNoControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * A JSON id value as an Identifier: a non-empty string (kept verbatim, so battery "01" stays "01") or a
 * non-negative integer (as its decimal string). Anything else: undefined.
 */
export function toIdentifier(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value.length > 0 && value.length <= MAX_IDENTIFIER && hasNoControlChars(value) ? value : undefined;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/**
 * `__proto__` is refused although the schema's regex allows it: assigning it to a plain object replaces the
 * prototype instead of adding a field, and zod's record parsing drops it, so every consumer would lose that
 * reading without a word.
 */
export function isFieldName(key: string): boolean {
  // Gateways send the same few hundred names in every message; remembering the good ones took this check
  // from a third of the decoding time to almost nothing (JSON.parse interns keys, so `has` is cheap).
  if (knownFieldNames.has(key)) return true;
  if (key.length === 0 || key.length > MAX_FIELD_NAME || key === '__proto__' || !hasNoControlChars(key)) {
    return false;
  }
  // Bounded so that a source inventing new names in every message cannot grow it without limit.
  if (knownFieldNames.size >= MAX_KNOWN_FIELD_NAMES) knownFieldNames.clear();
  knownFieldNames.add(key);
  return true;
}

const MAX_KNOWN_FIELD_NAMES = 10_000;
const knownFieldNames = new Set<string>();
