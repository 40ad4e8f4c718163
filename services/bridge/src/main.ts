#!/usr/bin/env node
import { runService } from '@gridstream/runtime';
import { startBridge } from './bridge-service.js';
import { bridgeConfigSchema } from './config.js';

await runService({ name: 'bridge', schema: bridgeConfigSchema, start: startBridge });
