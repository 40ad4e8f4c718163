import { runService } from '@gridstream/runtime';
import { parserConfigSchema } from './config.js';
import { startParser } from './parser-service.js';

await runService({ name: 'parser', schema: parserConfigSchema, start: startParser });
