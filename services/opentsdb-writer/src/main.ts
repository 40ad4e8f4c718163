import { runService } from '@gridstream/runtime';
import { startSinkService } from '@gridstream/sink';
import { opentsdbWriterConfigSchema } from './config.js';
import { createOpenTsdbTarget } from './opentsdb-target.js';

await runService({
  name: 'opentsdb-writer',
  schema: opentsdbWriterConfigSchema,
  start: async (ctx) => startSinkService(ctx, createOpenTsdbTarget(ctx.config, ctx.logger)),
});
