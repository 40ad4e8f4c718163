import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { startSinkService } from '@gridstream/sink';
import type { WriterConfig } from './config.js';
import { createInfluxTarget } from './influx-target.js';

/**
 * telemetry.parsed (and telemetry.alarms / telemetry.alarm-actions, unless WRITER_ALARMS=false) → InfluxDB,
 * on the sink seam (packages/sink): offsets are committed only after InfluxDB answered 2xx for every point
 * of the slice and every slice before it in its partition, or the refused points are in the DLQ.
 */
export async function startWriter(ctx: ServiceContext<WriterConfig>): Promise<RunningService> {
  return startSinkService(ctx, await createInfluxTarget(ctx.config));
}
