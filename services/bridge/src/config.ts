import { amqpEnvShape, checkAmqpEnv } from '@gridstream/amqp';
import { envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { SchemaId } from '@gridstream/schema';
import { z } from 'zod';

export const bridgeConfigSchema = z
  .object({
    ...runtimeEnvShape(9101),
    ...kafkaEnvShape,
    ...amqpEnvShape,
    /** Format of what arrives on the queue, written to the `gs-schema` header for the parser. */
    BRIDGE_SCHEMA: SchemaId.default('microgrid.v1'),
    /**
     * Larger payloads are dead-lettered (`oversized`) instead of forwarded. Must stay below the raw topic's
     * `max.message.bytes` (Kafka's default is about 1 MiB): a bigger message would be refused by Kafka on
     * every retry and stall the queue behind it. Checked against the topic at start.
     */
    BRIDGE_MAX_MESSAGE_BYTES: envInt(1_000_000, { min: 1_024, max: 64 * 1024 * 1024 }),
    /** Deliveries per Kafka produce and per AMQP ack. */
    BRIDGE_BATCH_SIZE: envInt(500, { min: 1, max: 10_000 }),
    /** How long a partial batch waits for more deliveries: the latency cost of batching at low rates. */
    BRIDGE_LINGER_MS: envInt(20, { min: 0, max: 10_000 }),
    /** How far into a message to look for `"site_id"` (the Kafka key) before falling back to the routing key. */
    BRIDGE_KEY_SCAN_BYTES: envInt(4_096, { min: 64, max: 1_048_576 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkAmqpEnv(cfg, ctx);
    if (cfg.AMQP_PREFETCH < cfg.BRIDGE_BATCH_SIZE) {
      ctx.addIssue({
        code: 'custom',
        path: ['AMQP_PREFETCH'],
        message: `${cfg.AMQP_PREFETCH} is below BRIDGE_BATCH_SIZE=${cfg.BRIDGE_BATCH_SIZE}: batches could never fill and every batch would wait BRIDGE_LINGER_MS`,
      });
    }
  });

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
