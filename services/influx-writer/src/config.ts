import { checkInfluxEnv, influxEnvShape } from '@gridstream/influx';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { checkSinkEnv, sinkEnvShape } from '@gridstream/sink';
import { z } from 'zod';

export const writerConfigSchema = z
  .object({
    ...runtimeEnvShape(9103),
    ...kafkaEnvShape,
    ...influxEnvShape,
    // Points per InfluxDB write: InfluxData recommends 5,000–10,000. InfluxDB ingests requests in parallel.
    ...sinkEnvShape({ groupId: 'gridstream-influx-writer', batchSize: 5_000, writesInFlight: 3 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkInfluxEnv(cfg, ctx);
    checkSinkEnv(cfg, ctx);
  });

export type WriterConfig = z.infer<typeof writerConfigSchema>;
