import { EquipmentName, FieldName, Identifier, isValidTimeZone } from '@gridstream/schema';
import { z } from 'zod';
import { ENCODINGS } from './encoding.js';
import { TIME_FORMATS } from './time-formats.js';

/**
 * Import options, one zod schema for the CLI and the console. The old tool passed its form fields to a
 * shell; here every field is data, validated before a byte is read, and all problems are reported at once
 * by option name so a form can mark each bad field.
 */

export const FILE_FORMATS = ['auto', 'csv', 'xlsx'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** `a|b|c` (the old tool's form syntax) or an array; blanks dropped. */
const columnList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split('|') : v),
  // A field not given at all gets the same words as an empty one, not zod's "expected …, received undefined"
  // (what a form showed for every field before the user had chosen anything).
  z
    .array(z.string().trim(), { error: 'choose at least one value column' })
    .transform((a) => a.filter((s) => s !== ''))
    .pipe(z.array(FieldName).min(1, 'choose at least one value column')),
);

const mappingShape = {
  timeColumn: z.string({ error: 'choose the time column' }).min(1, 'choose the time column'),
  timeFormat: z.enum(TIME_FORMATS).default('auto'),
  /** IANA zone for times without an offset (`Asia/Seoul`); times with Z or an offset ignore it. */
  timeZone: z
    .string()
    .default('UTC')
    .refine(isValidTimeZone, 'must be an IANA time zone such as UTC or Asia/Seoul'),
  valueColumns: columnList,
  /** Column holding each row's device id; null or absent means every row gets `device`. */
  deviceColumn: z.string().min(1).nullable().optional(),
  device: Identifier.optional(),
  site: z.string({ error: 'give the site id' }).min(1, 'give the site id').pipe(Identifier),
  /** The equipment type, which is the InfluxDB measurement: lower snake case. */
  equipment: z
    .string({ error: 'give the equipment name (the InfluxDB measurement), e.g. vehicle' })
    .min(1, 'give the equipment name (the InfluxDB measurement), e.g. vehicle')
    .superRefine((name, ctx) => {
      if (name !== '' && !EquipmentName.safeParse(name).success) {
        ctx.addIssue({
          code: 'custom',
          message: `must be lower snake case, e.g. "${toEquipmentName(name)}"`,
        });
      }
    }),
};

const sourceShape = {
  files: z.array(z.string().min(1)).min(1, 'give at least one file'),
  format: z.enum(FILE_FORMATS).default('auto'),
  encoding: z.enum(ENCODINGS).default('auto'),
  /** Excel sheets to read; empty = all of them. */
  sheets: z.array(z.string().min(1)).default([]),
  /** Samples per samples.v1 message (also capped by size, see batcher). */
  samplesPerMessage: z.number().int().min(1).max(5_000).default(500),
  /** Rejects kept in the summary (the count is always exact). */
  maxRejects: z.number().int().min(0).max(1_000_000).default(1_000),
};

/** Exactly one of deviceColumn / device. A plain function: zod skips refinements once a field failed. */
function deviceProblems(o: { deviceColumn?: unknown; device?: unknown }): OptionProblem[] {
  const hasColumn = typeof o.deviceColumn === 'string' && o.deviceColumn !== '';
  const hasFixed = o.device !== undefined && o.device !== null;
  if (hasColumn && hasFixed) {
    return [
      {
        option: 'device',
        message: 'give either deviceColumn (an id per row) or device (one id for every row), not both',
      },
    ];
  }
  if (!hasColumn && !hasFixed) {
    return [
      {
        option: 'deviceColumn',
        message: 'choose the device-id column, or give a fixed device id (device) for files without one',
      },
    ];
  }
  return [];
}

export const ImportOptionsSchema = z.object({ ...sourceShape, ...mappingShape }).superRefine((o, ctx) => {
  for (const p of deviceProblems(o)) ctx.addIssue({ code: 'custom', path: [p.option], message: p.message });
});
export type ImportOptionsInput = z.input<typeof ImportOptionsSchema>;
export type ImportOptions = z.output<typeof ImportOptionsSchema>;

/**
 * Preview: the column mapping may still be unchosen (the console previews a file to offer its columns), so
 * only the source options must be valid; the mapping is checked separately and its problems returned.
 */
export const PreviewSourceSchema = z.looseObject(sourceShape);
export type PreviewSource = z.output<typeof PreviewSourceSchema>;

export interface OptionProblem {
  option: string;
  message: string;
}

/** Bad import options: every problem, each by option name. */
export class ImportOptionsError extends Error {
  override name = 'ImportOptionsError';
  constructor(readonly problems: OptionProblem[]) {
    super(
      `invalid import options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.option}: ${p.message}`).join('\n'),
    );
  }
}

export function parseImportOptions(input: unknown): ImportOptions {
  const result = ImportOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  // zod skips the cross-field rule when a field failed; run it anyway so the device problem is listed too.
  const extra = typeof input === 'object' && input !== null ? deviceProblems(input) : [];
  throw new ImportOptionsError(mergeProblems([...problemsOf(result.error), ...extra]));
}

export function parsePreviewSource(input: unknown): PreviewSource {
  return unwrap(PreviewSourceSchema.safeParse(input));
}

/** The options, or every problem with them (for a preview that works before the mapping is complete). */
export function checkImportOptions(input: unknown): { options?: ImportOptions; problems: OptionProblem[] } {
  try {
    return { options: parseImportOptions(input), problems: [] };
  } catch (error) {
    if (error instanceof ImportOptionsError) return { problems: error.problems };
    throw error;
  }
}

function unwrap<T>(result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  throw new ImportOptionsError(mergeProblems(problemsOf(result.error)));
}

function problemsOf(error: z.ZodError): OptionProblem[] {
  return error.issues.map((issue) => ({
    option: issue.path.map(String).join('.') || '(options)',
    message: issue.message,
  }));
}

/** One entry per option (an empty site fails two rules; the form shows one message per field). */
function mergeProblems(problems: OptionProblem[]): OptionProblem[] {
  const byOption = new Map<string, string[]>();
  for (const p of problems) {
    const list = byOption.get(p.option) ?? [];
    if (!list.includes(p.message)) list.push(p.message);
    byOption.set(p.option, list);
  }
  return [...byOption].map(([option, messages]) => ({ option, message: messages.join('; ') }));
}

/** The lower-snake-case spelling of a name (`Vehicle Data` → `vehicle_data`), for error hints and forms. */
export function toEquipmentName(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^([0-9])/, 'm_$1')
    .slice(0, 63);
}
