import { runService } from '@gridstream/runtime';
import { consoleConfigSchema } from './config.js';
import { startConsole } from './console-service.js';

await runService({ name: 'console', schema: consoleConfigSchema, start: startConsole });
