import { readFile } from 'node:fs/promises';
import { parseStep } from '@gridstream/forecast';
import { EquipmentName, FieldName, Identifier } from '@gridstream/schema';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const Duration = z.string().refine(
  (s) => {
    try {
      parseStep(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a duration like 15m, 1h, 1d' },
);

const BandSchema = z
  .strictObject({
    /** Rule name of the early warning (`predicted_<rule>` on the alarms topic). */
    rule: z.string().regex(/^[a-z][a-z0-9_]{0,50}$/, 'must be lower snake case, at most 51 characters'),
    low: z.number().optional(),
    high: z.number().optional(),
    level: z.enum(['warning', 'fault']).default('warning'),
    /** A predicted excursion ends once every predicted value is this far back inside the band. */
    hysteresis: z.number().min(0).default(0),
  })
  .refine((b) => b.low !== undefined || b.high !== undefined, { message: 'give low, high or both' })
  .refine((b) => b.low === undefined || b.high === undefined || b.low < b.high, {
    message: 'low must be below high',
  });

const SeriesSchema = z
  .strictObject({
    site: Identifier,
    equipment: EquipmentName,
    device: Identifier,
    rack: Identifier.optional(),
    field: FieldName,
    /** Resampling step: the mean of each step's readings is one value of the series. */
    step: Duration,
    /** How far back the model is fitted on. */
    history: Duration,
    /** How far ahead it forecasts. */
    horizon: Duration,
    /** How often a new forecast is made (the model moves over the new values in between refits). */
    every: Duration,
    /** How often the model is fitted again on the whole history. */
    refit: Duration.default('6h'),
    model: z.enum(['hw', 'snaive']).default('hw'),
    /** Seasons as durations (one or two, e.g. [1d] or [1d, 7d]); each a whole number of steps. */
    seasons: z.array(Duration).min(1).max(2).default(['1d']),
    /** Physical bounds the forecast is clipped to (SoC 0–100): a model knows nothing of them. */
    min: z.number().optional(),
    max: z.number().optional(),
    /** An explicit band for early warnings, besides the alarm rules of QUALITY_CONFIG watching this field. */
    band: BandSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const step = safeStep(s.step);
    if (step === undefined) return;
    for (const [name, text] of [
      ['history', s.history],
      ['horizon', s.horizon],
      ...s.seasons.map((x, i) => [`seasons.${i}`, x] as const),
    ] as const) {
      const ms = safeStep(text);
      if (ms !== undefined && ms % step !== 0)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `${text} is not a whole number of steps of ${s.step}`,
        });
    }
    const history = safeStep(s.history);
    const longest = Math.max(...s.seasons.map((x) => safeStep(x) ?? 0));
    if (history !== undefined && history < 2 * longest)
      ctx.addIssue({
        code: 'custom',
        path: ['history'],
        message: `${s.history} holds less than two of the longest season (${s.seasons.at(-1)}): too little to fit it`,
      });
  });

export const ForecastFileSchema = z.strictObject({ series: z.array(SeriesSchema).min(1) });
export type SeriesConfigInput = z.infer<typeof SeriesSchema>;

/** One configured series, durations turned into milliseconds and steps. */
export interface SeriesConfig {
  key: string;
  site: string;
  equipment: string;
  device: string;
  rack?: string;
  field: string;
  stepMs: number;
  historySteps: number;
  horizonSteps: number;
  everyMs: number;
  refitMs: number;
  model: 'hw' | 'snaive';
  periods: number[];
  min?: number;
  max?: number;
  band?: z.infer<typeof BandSchema>;
}

function safeStep(text: string): number | undefined {
  try {
    return parseStep(text);
  } catch {
    return undefined;
  }
}

export class ForecastConfigError extends Error {
  override readonly name = 'ForecastConfigError';
}

export function parseForecastConfig(text: string, source: string): SeriesConfig[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ForecastConfigError(`${source}: not YAML: ${(error as Error).message}`);
  }
  const result = ForecastFileSchema.safeParse(raw);
  if (!result.success)
    throw new ForecastConfigError(
      `${source}:\n${result.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n')}`,
    );
  const keys = new Set<string>();
  return result.data.series.map((s, i) => {
    const key = `${s.site}/${s.equipment}/${s.device}/${s.rack ?? ''}/${s.field}`;
    if (keys.has(key)) throw new ForecastConfigError(`${source}: series.${i}: ${key} is configured twice`);
    keys.add(key);
    const stepMs = parseStep(s.step);
    return {
      key,
      site: s.site,
      equipment: s.equipment,
      device: s.device,
      ...(s.rack === undefined ? {} : { rack: s.rack }),
      field: s.field,
      stepMs,
      historySteps: parseStep(s.history) / stepMs,
      horizonSteps: parseStep(s.horizon) / stepMs,
      everyMs: parseStep(s.every),
      refitMs: parseStep(s.refit),
      model: s.model,
      periods: s.seasons.map((x) => parseStep(x) / stepMs),
      ...(s.min === undefined ? {} : { min: s.min }),
      ...(s.max === undefined ? {} : { max: s.max }),
      ...(s.band === undefined ? {} : { band: s.band }),
    };
  });
}

export async function loadForecastConfig(path: string): Promise<SeriesConfig[]> {
  return parseForecastConfig(await readFile(path, 'utf8'), path);
}
