import { loadConfig } from '@gridstream/config';
import {
  createMetricsRegistry,
  Readiness,
  type RunningService,
  type ServiceContext,
} from '@gridstream/runtime';
import type { Registry } from 'prom-client';
import type { ZodType } from 'zod';
import { testLogger } from './kafka-fixtures.js';
import { privateSpoolDir } from './spool-dir.js';

/** Runs a service's start function in this process, as `runService` would, minus signals and exit. */
export async function startInProcess<C>(
  name: string,
  schema: ZodType<C>,
  start: (ctx: ServiceContext<C>) => Promise<RunningService>,
  env: Record<string, string>,
): Promise<{ stop: () => Promise<void>; readiness: Readiness; metrics: Registry }> {
  // A spool folder of its own (collectors): the default one is shared by every collector of the machine.
  const config = loadConfig(schema, { HEALTH_PORT: '0', SPOOL_DIR: privateSpoolDir(name), ...env });
  const readiness = new Readiness();
  const metrics = createMetricsRegistry(name);
  const running = await start({ config, logger: testLogger().child({ service: name }), metrics, readiness });
  readiness.state = 'running';
  return {
    readiness,
    metrics,
    stop: async () => {
      readiness.state = 'stopping';
      await running.stop();
    },
  };
}
