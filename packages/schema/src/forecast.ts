import { z } from 'zod';
import { EquipmentName, FieldName, Identifier, UtcTimestamp } from './identifiers.js';

/**
 * One forecast of one series on `telemetry.forecasts` (Kafka key: `site/equipment/device/rack/field`):
 * predicted values, never readings — `predicted: true` is part of the contract so no consumer can take one
 * for the other. The same values go to InfluxDB's `forecast` measurement.
 */
export const ForecastMessageSchema = z.object({
  v: z.literal(1),
  predicted: z.literal(true),
  site: Identifier,
  equipment: EquipmentName,
  device: Identifier,
  rack: Identifier.optional(),
  field: FieldName,
  /** The model's label, e.g. `hw(96)` or `snaive(96)`. */
  model: z.string().min(1),
  /** When the forecast was made (the forecaster's clock). */
  issuedAt: UtcTimestamp,
  /** Milliseconds between forecast points (the series' step). */
  stepMs: z.number().int().positive(),
  /** Probability of the interval [lower, upper], e.g. 0.95. */
  level: z.number().gt(0).lt(1),
  points: z
    .array(
      z.object({
        ts: UtcTimestamp,
        mean: z.number(),
        lower: z.number(),
        upper: z.number(),
      }),
    )
    .min(1),
});
export type ForecastMessage = z.infer<typeof ForecastMessageSchema>;

/** Kafka key of a forecast series. */
export function forecastKey(
  s: Pick<ForecastMessage, 'site' | 'equipment' | 'device' | 'rack' | 'field'>,
): string {
  return `${s.site}/${s.equipment}/${s.device}/${s.rack ?? ''}/${s.field}`;
}
