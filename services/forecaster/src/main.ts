import { runService } from '@gridstream/runtime';
import { forecasterConfigSchema } from './config.js';
import { startForecaster } from './forecaster-service.js';

await runService({ name: 'forecaster', schema: forecasterConfigSchema, start: startForecaster });
