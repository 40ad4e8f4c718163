import { envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';

export const modbusCollectorConfigSchema = z
  .object({
    ...runtimeEnvShape(9104),
    ...kafkaEnvShape,
    /**
     * The collector config file (YAML or JSON): connections (tcp, rtu, rtu-over-tcp) and the devices on
     * each, by device profile. See docs/modbus-collector.md.
     */
    MODBUS_CONFIG: z
      .string()
      .min(1, 'set MODBUS_CONFIG to the collector config file (docs/modbus-collector.md)'),
    /**
     * Messages (one per device poll) held in memory while Kafka does not acknowledge; beyond this the
     * oldest are dropped and counted. 1,000 is about 16 minutes of one device polled every second.
     */
    MODBUS_OUTBOX_CAPACITY: envInt(1_000, { min: 1, max: 1_000_000 }),
    /** Messages per produce request. */
    MODBUS_PRODUCE_BATCH: envInt(500, { min: 1, max: 10_000 }),
  })
  .superRefine((cfg, ctx) => checkKafkaEnv(cfg, ctx));

export type ModbusCollectorConfig = z.infer<typeof modbusCollectorConfigSchema>;
