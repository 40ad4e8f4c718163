import { envInt } from '@gridstream/config';
import { checkSourceEnv, sourceEnvShape } from '@gridstream/source';
import { z } from 'zod';

export const modbusCollectorConfigSchema = z
  .object({
    // Runtime, Kafka and the disk spool (SPOOL_*), as every source has (docs/configuration.md).
    ...sourceEnvShape(9104),
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
  .superRefine(checkSourceEnv);

export type ModbusCollectorConfig = z.infer<typeof modbusCollectorConfigSchema>;
