import { type ParsedRecord, QUALITY_FLAGS, SCHEMA_IDS } from '@gridstream/schema';

/**
 * A fast yes for records that are certainly valid, so the archiver's hot path does not pay for zod on
 * every message (zod cost ~8 µs per record here, a third of the archiver's time per record). It only
 * ever says yes to what ParsedRecordSchema accepts too — it may be stricter (a timestamp that is not in
 * the canonical `toISOString()` form, say), never looser; anything it does not accept goes through zod,
 * which decides and explains. `fast-record.test.ts` holds it to that against the schema.
 */

const QUALITY = new Set<string>(QUALITY_FLAGS);
const SCHEMAS = new Set<string>(SCHEMA_IDS);
const OFFSET = /^\d+$/;
/** EquipmentName's rule (schema/identifiers.ts); the test checks both agree. */
const EQUIPMENT = /^[a-z][a-z0-9_]{0,62}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: identifiers must not contain control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

const isIdentifier = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 128 && !CONTROL.test(v);
const isFieldName = (k: string) => k.length >= 1 && k.length <= 200 && !CONTROL.test(k);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `2024-03-01T00:00:00.123Z` or `…:00Z`, and a real instant (no 30 February). */
function isCanonicalUtc(ts: unknown): boolean {
  if (typeof ts !== 'string' || (ts.length !== 24 && ts.length !== 20)) return false;
  const ms = Date.parse(ts);
  if (!Number.isFinite(ms)) return false;
  const iso = new Date(ms).toISOString();
  return ts.length === 24
    ? iso === ts
    : iso.endsWith('.000Z') && iso.slice(0, 19) === ts.slice(0, 19) && ts[19] === 'Z';
}

export function isCertainlyValidRecord(json: unknown): json is ParsedRecord {
  if (!isPlainObject(json)) return false;
  const r = json;
  if (r.v !== 1) return false;
  if (!isIdentifier(r.site) || !isIdentifier(r.device)) return false;
  if (r.rack !== undefined && !isIdentifier(r.rack)) return false;
  if (typeof r.equipment !== 'string' || !EQUIPMENT.test(r.equipment)) return false;
  if (!isCanonicalUtc(r.ts)) return false;
  if (typeof r.schema !== 'string' || !SCHEMAS.has(r.schema)) return false;
  const lineage = r.lineage;
  if (
    !isPlainObject(lineage) ||
    typeof lineage.topic !== 'string' ||
    lineage.topic.length === 0 ||
    !Number.isInteger(lineage.partition) ||
    (lineage.partition as number) < 0 ||
    typeof lineage.offset !== 'string' ||
    !OFFSET.test(lineage.offset)
  ) {
    return false;
  }
  if (!isPlainObject(r.fields) || !isPlainObject(r.flags)) return false;
  for (const k in r.fields) {
    const v = r.fields[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !isFieldName(k)) return false;
  }
  for (const k in r.flags) if (typeof r.flags[k] !== 'boolean' || !isFieldName(k)) return false;
  if (r.quality !== undefined) {
    if (!isPlainObject(r.quality)) return false;
    for (const k in r.quality) {
      const flags = r.quality[k];
      if (!isFieldName(k) || !Array.isArray(flags)) return false;
      for (const f of flags) if (typeof f !== 'string' || !QUALITY.has(f)) return false;
    }
  }
  return true;
}
