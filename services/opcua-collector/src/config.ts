import { envBoolean, envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { DEFAULT_APPLICATION_NAME, DEFAULT_APPLICATION_URI, DEFAULT_PKI_DIR } from '@gridstream/opcua';
import { runtimeEnvShape } from '@gridstream/runtime';
import { spoolEnvShape } from '@gridstream/spool';
import { z } from 'zod';
import { loadOpcuaConfigFile, type OpcuaFileConfig } from './opcua-config.js';

/**
 * `secretEnv` is where `passwordEnv` names are looked up: the process environment in production; tests
 * pass their own so they never touch process.env.
 */
export function makeOpcuaCollectorConfigSchema(secretEnv: Record<string, string | undefined> = process.env) {
  return z
    .object({
      ...runtimeEnvShape(9105),
      ...kafkaEnvShape,
      ...spoolEnvShape,
      /**
       * Path of the endpoint file (YAML or JSON, see docs/opcua-collector.md). Loaded and checked here,
       * so a bad file stops the service at start (exit 78) with every problem listed.
       */
      OPCUA_CONFIG: z
        .string({ message: 'required: the path of the endpoint file (YAML or JSON)' })
        .transform((path, ctx): OpcuaFileConfig => {
          const { config, problems } = loadOpcuaConfigFile(path, secretEnv);
          for (const message of problems) ctx.addIssue({ code: 'custom', message });
          return config ?? (z.NEVER as never);
        }),
      /** The application certificate and trust lists (own/, trusted/, rejected/). */
      OPCUA_PKI_DIR: z.string().default(DEFAULT_PKI_DIR),
      /** Trust any server certificate on first contact. For labs and tests only. */
      OPCUA_AUTO_TRUST_SERVERS: envBoolean(false),
      OPCUA_APPLICATION_NAME: z.string().default(DEFAULT_APPLICATION_NAME),
      OPCUA_APPLICATION_URI: z.string().default(DEFAULT_APPLICATION_URI),
      OPCUA_MAX_SAMPLES_PER_MESSAGE: envInt(500, { min: 1, max: 10_000 }),
    })
    .superRefine((cfg, ctx) => checkKafkaEnv(cfg, ctx));
}

export const opcuaCollectorConfigSchema = makeOpcuaCollectorConfigSchema();

export type OpcuaCollectorConfig = z.infer<typeof opcuaCollectorConfigSchema>;
