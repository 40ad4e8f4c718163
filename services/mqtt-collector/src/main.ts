#!/usr/bin/env node
import { runService } from '@gridstream/runtime';
import { mqttCollectorConfigSchema } from './config.js';
import { startMqttCollector } from './mqtt-collector-service.js';

await runService({ name: 'mqtt-collector', schema: mqttCollectorConfigSchema, start: startMqttCollector });
