import type { Logger } from '@gridstream/runtime';
import { type Sample, SamplesMessageSchema } from '@gridstream/schema';
import type { Spool } from '@gridstream/spool';
import type { EndpointCollector } from './endpoint-collector.js';

/**
 * Rebuilds which value every point took last from the spool after a restart: the newest checkpoint (per
 * endpoint) plus the samples spooled after it. Without this, a collector killed and started again would
 * take each subscription's initial values — the same values, with the same source times, that it had
 * already spooled — a second time, and the archive would hold those readings twice.
 */
export function restorePointStates(
  recovered: Spool['recovered'],
  collectors: readonly EndpointCollector[],
  logger: Logger,
): void {
  let states: Record<string, Record<string, { t: number; v: string }>> = {};
  if (recovered.checkpoint) {
    try {
      states = JSON.parse(recovered.checkpoint.toString('utf8')) as typeof states;
    } catch (error) {
      logger.warn(
        { err: error },
        'unreadable point-state checkpoint in the spool; re-sent values may be taken again',
      );
    }
  }
  const samples: Sample[] = [];
  for (const message of recovered.after) {
    try {
      const parsed = SamplesMessageSchema.safeParse(JSON.parse(message.value.toString()));
      if (parsed.success) samples.push(...parsed.data.samples);
    } catch {
      // Not ours to judge here: the parser dead-letters it when it is sent.
    }
  }
  for (const collector of collectors)
    collector.restorePointStates(states[collector.config.name] ?? {}, samples);
  if (recovered.checkpoint || samples.length > 0)
    logger.info({ samplesAfterCheckpoint: samples.length }, 'point states restored from the spool');
}
