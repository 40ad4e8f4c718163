import { envInt } from '@gridstream/config';
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
    /** Partitions written at once; their points share batches. */
    WRITER_CONCURRENCY: envInt(6, { min: 1, max: 256 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkInfluxEnv(cfg, ctx);
  });

export type WriterConfig = z.infer<typeof writerConfigSchema>;
