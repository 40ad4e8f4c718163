import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import type { Readiness } from './readiness.js';

export interface HealthServerOptions {
  host: string;
  port: number;
  readiness: Readiness;
  metrics: Registry;
  logger: Logger;
}

export interface HealthServer {
  /** The bound address, useful when port 0 picked a free one (tests). */
  url: string;
  close(): Promise<void>;
}

/** Builds the app without listening, so tests can `inject` requests. */
export function buildHealthApp(options: Omit<HealthServerOptions, 'host' | 'port'>): FastifyInstance {
  const app = Fastify({ logger: false });
  // Liveness answers as long as the event loop turns: a supervisor restarts only a wedged process.
  app.get('/healthz/live', async () => ({ live: true }));
  app.get('/healthz/ready', async (_req, reply) => {
    const report = options.readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await options.metrics.metrics();
    return reply.header('content-type', options.metrics.contentType).send(body);
  });
  return app;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app = buildHealthApp(options);
  const url = await app.listen({ host: options.host, port: options.port });
  options.logger.info({ url }, 'health and metrics endpoints listening');
  return { url, close: () => app.close() };
}
