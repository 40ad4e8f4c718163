import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { spoolEnvShape } from '@gridstream/spool';
import type { z } from 'zod';

/**
 * The variables every source service has: runtime (health port, logging, metrics push), Kafka and the disk
 * spool (docs/configuration.md). A service spreads it into its schema and adds its own, then
 * `.superRefine(checkSourceEnv)`:
 *
 *     z.object({ ...sourceEnvShape(9112), SERIAL_CONFIG: … }).superRefine(checkSourceEnv)
 */
export function sourceEnvShape(healthPort: number) {
  return { ...runtimeEnvShape(healthPort), ...kafkaEnvShape, ...spoolEnvShape };
}

/** Cross-field rules of the shared variables (Kafka's SASL and heartbeat/session pairs). */
export function checkSourceEnv(cfg: Parameters<typeof checkKafkaEnv>[0], ctx: z.RefinementCtx): void {
  checkKafkaEnv(cfg, ctx);
}
