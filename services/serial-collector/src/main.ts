#!/usr/bin/env node
import { runService } from '@gridstream/runtime';
import { serialCollectorConfigSchema } from './config.js';
import { startSerialCollector } from './serial-collector-service.js';

await runService({
  name: 'serial-collector',
  schema: serialCollectorConfigSchema,
  start: startSerialCollector,
});
