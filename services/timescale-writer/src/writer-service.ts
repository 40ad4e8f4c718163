import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { startSinkService } from '@gridstream/sink';
import type { TimescaleWriterConfig } from './config.js';
import { createPostgresTarget } from './postgres-target.js';

/**
 * telemetry.parsed (and the alarm topics unless WRITER_ALARMS=false) → PostgreSQL, on the sink seam: the
 * seam consumes, batches, retries and dead-letters; the target maps records to rows and upserts them.
 */
export async function startTimescaleWriter(
  ctx: ServiceContext<TimescaleWriterConfig>,
): Promise<RunningService> {
  const target = await createPostgresTarget(ctx.config, ctx.logger);
  try {
    return await startSinkService(ctx, target);
  } catch (error) {
    await target.close().catch(() => undefined);
    throw error;
  }
}
