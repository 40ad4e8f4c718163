import type { FastifyPluginAsync } from 'fastify';
import { alarmsPage } from '../alarm-pages.js';
import { type RouteOptions, sendHtml } from './shared.js';

/** Active alarms, from the compacted alarms topic. */
export const alarmsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { config, alarms }) => {
  app.get('/alarms', async (_req, reply) =>
    sendHtml(reply, alarmsPage(alarms.active(), config.KAFKA_TOPIC_ALARMS, alarms.invalid)),
  );
  app.get('/api/alarms', async () => ({ active: alarms.active(), invalid: alarms.invalid }));
};
