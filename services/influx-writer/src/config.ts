import { envBoolean, envInt } from '@gridstream/config';
import { checkInfluxEnv, influxEnvShape } from '@gridstream/influx';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';

export const writerConfigSchema = z
  .object({
    ...runtimeEnvShape(9103),
    ...kafkaEnvShape,
    ...influxEnvShape,
    WRITER_GROUP_ID: z.string().default('gridstream-influx-writer'),
    /** Points per InfluxDB write; InfluxData recommends 5,000–10,000. */
    WRITER_BATCH_SIZE: envInt(5_000, { min: 1, max: 100_000 }),
    /** Longest a point waits for a fuller batch; bounds the added latency. */
    WRITER_LINGER_MS: envInt(100, { min: 0, max: 60_000 }),
    /**
     * InfluxDB writes running at once. InfluxDB ingests requests in parallel; intake keeps decoding while
     * they run, and stops once a further full batch is waiting.
     */
    WRITER_WRITES_IN_FLIGHT: envInt(3, { min: 1, max: 64 }),
    /** Partitions handled at once; their points share batches. */
    WRITER_CONCURRENCY: envInt(6, { min: 1, max: 256 }),
    /**
     * Also consume KAFKA_TOPIC_ALARMS into the `alarms` measurement and KAFKA_TOPIC_ALARM_ACTIONS (the
     * console's acknowledge/shelve/comment trail) into `alarm_actions` (same group, same batches, same
     * commit-after-write). Off where another writer owns alarms, or where there is no quality stage.
     */
    WRITER_ALARMS: envBoolean(true),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkInfluxEnv(cfg, ctx);
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
  });

export type WriterConfig = z.infer<typeof writerConfigSchema>;
