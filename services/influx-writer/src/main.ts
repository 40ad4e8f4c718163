import { runService } from '@gridstream/runtime';
import { writerConfigSchema } from './config.js';
import { startWriter } from './writer-service.js';

await runService({ name: 'influx-writer', schema: writerConfigSchema, start: startWriter });
