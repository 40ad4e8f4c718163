import { envInt } from '@gridstream/config';
import { checkInfluxEnv, influxEnvShape } from '@gridstream/influx';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';

export const forecasterConfigSchema = z
  .object({
    ...runtimeEnvShape(9109),
    ...kafkaEnvShape,
    ...influxEnvShape,
    /** The series to forecast, with their steps, history, horizon and bands (docs/forecast.md). */
    FORECAST_CONFIG: z.string().min(1),
    /**
     * The alarm rules (the parser's QUALITY_CONFIG): a forecast series whose field a rule watches gets a
     * `predicted_<rule>` early warning at the rule's levels and hysteresis.
     */
    QUALITY_CONFIG: z.string().min(1).optional(),
    /** Where fitted models are saved, one JSON file per series, so a restart forecasts at once. */
    FORECAST_MODEL_DIR: z.string().min(1).default('.local/forecast-models'),
    /** Probability of the interval written with each forecast (lower, upper). */
    FORECAST_LEVEL: z.coerce.number().gt(0.5).lt(1).default(0.95),
    /** How often the loop looks for series that are due (each series has its own `every`). */
    FORECAST_TICK_MS: envInt(1_000, { min: 100, max: 3_600_000 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkInfluxEnv(cfg, ctx);
  });

export type ForecasterConfig = z.infer<typeof forecasterConfigSchema>;
