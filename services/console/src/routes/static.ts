import type { FastifyPluginAsync } from 'fastify';
import { staticFile } from '../static-files.js';

/** The console's own scripts and styles (own keys only: `/static/__proto__` is a 404). */
export const staticRoutes: FastifyPluginAsync = async (app) => {
  app.get('/static/:name', async (req, reply) => {
    const file = await staticFile((req.params as { name: string }).name);
    if (!file) return reply.code(404).send('not found');
    return reply.header('cache-control', 'private, max-age=300').type(file.type).send(file.body);
  });
};
