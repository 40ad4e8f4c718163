#!/usr/bin/env node
import { runService } from '@gridstream/runtime';
import { opcuaCollectorConfigSchema } from './config.js';
import { startOpcuaCollector } from './opcua-collector-service.js';

await runService({ name: 'opcua-collector', schema: opcuaCollectorConfigSchema, start: startOpcuaCollector });
