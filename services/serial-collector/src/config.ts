import { envInt } from '@gridstream/config';
import { checkSourceEnv, sourceEnvShape } from '@gridstream/source';
import { z } from 'zod';
import { loadSerialConfigFile, type SerialFileConfig } from './serial-config.js';

export const serialCollectorConfigSchema = z
  .object({
    ...sourceEnvShape(9112),
    /**
     * Path of the port file (YAML or JSON, see docs/serial-collector.md). Loaded and checked here, so a bad
     * file stops the service at start (exit 78) with every problem listed.
     */
    SERIAL_CONFIG: z
      .string({ message: 'required: the path of the port file (YAML or JSON, docs/serial-collector.md)' })
      .min(1, 'required: the path of the port file (YAML or JSON, docs/serial-collector.md)')
      .transform((path, ctx): SerialFileConfig => {
        const { config, problems } = loadSerialConfigFile(path);
        for (const message of problems) ctx.addIssue({ code: 'custom', message });
        return config ?? (z.NEVER as never);
      }),
    /** Samples per samples.v1 message (the lines of one read go out together). */
    SERIAL_MAX_SAMPLES_PER_MESSAGE: envInt(500, { min: 1, max: 10_000 }),
  })
  .superRefine((cfg, ctx) => checkSourceEnv(cfg, ctx));

export type SerialCollectorConfig = z.infer<typeof serialCollectorConfigSchema>;
