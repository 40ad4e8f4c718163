import { type DeadLetterReason, type Problem, SampleSchema, SamplesMessageSchema } from '@gridstream/schema';
import { z } from 'zod';
import type { DecodeResult, RecordDraft } from './decode-microgrid.js';
import { childPath } from './json-path.js';
import { NONFINITE_PREFIX } from './tolerant-json.js';

/**
 * `samples.v1` -> record drafts, validated with the schema package's zod schemas: this format is the
 * canonical record minus lineage, so the schema IS the format. Each sample is validated on its own: one bad
 * reading from a collector batch must not discard the good samples polled in the same cycle.
 */

/** The envelope only; samples are checked one by one below so that a bad one rejects only itself. */
const EnvelopeSchema = SamplesMessageSchema.extend({ samples: z.array(z.unknown()).min(1) });

export function decodeSamples(value: unknown): DecodeResult {
  const envelope = EnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    return { records: [], problems: [toProblem(envelope.error.issues, value, '')] };
  }
  const records: RecordDraft[] = [];
  const problems: Problem[] = [];
  const samples = envelope.data.samples;
  let nonFinite = 0;
  for (let i = 0; i < samples.length; i++) {
    const { sample: raw, nonFinite: n } = withoutNonFinite(samples[i]);
    nonFinite += n;
    const reserved = reservedKeyIn(raw);
    if (reserved !== undefined) {
      problems.push({
        reason: 'invalid_record',
        path: childPath(childPath(childPath('samples', i), reserved), '__proto__'),
        message: 'a reading cannot be called __proto__ (zod and plain objects would drop it silently)',
      });
      continue;
    }
    const parsed = SampleSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(toProblem(parsed.error.issues, raw, childPath('samples', i)));
      continue;
    }
    const s = parsed.data;
    const flags = s.flags ?? {};
    // Same rule as microgrid: a sample with nothing in it is not a reading, and not an error either (a
    // sample whose only readings were NaN still says "these sensors failed": it is kept, flagged).
    if (isEmpty(s.fields) && isEmpty(flags) && isEmpty(s.quality ?? {})) continue;
    const draft: RecordDraft = {
      v: 1,
      site: s.site,
      equipment: s.equipment,
      device: s.device,
      ts: normalizeTs(s.ts),
      fields: s.fields,
      flags,
    };
    if (s.rack !== undefined) draft.rack = s.rack;
    if (s.quality !== undefined) draft.quality = s.quality;
    records.push(draft);
  }
  if (records.length === 0 && problems.length === 0) {
    problems.push({ reason: 'no_readings', path: 'samples', message: 'no sample holds a field or a flag' });
  }
  return nonFinite > 0 ? { records, problems, nonFinite } : { records, problems };
}

/**
 * A field whose value was a bare NaN/Infinity (see tolerant-json) is left out and flagged `bad`, as for
 * microgrid messages: one failed sensor does not sink the sample.
 */
function withoutNonFinite(sample: unknown): { sample: unknown; nonFinite: number } {
  if (typeof sample !== 'object' || sample === null) return { sample, nonFinite: 0 };
  const fields = (sample as { fields?: unknown }).fields;
  if (typeof fields !== 'object' || fields === null) return { sample, nonFinite: 0 };
  let nonFinite = 0;
  const kept: Record<string, unknown> = {};
  const bad: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value.startsWith(NONFINITE_PREFIX)) {
      nonFinite++;
      bad.push(key);
    } else kept[key] = value;
  }
  if (nonFinite === 0) return { sample, nonFinite };
  const quality = { ...((sample as { quality?: Record<string, unknown> }).quality ?? {}) };
  for (const key of bad) quality[key] = ['bad'];
  return { sample: { ...sample, fields: kept, quality }, nonFinite };
}

/**
 * One problem per rejected part, carrying every issue zod found in it. The reason is `wrong_type` when the
 * first issue is a value of the wrong JSON type (`"31.5"` where a number belongs); a missing key or a
 * value of the right type but out of rule (a bad name, a non-finite number) is `invalid_record`.
 */
function toProblem(issues: readonly z.core.$ZodIssue[], input: unknown, basePath: string): Problem {
  const first = issues[0];
  let reason: DeadLetterReason = 'invalid_record';
  let path = basePath;
  if (first !== undefined) {
    path = issuePath(basePath, first.path);
    // At the root the message as a whole is not a samples message: that is invalid, not a mistyped value.
    if (first.code === 'invalid_type' && first.path.length > 0) {
      const actual = valueAt(input, first.path);
      if (actual !== undefined && typeof actual !== 'number') reason = 'wrong_type';
    }
  }
  const message = issues
    .slice(0, 10)
    .map((issue) => `${issuePath(basePath, issue.path) || '(message)'}: ${issue.message}`)
    .join('; ');
  const more = issues.length > 10 ? `; and ${issues.length - 10} more` : '';
  return { reason, path, message: message + more };
}

function issuePath(basePath: string, path: readonly PropertyKey[]): string {
  let out = basePath;
  for (const key of path) out = childPath(out, typeof key === 'number' ? key : String(key));
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * `2023-06-09T11:34:06Z` and `2023-06-09T11:34:06.000Z` are the same instant; storing one spelling keeps
 * the record key (site, device, ts) identical however a collector formats it. Sub-millisecond digits are
 * truncated, as for microgrid timestamps.
 */
function normalizeTs(ts: string): string {
  return new Date(ts).toISOString();
}

/** zod's record parsing silently drops a `__proto__` key, so it is refused before zod sees it. */
function reservedKeyIn(sample: unknown): 'fields' | 'flags' | 'quality' | undefined {
  if (typeof sample !== 'object' || sample === null) return undefined;
  for (const part of ['fields', 'flags', 'quality'] as const) {
    const map = (sample as Record<string, unknown>)[part];
    if (typeof map === 'object' && map !== null && Object.hasOwn(map, '__proto__')) return part;
  }
  return undefined;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
