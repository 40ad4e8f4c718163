#!/usr/bin/env node
import { runService } from '@gridstream/runtime';
import { simulatorConfigSchema } from './config.js';
import { startSimulators } from './simulators.js';

await runService({
  name: 'simulator',
  schema: simulatorConfigSchema,
  // With SIM_MESSAGES set, finishing goes through the same ordered shutdown as a SIGTERM.
  start: (ctx) => startSimulators(ctx, { onFinished: () => process.kill(process.pid, 'SIGTERM') }),
});
