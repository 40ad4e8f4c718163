import { resolve } from 'node:path';
import { envInt } from '@gridstream/config';
import type { Logger } from '@gridstream/runtime';
import { z } from 'zod';
import type { FsyncPolicy, FullPolicy, SpoolOptions } from './spool.js';

/**
 * The disk spool's settings, shared by every source service (docs/configuration.md, docs/reliability.md).
 * The default size holds a day of a typical site with room to spare: the reference ESS (one Modbus device,
 * 11 samples of ~110 points, polled every second) spools 14.7 KiB per poll, 1.2 GiB a day.
 */
export const spoolEnvShape = {
  /** The spool's folder; one per running collector (default `.local/spool/<service>`). */
  SPOOL_DIR: z.string().min(1).optional(),
  SPOOL_MAX_BYTES: envInt(2 * 1024 * 1024 * 1024, { min: 1024 * 1024 }),
  SPOOL_FSYNC: z.enum(['always', 'interval', 'never']).default('interval'),
  SPOOL_FSYNC_INTERVAL_MS: envInt(1_000, { min: 10, max: 60_000 }),
  SPOOL_WHEN_FULL: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
  /** Delivered data kept on disk for inspection (`gridstream spool dump`), within SPOOL_MAX_BYTES; 0 = none. */
  SPOOL_RETAIN_BYTES: envInt(0, { min: 0 }),
};

export interface SpoolEnv {
  SPOOL_DIR?: string | undefined;
  SPOOL_MAX_BYTES: number;
  SPOOL_FSYNC: FsyncPolicy;
  SPOOL_FSYNC_INTERVAL_MS: number;
  SPOOL_WHEN_FULL: FullPolicy;
  SPOOL_RETAIN_BYTES?: number;
}

export function spoolOptionsFromEnv(
  env: SpoolEnv,
  service: string,
  logger: Logger,
  hooks: Pick<SpoolOptions, 'onDropped' | 'onCorrupt'> = {},
): SpoolOptions {
  return {
    dir: resolve(env.SPOOL_DIR ?? `.local/spool/${service}`),
    maxBytes: env.SPOOL_MAX_BYTES,
    fsync: env.SPOOL_FSYNC,
    fsyncIntervalMs: env.SPOOL_FSYNC_INTERVAL_MS,
    whenFull: env.SPOOL_WHEN_FULL,
    retainBytes: env.SPOOL_RETAIN_BYTES ?? 0,
    logger: logger.child({ component: 'spool' }),
    ...hooks,
  };
}
