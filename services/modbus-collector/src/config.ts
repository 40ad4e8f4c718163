import { envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { spoolEnvShape } from '@gridstream/spool';
import { z } from 'zod';

export const modbusCollectorConfigSchema = z
  .object({
    ...runtimeEnvShape(9104),
    ...kafkaEnvShape,
    ...spoolEnvShape,
    /**
     * The collector config file (YAML or JSON): connections (tcp, rtu, rtu-over-tcp) and the devices on
     * each, by device profile. See docs/modbus-collector.md.
     */
    MODBUS_CONFIG: z
      .string()
      .min(1, 'set MODBUS_CONFIG to the collector config file (docs/modbus-collector.md)'),
    /** Messages per produce request. */
    MODBUS_PRODUCE_BATCH: envInt(500, { min: 1, max: 10_000 }),
  })
  .superRefine((cfg, ctx) => checkKafkaEnv(cfg, ctx));

export type ModbusCollectorConfig = z.infer<typeof modbusCollectorConfigSchema>;
