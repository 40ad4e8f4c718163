import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import type { ImportSink } from '@gridstream/importer';
import { counter, type ReliableProducer } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AlarmBoard } from './alarm-board.js';
import {
  API_OPERATOR,
  bearerToken,
  hostAllowed,
  LoginThrottle,
  originAllowed,
  SESSION_COOKIE,
  SessionSigner,
  secretEquals,
} from './auth.js';
import type { ConsoleConfig } from './config.js';
import type { DeadLetterStore } from './dead-letters.js';
import type { ImportJobs } from './import-jobs.js';
import { errorPage } from './pages.js';
import type { PipelineMonitor } from './pipeline-monitor.js';
import { alarmsRoutes } from './routes/alarms.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { importRoutes } from './routes/import.js';
import { loginRoutes } from './routes/login.js';
import { openapiRoutes } from './routes/openapi.js';
import { pipelineRoutes } from './routes/pipeline.js';
import { queryRoutes } from './routes/query.js';
import { sendHtml } from './routes/shared.js';
import { staticRoutes } from './routes/static.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: the name given at login, or API_OPERATOR for a bearer token ('' before authentication). */
    operator: string;
  }
}

export interface ConsoleDeps {
  config: ConsoleConfig;
  logger: Logger;
  metrics: Registry;
  monitor: PipelineMonitor;
  deadLetters: DeadLetterStore;
  producer: ReliableProducer;
  alarms: AlarmBoard;
  jobs: ImportJobs;
  importSink: ImportSink;
}

/**
 * The console's HTTP app: what every request goes through (host and origin checks, authentication,
 * security headers, error pages) is here; each page's routes are a plugin of their own under routes/.
 * Built without listening so tests can use `inject` as well as a real port.
 */
export async function buildConsoleApp(deps: ConsoleDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024 * 1024,
    // Time to receive a whole request (headers and body; what is streamed back, such as an import's SSE
    // progress, is not limited by it): a client trickling bytes cannot hold a connection for ever.
    requestTimeout: 120_000,
    // Open SSE streams would otherwise keep close() waiting until every browser tab goes away.
    forceCloseConnections: true,
  });
  const signer = new SessionSigner(config.CONSOLE_SESSION_SECRET, config.CONSOLE_SESSION_HOURS * 3_600_000);
  const logins = counter(deps.metrics, 'gridstream_console_logins_total', 'Login attempts by outcome', [
    'outcome',
  ]);
  const throttle = new LoginThrottle();

  app.decorateRequest('operator', '');
  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: config.CONSOLE_UPLOAD_MAX_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 },
  });

  app.setNotFoundHandler(async (req, reply) =>
    req.url.startsWith('/api/')
      ? reply.code(404).send({ error: 'not found' })
      : sendHtml(reply, errorPage('Not found', 'There is no such page.'), 404),
  );
  app.setErrorHandler(async (error, req, reply) => {
    logger.error({ err: error, url: req.url }, 'console request failed');
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = status < 500 ? (error as Error).message : 'Internal error (see the console log).';
    return req.url.startsWith('/api/')
      ? reply.code(status).send({ error: message })
      : sendHtml(reply, errorPage('Error', message), status);
  });

  // Security headers from @fastify/helmet (kept up to date with what browsers honour) with our policy:
  // scripts only from our own files, nothing framed, nothing posted elsewhere. HSTS only where the console is
  // served over HTTPS (CONSOLE_SECURE_COOKIES): over plain HTTP browsers ignore it anyway.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    hsts: config.CONSOLE_SECURE_COOKIES ? { maxAge: 15_552_000 } : false,
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  // A ceiling on requests per address and minute (@fastify/rate-limit), before authentication, so a
  // flood costs a 429 and not a page render or a Kafka read; failed logins have their own, stricter budget.
  // As an app-level hook: the plugin's per-route hooks would run after the authentication hook below, so
  // unauthenticated requests (the ones a flood is made of) were never counted.
  await app.register(rateLimit, {
    global: false,
    max: config.CONSOLE_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    cache: 10_000,
    // Thrown into the error handler below, which answers JSON under /api/ and a page elsewhere.
    errorResponseBuilder: (_req, context) =>
      Object.assign(
        new Error(
          `Too many requests: at most ${context.max} a minute from one address; try again in ${context.after}.`,
        ),
        { statusCode: 429 },
      ),
  });

  const tokenOk = (token: string): boolean =>
    (config.CONSOLE_TOKEN !== undefined && secretEquals(token, config.CONSOLE_TOKEN)) ||
    (config.CONSOLE_PASSWORD !== undefined && secretEquals(token, config.CONSOLE_PASSWORD));

  app.addHook('onRequest', app.rateLimit());

  // Every route is behind authentication except the login form itself.
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host, config.CONSOLE_ALLOWED_HOSTS, config.CONSOLE_ALLOWED_ORIGINS)) {
      return reply
        .code(421)
        .type('text/plain')
        .send('unknown host: add it to CONSOLE_ALLOWED_HOSTS to reach the console by this name');
    }
    const path = req.url.split('?')[0]!;
    const stateChanging = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
    const bearer = bearerToken(req.headers.authorization);
    if (bearer !== undefined) {
      // A bearer token is sent deliberately by a script, never attached by a browser: no CSRF check.
      if (throttle.blocked(req.ip)) {
        logins.inc({ outcome: 'throttled' });
        return reply.code(429).send({ error: 'too many failed attempts; wait a few minutes' });
      }
      if (tokenOk(bearer)) {
        req.operator = API_OPERATOR;
        return;
      }
      throttle.failed(req.ip);
      logins.inc({ outcome: 'failed' });
      logger.warn({ ip: req.ip }, 'console bearer token refused');
      return reply.code(401).send({ error: 'invalid token' });
    }
    if (
      stateChanging &&
      !originAllowed(
        { origin: req.headers.origin, referer: req.headers.referer, host: req.headers.host },
        config.CONSOLE_ALLOWED_ORIGINS,
      )
    ) {
      return reply.code(403).type('text/plain').send('cross-origin request refused');
    }
    if (path === '/login') return;
    const operator = signer.operator(req.cookies[SESSION_COOKIE]);
    if (operator !== undefined) {
      req.operator = operator;
      return;
    }
    if (path.startsWith('/api/')) return reply.code(401).send({ error: 'log in first' });
    if (req.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    return reply.code(401).type('text/plain').send('log in first');
  });

  await app.register(loginRoutes, { ...deps, signer, throttle, logins });
  await app.register(staticRoutes);
  await app.register(pipelineRoutes, deps);
  await app.register(deadLetterRoutes, deps);
  await app.register(alarmsRoutes, deps);
  await app.register(importRoutes, deps);
  await app.register(queryRoutes, deps);
  await app.register(openapiRoutes);
  return app;
}
