import { z } from 'zod';
import { FittedHoltWinters } from './holt-winters.js';
import {
  type FittedModel,
  type FittedModelJson,
  MODEL_FORMAT,
  MODEL_KINDS,
  MODEL_VERSION,
  ModelFormatError,
} from './model.js';
import { FittedSeasonalNaive } from './seasonal-naive.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const base = {
  format: z.literal(MODEL_FORMAT),
  version: z.literal(MODEL_VERSION),
  end: finite,
  step: finite.refine((v) => v > 0, 'must be > 0'),
  sigma2: finite.refine((v) => v >= 0, 'must be ≥ 0'),
  observations: z.number().int().nonnegative(),
};

const SeasonalNaiveJsonSchema = z
  .object({
    ...base,
    kind: z.literal('seasonal-naive'),
    period: z.number().int().positive(),
    upcoming: z.array(finite),
  })
  .refine((j) => j.upcoming.length === j.period, { message: 'upcoming must hold `period` values' });

const HoltWintersJsonSchema = z
  .object({
    ...base,
    kind: z.literal('holt-winters'),
    trend: z.enum(['none', 'additive', 'damped']),
    periods: z.array(z.number().int().min(2)).max(2),
    params: z.object({
      alpha: finite,
      beta: finite,
      gamma: z.array(finite),
      phi: finite,
    }),
    state: z.object({ level: finite, trend: finite, seasons: z.array(z.array(finite)) }),
    sse: finite,
  })
  .refine(
    (j) =>
      j.params.gamma.length === j.periods.length &&
      j.state.seasons.length === j.periods.length &&
      j.state.seasons.every((s, k) => s.length === j.periods[k]),
    { message: 'gamma and seasons must match periods' },
  );

/**
 * Reads a model saved by `toJSON()` (the object or its JSON text). Refuses, with ModelFormatError, any
 * other format or version — a model of another version could have states that mean something else, and
 * forecasting from them silently would be worse than refitting.
 */
export function fromJSON(input: unknown): FittedModel {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (error) {
      throw new ModelFormatError(`forecast model is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (typeof doc !== 'object' || doc === null)
    throw new ModelFormatError('forecast model must be a JSON object');
  const head = doc as { format?: unknown; version?: unknown; kind?: unknown };
  if (head.format !== MODEL_FORMAT)
    throw new ModelFormatError(
      `not a forecast model: format is ${JSON.stringify(head.format)}, expected "${MODEL_FORMAT}"`,
    );
  if (head.version !== MODEL_VERSION)
    throw new ModelFormatError(
      `forecast model version ${JSON.stringify(head.version)} is not supported (this build reads version ${MODEL_VERSION}); refit the model`,
    );
  if (!(MODEL_KINDS as readonly unknown[]).includes(head.kind))
    throw new ModelFormatError(
      `unknown forecast model kind ${JSON.stringify(head.kind)} (known: ${MODEL_KINDS.join(', ')})`,
    );
  const schema = head.kind === 'holt-winters' ? HoltWintersJsonSchema : SeasonalNaiveJsonSchema;
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelFormatError(
      `malformed ${String(head.kind)} model at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  const json = parsed.data as FittedModelJson;
  return json.kind === 'holt-winters' ? new FittedHoltWinters(json) : new FittedSeasonalNaive(json);
}
