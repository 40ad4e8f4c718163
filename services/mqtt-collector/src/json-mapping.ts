import {
  type DeadLetterReason,
  EquipmentName,
  gatewayTimeToUtcIso,
  Identifier,
  type Sample,
} from '@gridstream/schema';
import { type JsonPath, valueAt } from './json-path.js';
import { renderTemplate, type Template, type TemplateContext } from './template.js';

/**
 * A JSON payload → samples, by the subscription's mapping (docs/mqtt-collector.md): where the identity,
 * the time and each reading are in the payload or the topic. A message maps whole or not at all: any
 * problem (a required path absent, a value of the wrong type, a time that cannot be read) and the whole
 * payload is dead-lettered with every problem listed, so a half-understood message never passes as data.
 */

export interface FieldMapping {
  name: string;
  path: JsonPath;
  /** value × scale + offset, in that order. */
  scale: number;
  offset: number;
  /** Absent → no reading (instead of a problem). A `null` value is always "no reading". */
  optional: boolean;
}

export interface FlagMapping {
  name: string;
  path: JsonPath;
  optional: boolean;
}

export const TIME_FORMATS = ['iso', 'epoch-s', 'epoch-ms', 'epoch-us'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export type TimeMapping =
  | { kind: 'received' }
  | { kind: 'path'; path: JsonPath; format: TimeFormat; zone: string };

export interface JsonMapping {
  /** An array of readings in the payload: each element is mapped alone (paths relative to it). */
  records?: JsonPath;
  site: Template;
  equipment: Template;
  device: Template;
  rack?: Template;
  time: TimeMapping;
  fields: FieldMapping[];
  flags: FlagMapping[];
}

export interface MappingProblem {
  reason: DeadLetterReason;
  /** Where: a payload path, or `topic`. */
  path: string;
  message: string;
}

export interface MapContext {
  topicLevels: readonly string[];
  receivedAt: Date;
}

const NUMERIC_TEXT = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** 1000-01-01 and 9999-12-31: what a 4-digit ISO year holds. */
const MIN_MS = -30_610_224_000_000;
const MAX_MS = 253_402_300_799_999;

export function mapJsonPayload(
  mapping: JsonMapping,
  payload: Buffer,
  ctx: MapContext,
): { samples: Sample[]; problems: MappingProblem[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return {
      samples: [],
      problems: [{ reason: 'not_json', path: '$', message: (error as Error).message }],
    };
  }
  const problems: MappingProblem[] = [];
  let records: { value: unknown; at: string }[];
  if (mapping.records) {
    const list = valueAt(doc, mapping.records);
    if (!Array.isArray(list)) {
      const what = list === undefined ? 'is absent' : 'is not an array';
      return {
        samples: [],
        problems: [
          {
            reason: list === undefined ? 'unreadable' : 'wrong_type',
            path: mapping.records.text,
            message: `records ${what}`,
          },
        ],
      };
    }
    records = list.map((value, i) => ({ value, at: `${mapping.records!.text}[${i}]` }));
  } else records = [{ value: doc, at: '' }];

  const samples: Sample[] = [];
  for (const record of records) {
    const sample = mapRecord(mapping, record.value, record.at, ctx, problems);
    if (sample) samples.push(sample);
  }
  if (problems.length > 0) return { samples: [], problems };
  if (samples.length === 0)
    return {
      samples: [],
      problems: [{ reason: 'no_readings', path: '$', message: 'every mapped value is null or absent' }],
    };
  return { samples, problems };
}

function mapRecord(
  mapping: JsonMapping,
  value: unknown,
  at: string,
  ctx: MapContext,
  problems: MappingProblem[],
): Sample | undefined {
  const where = (path: string) => (at === '' ? path : `${at}.${path.replace(/^\$\.?/, '')}`);
  const before = problems.length;
  const tctx: TemplateContext = { levels: ctx.topicLevels, payload: value };
  const identity = (name: string, template: Template, schema: typeof Identifier): string | undefined => {
    const rendered = renderTemplate(template, tctx);
    if (typeof rendered !== 'string') {
      problems.push({
        reason: 'unreadable',
        path: rendered.missing.startsWith('topic') ? 'topic' : where(rendered.missing),
        message: `${name} (${template.text}): ${rendered.missing} is missing`,
      });
      return undefined;
    }
    const checked = schema.safeParse(rendered);
    if (!checked.success) {
      problems.push({
        reason: 'invalid_record',
        path: name,
        message: `${name} "${rendered}": ${checked.error.issues[0]?.message ?? 'invalid'}`,
      });
      return undefined;
    }
    return rendered;
  };
  const site = identity('site', mapping.site, Identifier);
  const equipment = identity('equipment', mapping.equipment, EquipmentName);
  const device = identity('device', mapping.device, Identifier);
  const rack = mapping.rack ? identity('rack', mapping.rack, Identifier) : undefined;
  const ts = readTime(mapping.time, value, ctx.receivedAt, where, problems);

  const fields: Record<string, number> = {};
  for (const f of mapping.fields) {
    const v = valueAt(value, f.path);
    if (v === undefined) {
      if (!f.optional)
        problems.push({ reason: 'unreadable', path: where(f.path.text), message: `${f.name}: absent` });
      continue;
    }
    if (v === null) continue;
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && NUMERIC_TEXT.test(v)) n = Number(v);
    if (n === undefined) {
      problems.push({
        reason: 'wrong_type',
        path: where(f.path.text),
        message: `${f.name}: ${JSON.stringify(v).slice(0, 80)} is not a number`,
      });
      continue;
    }
    const scaled = n * f.scale + f.offset;
    if (!Number.isFinite(scaled)) {
      problems.push({ reason: 'wrong_type', path: where(f.path.text), message: `${f.name}: not finite` });
      continue;
    }
    fields[f.name] = scaled;
  }
  const flags: Record<string, boolean> = {};
  for (const f of mapping.flags) {
    const v = valueAt(value, f.path);
    if (v === undefined) {
      if (!f.optional)
        problems.push({ reason: 'unreadable', path: where(f.path.text), message: `${f.name}: absent` });
      continue;
    }
    if (v === null) continue;
    const b = toBoolean(v);
    if (b === undefined) {
      problems.push({
        reason: 'wrong_type',
        path: where(f.path.text),
        message: `${f.name}: ${JSON.stringify(v).slice(0, 80)} is not a boolean (true/false, 1/0)`,
      });
      continue;
    }
    flags[f.name] = b;
  }
  if (problems.length > before || !site || !equipment || !device || ts === undefined) return undefined;
  if (mapping.rack && !rack) return undefined;
  if (Object.keys(fields).length === 0 && Object.keys(flags).length === 0) return undefined;
  const sample: Sample = { site, equipment, device, ts, fields };
  if (rack) sample.rack = rack;
  if (Object.keys(flags).length > 0) sample.flags = flags;
  return sample;
}

function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (v === 'true' || v === 'false') return v === 'true';
  return undefined;
}

function readTime(
  time: TimeMapping,
  value: unknown,
  receivedAt: Date,
  where: (path: string) => string,
  problems: MappingProblem[],
): string | undefined {
  if (time.kind === 'received') return receivedAt.toISOString();
  const v = valueAt(value, time.path);
  const bad = (message: string) => {
    problems.push({ reason: 'bad_timestamp', path: where(time.path.text), message });
    return undefined;
  };
  if (v === undefined || v === null) {
    problems.push({ reason: 'unreadable', path: where(time.path.text), message: 'time: absent' });
    return undefined;
  }
  if (time.format === 'iso') {
    if (typeof v !== 'string') return bad(`time ${JSON.stringify(v)} is not an ISO 8601 text`);
    try {
      // `2026-01-01T10:00:00` without an offset is wall-clock time too, like the space-separated form.
      const text = v.trim().replace(/^(\d{4}-\d{2}-\d{2})T(?=[\d:.]+$)/, '$1 ');
      return gatewayTimeToUtcIso(text, time.zone);
    } catch (error) {
      return bad((error as Error).message);
    }
  }
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && NUMERIC_TEXT.test(v)) n = Number(v);
  if (n === undefined || !Number.isFinite(n)) return bad(`time ${JSON.stringify(v)} is not a number`);
  // Seconds with a fraction: 1700000000.123 × 1000 is 1700000000122.9998 in binary; round to µs first.
  const ms = Math.floor(
    time.format === 'epoch-s' ? Math.round(n * 1e6) / 1e3 : time.format === 'epoch-us' ? n / 1000 : n,
  );
  if (ms < MIN_MS || ms > MAX_MS) return bad(`time ${n} (${time.format}) is outside years 1000–9999`);
  return new Date(ms).toISOString();
}
