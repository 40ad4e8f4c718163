import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadProfile } from '@gridstream/modbus';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type Expression, parseExpression } from './expression.js';
import { compileGlob, type NameMatcher } from './glob.js';

/**
 * The quality configuration file (QUALITY_CONFIG): which checks apply to which series, which devices must
 * keep reporting, and the alarm rules. Validated with zod; every problem is reported with its path in the
 * file (`rules[2].range.min: …`), all at once, so a bad file is fixed in one edit, not one error per start.
 */

const Name = z.string().min(1, 'must not be empty');
const Glob = z.string().min(1, 'must not be empty (use "*" for any)');
const Positive = z.number().positive('must be > 0');
const Count = z.int('must be a whole number').min(1, 'must be ≥ 1');

const RangeSchema = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max');

const FieldRuleSchema = z.strictObject({
  /** Measurement (= equipment) name or glob. */
  equipment: Glob,
  device: Glob.optional(),
  /** Omitted: records with and without a rack. Given: only records whose rack matches. */
  rack: Glob.optional(),
  /** Field name or glob (`*_cell_voltage`). */
  field: Glob,
  range: RangeSchema.optional(),
  /** Largest plausible |Δvalue| / Δt, per second of source time. */
  maxRatePerSecond: Positive.optional(),
  /** Stale from the N-th consecutive record whose source timestamp does not advance. */
  stale: z.strictObject({ samples: Count }).optional(),
  /** Flatline from the N-th consecutive sample within `tolerance` of the run's first value. */
  flatline: z
    .strictObject({ samples: z.int().min(2, 'must be ≥ 2'), tolerance: z.number().min(0).default(0) })
    .optional(),
  /** IQR fences from history (computed by the fences job); k defaults to `fences.k`. */
  anomaly: z.union([z.boolean(), z.strictObject({ k: Positive.optional() })]).optional(),
});
export type FieldRuleInput = z.infer<typeof FieldRuleSchema>;

const ExpectedDeviceSchema = z.strictObject({
  site: Name,
  equipment: Name,
  device: Name,
  rack: Name.optional(),
  /** Raise `device_missing` once no record of the device has arrived for this long (parser clock). */
  silentAfterSeconds: Positive.optional(),
  level: z.enum(['warning', 'fault']).optional(),
});

const RULE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const AlarmRuleSchema = z
  .strictObject({
    name: z.string().regex(RULE_NAME, 'must be lower snake case (a-z, 0-9, _), at most 63 characters'),
    equipment: Glob,
    device: Glob.optional(),
    rack: Glob.optional(),
    /** A field name, or a derived value: `a - b`, `abs(a)`, `abs(a - b)`. */
    value: Name,
    direction: z.enum(['above', 'below']),
    warning: z.number().optional(),
    fault: z.number().optional(),
    /** Deadband: a level is left only once the value is this far back on the good side of its threshold. */
    hysteresis: z.number().min(0, 'must be ≥ 0').default(0),
    /** The condition must hold this long (source time) before an alarm is raised or escalated. */
    minDurationSeconds: z.number().min(0, 'must be ≥ 0').default(0),
  })
  .superRefine((r, ctx) => {
    if (r.warning === undefined && r.fault === undefined)
      ctx.addIssue({ code: 'custom', path: ['warning'], message: 'give warning, fault or both' });
    if (r.warning !== undefined && r.fault !== undefined) {
      const ordered = r.direction === 'above' ? r.fault >= r.warning : r.fault <= r.warning;
      if (!ordered)
        ctx.addIssue({
          code: 'custom',
          path: ['fault'],
          message: `for direction ${r.direction} the fault threshold must be ${r.direction === 'above' ? '≥' : '≤'} the warning threshold, or the fault level can never be reached from warning`,
        });
    }
    if (r.name === 'device_missing')
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'device_missing is the missing-device alarm' });
    const parsed = parseExpression(r.value);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: ['value'], message: parsed });
  });
export type AlarmRuleInput = z.infer<typeof AlarmRuleSchema>;

export const QualityConfigSchema = z
  .strictObject({
    /** Device profiles whose point ranges become range rules (paths relative to this file). */
    profiles: z.array(Name).default([]),
    rules: z.array(FieldRuleSchema).default([]),
    expectedDevices: z.array(ExpectedDeviceSchema).default([]),
    /** Default for expectedDevices[].silentAfterSeconds. */
    silentAfterSeconds: Positive.default(60),
    alarms: z.array(AlarmRuleSchema).default([]),
    fences: z
      .strictObject({
        k: Positive.default(1.5),
        /** Fewer values in the window than this: no fences for the series (too little history to judge). */
        minSamples: Count.default(20),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.alarms.forEach((a, i) => {
      const first = seen.get(a.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['alarms', i, 'name'],
          message: `"${a.name}" is already the name of alarms[${first}]; alarm keys would collide`,
        });
      else seen.set(a.name, i);
    });
  });
export type QualityConfigInput = z.input<typeof QualityConfigSchema>;
export type QualityConfigFile = z.output<typeof QualityConfigSchema>;

export class QualityConfigError extends Error {
  override readonly name = 'QualityConfigError';
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(
      `invalid quality configuration ${source} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${issues.join('\n  ')}`,
    );
    this.issues = issues;
  }
}

/** One check set for fields matching (equipment, device, rack, field); later rules override earlier ones. */
export interface FieldRule {
  equipment: NameMatcher;
  device?: NameMatcher;
  rack?: NameMatcher;
  /** Only records without a rack (a device profile's own points). */
  rackless?: boolean;
  field: NameMatcher;
  range?: { min?: number; max?: number };
  maxRatePerSecond?: number;
  stale?: { samples: number };
  flatline?: { samples: number; tolerance: number };
  /** k of the IQR fences. */
  anomaly?: { k: number };
  /** Where the rule came from, for messages: `rules[3]` or `profile ess-sionyu points[12]`. */
  origin: string;
  /** Patterns as written (the fences job needs them to find series). */
  patterns: { equipment: string; device?: string; rack?: string; field: string };
}

export interface AlarmRule {
  name: string;
  equipment: NameMatcher;
  device?: NameMatcher;
  rack?: NameMatcher;
  expression: Expression;
  direction: 'above' | 'below';
  warning?: number;
  fault?: number;
  hysteresis: number;
  minDurationMs: number;
}

export interface ExpectedDevice {
  site: string;
  equipment: string;
  device: string;
  rack?: string;
  silentAfterMs: number;
  level: 'warning' | 'fault';
}

/** The configuration in the form the stage uses: globs compiled, profiles turned into range rules. */
export interface QualityConfig {
  fieldRules: FieldRule[];
  alarms: AlarmRule[];
  expectedDevices: ExpectedDevice[];
  fences: { k: number; minSamples: number };
}

export const EMPTY_QUALITY_CONFIG: QualityConfig = {
  fieldRules: [],
  alarms: [],
  expectedDevices: [],
  fences: { k: 1.5, minSamples: 20 },
};

/** Validates a parsed YAML/JSON value; throws QualityConfigError listing every problem with its path. */
export function validateQualityConfig(value: unknown, source = '<quality config>'): QualityConfigFile {
  const result = QualityConfigSchema.safeParse(value ?? {});
  if (!result.success) {
    throw new QualityConfigError(
      source,
      result.error.issues.map((issue) => `${formatPath(issue.path) || '(file)'}: ${issue.message}`),
    );
  }
  return result.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path)
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

export function parseQualityConfigYaml(text: string, source = '<quality config>'): QualityConfigFile {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new QualityConfigError(
      source,
      doc.errors.map((e) => `YAML: ${e.message.split('\n')[0] ?? e.message}`),
    );
  }
  return validateQualityConfig(doc.toJS({ maxAliasCount: 100 }), source);
}

/** Compiles a validated file; `profiles` supplies the range rules of the listed device profiles first. */
export function compileQualityConfig(file: QualityConfigFile, profileRules: FieldRule[] = []): QualityConfig {
  const fieldRules: FieldRule[] = [...profileRules];
  file.rules.forEach((r, i) => {
    const rule: FieldRule = {
      equipment: compileGlob(r.equipment),
      field: compileGlob(r.field),
      origin: `rules[${i}]`,
      patterns: { equipment: r.equipment, field: r.field },
    };
    if (r.device !== undefined) {
      rule.device = compileGlob(r.device);
      rule.patterns.device = r.device;
    }
    if (r.rack !== undefined) {
      rule.rack = compileGlob(r.rack);
      rule.patterns.rack = r.rack;
    }
    if (r.range) rule.range = r.range;
    if (r.maxRatePerSecond !== undefined) rule.maxRatePerSecond = r.maxRatePerSecond;
    if (r.stale) rule.stale = r.stale;
    if (r.flatline) rule.flatline = r.flatline;
    if (r.anomaly !== undefined && r.anomaly !== false) {
      rule.anomaly = { k: (r.anomaly === true ? undefined : r.anomaly.k) ?? file.fences.k };
    }
    fieldRules.push(rule);
  });
  const alarms: AlarmRule[] = file.alarms.map((a) => {
    const rule: AlarmRule = {
      name: a.name,
      equipment: compileGlob(a.equipment),
      expression: parseExpression(a.value) as Expression,
      direction: a.direction,
      hysteresis: a.hysteresis,
      minDurationMs: Math.round(a.minDurationSeconds * 1000),
    };
    if (a.device !== undefined) rule.device = compileGlob(a.device);
    if (a.rack !== undefined) rule.rack = compileGlob(a.rack);
    if (a.warning !== undefined) rule.warning = a.warning;
    if (a.fault !== undefined) rule.fault = a.fault;
    return rule;
  });
  const expectedDevices: ExpectedDevice[] = file.expectedDevices.map((d) => {
    const device: ExpectedDevice = {
      site: d.site,
      equipment: d.equipment,
      device: d.device,
      silentAfterMs: Math.round((d.silentAfterSeconds ?? file.silentAfterSeconds) * 1000),
      level: d.level ?? 'fault',
    };
    if (d.rack !== undefined) device.rack = d.rack;
    return device;
  });
  return { fieldRules, alarms, expectedDevices, fences: { ...file.fences } };
}

/**
 * Range rules from a device profile: one per point with a range, for exactly that point's equipment,
 * device, rack and field (a rack's range is not the bank's). Config rules come after them, so a `range`
 * in the file overrides the profile's.
 */
export function profileRangeRules(profile: {
  name: string;
  points: {
    name: string;
    range?: { min?: number; max?: number };
    equipment: string;
    device: string;
    rack?: string;
  }[];
}): FieldRule[] {
  const rules: FieldRule[] = [];
  profile.points.forEach((p, i) => {
    if (p.range === undefined) return;
    const rule: FieldRule = {
      equipment: (name) => name === p.equipment,
      device: (name) => name === p.device,
      field: (name) => name === p.name,
      range: p.range,
      origin: `profile ${profile.name} points[${i}]`,
      patterns: { equipment: p.equipment, device: p.device, field: p.name },
    };
    const rack = p.rack;
    if (rack === undefined) {
      // The point belongs to the device record itself, never to a rack's (whose ranges differ).
      rule.rackless = true;
    } else {
      rule.rack = (name) => name === rack;
      rule.patterns.rack = rack;
    }
    rules.push(rule);
  });
  return rules;
}

/**
 * Reads QUALITY_CONFIG: the YAML file, then the profiles it lists (relative to the file). Throws
 * QualityConfigError (or ProfileError for a bad profile, the fs error for a missing file).
 */
export async function loadQualityConfig(path: string): Promise<QualityConfig> {
  const text = await readFile(path, 'utf8');
  const file = parseQualityConfigYaml(text, path);
  const profileRules: FieldRule[] = [];
  for (const p of file.profiles) {
    const parsed = await loadProfile(resolve(dirname(path), p));
    profileRules.push(...profileRangeRules(parsed.profile));
  }
  return compileQualityConfig(file, profileRules);
}
