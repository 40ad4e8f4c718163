import { envBoolean, envInt } from '@gridstream/config';
import { z } from 'zod';

/**
 * The variables every sink service reads, under the same names in each (one process per sink, like
 * `KAFKA_*`); only the defaults differ. Compose them into a service schema and call {@link checkSinkEnv}
 * from its superRefine.
 */
export function sinkEnvShape(defaults: { groupId: string; batchSize: number; writesInFlight?: number }) {
  return {
    /** The consumer group: each sink has its own, so each reads every record. */
    WRITER_GROUP_ID: z.string().default(defaults.groupId),
    /** Points per write. */
    WRITER_BATCH_SIZE: envInt(defaults.batchSize, { min: 1, max: 100_000 }),
    /** Longest a point waits for a fuller batch; bounds the added latency. */
    WRITER_LINGER_MS: envInt(100, { min: 0, max: 60_000 }),
    /**
     * Writes running at once. Intake keeps decoding while they run, and stops once a further full batch
     * is waiting (so a slow server holds at most this many writes and one batch in memory).
     */
    WRITER_WRITES_IN_FLIGHT: envInt(defaults.writesInFlight ?? 3, { min: 1, max: 64 }),
    /** Partitions handled at once; their points share batches. */
    WRITER_CONCURRENCY: envInt(6, { min: 1, max: 256 }),
    /**
     * Also consume KAFKA_TOPIC_ALARMS and KAFKA_TOPIC_ALARM_ACTIONS (same group, same batches, same
     * commit-after-write), where the sink stores alarms. Off where another writer owns alarms.
     */
    WRITER_ALARMS: envBoolean(true),
  };
}

export interface SinkEnv {
  WRITER_GROUP_ID: string;
  WRITER_BATCH_SIZE: number;
  WRITER_LINGER_MS: number;
  WRITER_WRITES_IN_FLIGHT: number;
  WRITER_CONCURRENCY: number;
  WRITER_ALARMS: boolean;
  KAFKA_TOPIC_PARSED: string;
  KAFKA_TOPIC_ALARMS: string;
  KAFKA_TOPIC_ALARM_ACTIONS: string;
}

/** Problems only the combination shows; reported by name with the others at start. */
export function checkSinkEnv(cfg: SinkEnv, ctx: z.RefinementCtx): void {
  // One topic read as both would send every record down the alarm path and dead-letter it.
  if (cfg.WRITER_ALARMS && cfg.KAFKA_TOPIC_ALARMS === cfg.KAFKA_TOPIC_PARSED)
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_TOPIC_ALARMS'],
      message: `is the same topic as KAFKA_TOPIC_PARSED (${cfg.KAFKA_TOPIC_PARSED}): give alarms their own topic or set WRITER_ALARMS=false`,
    });
  if (
    cfg.WRITER_ALARMS &&
    [cfg.KAFKA_TOPIC_PARSED, cfg.KAFKA_TOPIC_ALARMS].includes(cfg.KAFKA_TOPIC_ALARM_ACTIONS)
  )
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_TOPIC_ALARM_ACTIONS'],
      message: `is the same topic as KAFKA_TOPIC_PARSED or KAFKA_TOPIC_ALARMS: give alarm actions their own topic or set WRITER_ALARMS=false`,
    });
}
