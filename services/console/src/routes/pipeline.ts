import type { FastifyPluginAsync } from 'fastify';
import { alarmsTable } from '../alarm-pages.js';
import { pipelinePage } from '../pages.js';
import { type RouteOptions, sendHtml } from './shared.js';

/** The pipeline page: readiness, rates, lag, dead letters and the latest alarms, and its JSON. */
export const pipelineRoutes: FastifyPluginAsync<RouteOptions> = async (
  app,
  { config, monitor, deadLetters, alarms },
) => {
  app.get('/', async (_req, reply) => reply.redirect('/pipeline', 303));
  app.get('/pipeline', async (_req, reply) => sendHtml(reply, pipelinePage()));
  app.get('/api/pipeline', async () => {
    const active = alarms.active();
    return {
      ...monitor.snapshot(),
      replays: deadLetters.replayCount,
      replayedLetters: deadLetters.replays.size,
      alarms: { active: active.length, html: alarmsTable(active.slice(0, 5)).value },
    };
  });
  app.get('/api/pipeline/history', async () => ({
    intervalMs: config.CONSOLE_POLL_INTERVAL_MS,
    points: monitor.history.toArray(),
  }));
};
