import { runService } from '@gridstream/runtime';
import { timescaleWriterConfigSchema } from './config.js';
import { startTimescaleWriter } from './writer-service.js';

await runService({
  name: 'timescale-writer',
  schema: timescaleWriterConfigSchema,
  start: startTimescaleWriter,
});
