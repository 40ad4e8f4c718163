import { runService } from '@gridstream/runtime';
import { startModbusCollector } from './collector-service.js';
import { modbusCollectorConfigSchema } from './config.js';

await runService({
  name: 'modbus-collector',
  schema: modbusCollectorConfigSchema,
  start: startModbusCollector,
});
