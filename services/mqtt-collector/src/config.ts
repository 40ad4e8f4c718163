import { envInt } from '@gridstream/config';
import { checkSourceEnv, sourceEnvShape } from '@gridstream/source';
import { z } from 'zod';
import { loadMqttConfigFile, type MqttFileConfig } from './mqtt-config.js';

/**
 * `secretEnv` is where `passwordEnv` names are looked up: the process environment in production; tests
 * pass their own so they never touch process.env.
 */
export function makeMqttCollectorConfigSchema(secretEnv: Record<string, string | undefined> = process.env) {
  return z
    .object({
      ...sourceEnvShape(9113),
      /**
       * Path of the broker file (YAML or JSON, see docs/mqtt-collector.md). Loaded and checked here, so a
       * bad file stops the service at start (exit 78) with every problem listed.
       */
      MQTT_CONFIG: z
        .string({ message: 'required: the path of the broker file (YAML or JSON)' })
        .transform((path, ctx): MqttFileConfig => {
          const { config, problems } = loadMqttConfigFile(path, secretEnv);
          for (const message of problems) ctx.addIssue({ code: 'custom', message });
          return config ?? (z.NEVER as never);
        }),
      MQTT_MAX_SAMPLES_PER_MESSAGE: envInt(500, { min: 1, max: 10_000 }),
    })
    .superRefine((cfg, ctx) => checkSourceEnv(cfg, ctx));
}

export const mqttCollectorConfigSchema = makeMqttCollectorConfigSchema();

export type MqttCollectorConfig = z.infer<typeof mqttCollectorConfigSchema>;
