import { runService } from '@gridstream/runtime';
import { startArchiver } from './archiver-service.js';
import { archiverConfigSchema } from './config.js';

await runService({ name: 'archiver', schema: archiverConfigSchema, start: startArchiver });
