import { type AlarmEvent, type ParsedRecord, QUALITY_FLAGS, type QualityFlag } from '@gridstream/schema';
import { describeChars, NameRules } from './naming.js';

/** One datapoint of OpenTSDB's `/api/put`: `timestamp` in milliseconds, `value` a number. */
export interface OpenTsdbDatapoint {
  metric: string;
  timestamp: number;
  value: number;
  tags: Record<string, string>;
}

/** What identifies a reading; each part must be in the metric name or a tag, or readings would merge. */
export const TAG_KEYS = ['site', 'device', 'rack', 'equipment', 'field'] as const;
export type TagKey = (typeof TAG_KEYS)[number];
/** What a metric template may name: `{equipment}.{field}`, `gridstream.{site}.{equipment}.{field}`, … */
export const PLACEHOLDERS = ['equipment', 'field', 'site', 'device'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A quality-flag datapoint is written under the pseudo-field `<field>__quality` (as in InfluxDB). */
export const QUALITY_SUFFIX = '__quality';

/**
 * The bit of each quality flag in a `<field>__quality` value: the flags' order in the schema, which only
 * ever grows at the end (a unit test pins the existing bits). `out_of_range` 1, `bad` 2, `uncertain` 4,
 * `stale` 8, `flatline` 16, `rate_of_change` 32, `anomaly` 64.
 */
export const QUALITY_BITS: Readonly<Record<QualityFlag, number>> = Object.fromEntries(
  QUALITY_FLAGS.map((flag, i) => [flag, 2 ** i]),
) as Record<QualityFlag, number>;

/** The alarm metric's value per level; a `cleared` event writes 0 whatever its last level. */
export const ALARM_LEVEL_VALUES = { cleared: 0, warning: 1, fault: 2 } as const;

/**
 * OpenTSDB (and VictoriaMetrics) read a timestamp below 2^32 as **seconds**: a millisecond timestamp before
 * 1970-02-19T17:02:47.296Z would land 1000× later. No reading is that old; such a record is refused.
 */
export const MIN_TIMESTAMP_MS = 2 ** 32;

export interface NamingOptions {
  /** `{equipment}.{field}` by default; placeholders from {@link PLACEHOLDERS}, the rest literal. */
  metricTemplate: string;
  /** Tag keys written on every datapoint (rack only when the record has one). */
  tags: readonly TagKey[];
  /** `replace`: characters OpenTSDB refuses become `_`; `refuse`: such a record is dead-lettered. */
  invalidChars: 'replace' | 'refuse';
  /** The server's `tsd.core.tag.allow_specialchars`: further characters it accepts in names. */
  allowedSpecialChars: string;
  /** Write `<field>__quality` datapoints (a bit mask of the value's quality flags) for flagged values. */
  qualityPoints: boolean;
  /** Metric of alarm events: value 0 cleared, 1 warning, 2 fault. */
  alarmMetric: string;
}

export const DEFAULT_NAMING: NamingOptions = {
  metricTemplate: '{equipment}.{field}',
  tags: ['site', 'device', 'rack'],
  invalidChars: 'replace',
  allowedSpecialChars: '',
  qualityPoints: true,
  alarmMetric: 'gridstream.alarm',
};

type TemplatePart = { literal: string } | { placeholder: Placeholder };

/** A template's parts, or the problems that make it unusable (each a sentence for the config error). */
export function parseMetricTemplate(
  template: string,
  rules: NameRules,
): { parts: TemplatePart[]; problems: string[] } {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  const re = /\{([^{}]*)\}/g;
  let from = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    if (m.index > from) parts.push({ literal: template.slice(from, m.index) });
    const name = m[1]!;
    if ((PLACEHOLDERS as readonly string[]).includes(name)) parts.push({ placeholder: name as Placeholder });
    else
      problems.push(`{${name}} is not a placeholder (use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
    from = m.index + m[0].length;
  }
  if (from < template.length) parts.push({ literal: template.slice(from) });
  const literal = parts.map((p) => ('literal' in p ? p.literal : '')).join('');
  const bad = rules.invalidChars(literal);
  if (bad.length > 0)
    problems.push(`its fixed text has characters OpenTSDB refuses in a metric name: ${describeChars(bad)}`);
  if (parts.length === 0) problems.push('is empty');
  return { parts, problems };
}

/**
 * Why a naming cannot tell readings apart, one sentence per identity part that is in neither the metric
 * name nor the tags: two readings that differ only there would be one series, and the second would
 * overwrite (or, deduplicated, hide) the first.
 */
export function identityProblems(parts: TemplatePart[], tags: readonly TagKey[]): string[] {
  const named = new Set<string>(parts.flatMap((p) => ('placeholder' in p ? [p.placeholder] : [])));
  const problems: string[] = [];
  for (const key of TAG_KEYS) {
    if (named.has(key) || tags.includes(key)) continue;
    problems.push(
      key === 'rack'
        ? 'rack must be a tag: a battery and each of its racks would otherwise be one series'
        : `${key} is neither in the metric template ({${key}}) nor a tag: readings of different ${key}s would be one series`,
    );
  }
  return problems;
}

/** Readings of a record that has no datapoint form; the seam dead-letters the record with this message. */
export class DatapointError extends Error {
  override readonly name = 'DatapointError';
}

/**
 * ParsedRecord → OpenTSDB datapoints, one per reading (fields as they are, status flags as 1/0) and, for a
 * flagged value, one `<field>__quality` datapoint holding the bit mask of its flags. All of one record's
 * datapoints share its tags and its source timestamp (ms), so a redelivered record writes the same
 * (metric, tags, timestamp) again.
 */
export class DatapointMapper {
  private readonly rules: NameRules;
  private readonly parts: TemplatePart[];
  private readonly metricCache = new Map<string, string>();
  private readonly tagKeys: ReadonlySet<TagKey>;
  /** The template names {site} or {device}: metric names are then per device. */
  private readonly perDevice: boolean;

  constructor(private readonly options: NamingOptions) {
    this.rules = new NameRules(options.allowedSpecialChars);
    const { parts, problems } = parseMetricTemplate(options.metricTemplate, this.rules);
    problems.push(...identityProblems(parts, options.tags));
    if (problems.length > 0)
      throw new Error(`metric template ${options.metricTemplate}: ${problems.join('; ')}`);
    this.parts = parts;
    this.tagKeys = new Set(options.tags);
    this.perDevice = parts.some(
      (p) => 'placeholder' in p && (p.placeholder === 'site' || p.placeholder === 'device'),
    );
  }

  recordPoints(record: ParsedRecord): OpenTsdbDatapoint[] {
    const timestamp = recordTimestamp(record.ts);
    const names = new Names(this.rules, this.options.invalidChars);
    const site = names.of('site', record.site);
    const device = names.of('device', record.device);
    const equipment = names.of('equipment', record.equipment);
    const rack = record.rack === undefined ? undefined : names.of('rack', record.rack);
    const tags: Record<string, string> = {};
    if (this.tagKeys.has('site')) tags.site = site;
    if (this.tagKeys.has('device')) tags.device = device;
    if (rack !== undefined && this.tagKeys.has('rack')) tags.rack = rack;
    if (this.tagKeys.has('equipment')) tags.equipment = equipment;
    const fieldTag = this.tagKeys.has('field');

    const out: OpenTsdbDatapoint[] = [];
    /** (metric, field tag) → the reading it came from: two readings on one series would overwrite. */
    const seen = new Map<string, string>();
    const add = (what: string, name: string, value: number) => {
      const field = names.of(what, name);
      const metric = this.metric(record.equipment, equipment, name, field, site, device);
      const key = fieldTag ? `${metric}\u0000${field}` : metric;
      const other = seen.get(key);
      if (other !== undefined)
        throw new DatapointError(
          `${other} and ${what} are both written as ${metric}${fieldTag ? ` field=${field}` : ''}: one would overwrite the other (rename one at the source)`,
        );
      seen.set(key, what);
      out.push({ metric, timestamp, value, tags: fieldTag ? { ...tags, field } : tags });
    };

    for (const [name, value] of Object.entries(record.fields)) {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new DatapointError(`fields.${name}: ${JSON.stringify(value)} is not a finite number`);
      add(`fields.${name}`, name, value);
    }
    for (const [name, flag] of Object.entries(record.flags)) {
      if (typeof flag !== 'boolean')
        throw new DatapointError(`flags.${name}: ${JSON.stringify(flag)} is not a boolean`);
      add(`flags.${name}`, name, flag ? 1 : 0);
    }
    if (this.options.qualityPoints && record.quality) {
      for (const [name, flags] of Object.entries(record.quality)) {
        const mask = qualityMask(name, flags);
        if (mask !== 0) add(`quality.${name}`, `${name}${QUALITY_SUFFIX}`, mask);
      }
    }
    return out;
  }

  /**
   * One alarm event → one datapoint of the alarm metric (0 cleared, 1 warning, 2 fault) at the event's
   * time, tagged with the alarm's identity (site, equipment, device, rack, rule): a step line per alarm.
   */
  alarmPoints(event: AlarmEvent): OpenTsdbDatapoint[] {
    const timestamp = recordTimestamp(event.ts);
    const names = new Names(this.rules, this.options.invalidChars);
    const tags: Record<string, string> = {
      site: names.of('site', event.site),
      equipment: names.of('equipment', event.equipment),
      device: names.of('device', event.device),
      rule: names.of('rule', event.rule),
    };
    if (event.rack !== undefined) tags.rack = names.of('rack', event.rack);
    const value = event.state === 'cleared' ? ALARM_LEVEL_VALUES.cleared : ALARM_LEVEL_VALUES[event.level];
    if (value === undefined)
      throw new DatapointError(`level: ${JSON.stringify(event.level)} is no alarm level`);
    return [{ metric: this.options.alarmMetric, timestamp, value, tags }];
  }

  private metric(
    rawEquipment: string,
    equipment: string,
    rawField: string,
    field: string,
    site: string,
    device: string,
  ): string {
    // Cached per name: the same few hundred (equipment, field) pairs repeat in every message.
    const key = this.perDevice
      ? `${rawEquipment}\u0000${rawField}\u0000${site}\u0000${device}`
      : `${rawEquipment}\u0000${rawField}`;
    const hit = this.metricCache.get(key);
    if (hit !== undefined) return hit;
    let metric = '';
    const values: Record<Placeholder, string> = { equipment, field, site, device };
    for (const p of this.parts) metric += 'literal' in p ? p.literal : values[p.placeholder];
    if (this.metricCache.size >= 20_000) this.metricCache.clear();
    this.metricCache.set(key, metric);
    return metric;
  }
}

/** Names of one record, each checked against OpenTSDB's rules (replaced or refused). */
class Names {
  constructor(
    private readonly rules: NameRules,
    private readonly mode: 'replace' | 'refuse',
  ) {}

  of(what: string, name: unknown): string {
    if (typeof name !== 'string' || name.length === 0)
      throw new DatapointError(`${what}: ${JSON.stringify(name)} is not a non-empty string`);
    if (this.mode === 'replace') return this.rules.sanitize(name);
    const bad = this.rules.invalidChars(name);
    if (bad.length > 0)
      throw new DatapointError(
        `${what}: ${JSON.stringify(name)} has characters OpenTSDB refuses in names (${describeChars(bad)}); OPENTSDB_INVALID_CHARS=replace would write it as ${JSON.stringify(this.rules.sanitize(name))}`,
      );
    return name;
  }
}

export function recordTimestamp(ts: unknown): number {
  const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(ms)) throw new DatapointError(`ts: ${JSON.stringify(ts)} is not a timestamp`);
  if (ms < MIN_TIMESTAMP_MS)
    throw new DatapointError(
      `ts: ${ts} is before 1970-02-19T17:02:47.296Z: OpenTSDB would read its millisecond timestamp as seconds`,
    );
  return ms;
}

export function qualityMask(field: string, flags: unknown): number {
  if (!Array.isArray(flags))
    throw new DatapointError(`quality.${field}: ${JSON.stringify(flags)} is not a list of flags`);
  let mask = 0;
  for (const flag of flags) {
    const bit = QUALITY_BITS[flag as QualityFlag];
    if (bit === undefined)
      throw new DatapointError(`quality.${field}: ${JSON.stringify(flag)} is no quality flag`);
    mask |= bit;
  }
  return mask;
}

/** The quality flags a `<field>__quality` value stands for (for readers and tests). */
export function qualityFlagsOf(mask: number): QualityFlag[] {
  return QUALITY_FLAGS.filter((flag) => (mask & QUALITY_BITS[flag]) !== 0);
}
