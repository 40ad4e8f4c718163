import { ConfigError, envInt, loadConfig } from '@gridstream/config';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { startHealthServer } from './health-server.js';
import { createLogger, LOG_LEVELS, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { type MetricsPushEnv, metricsPushEnvShape, metricsPushFromEnv } from './metrics-push.js';
import { Readiness } from './readiness.js';
import { redactSecrets } from './redact.js';

/** Variables every service understands; each service merges these into its own schema. */
export function runtimeEnvShape(defaultHealthPort: number) {
  return {
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    HEALTH_HOST: z.string().default('127.0.0.1'),
    HEALTH_PORT: envInt(defaultHealthPort, { min: 0, max: 65535 }),
    SHUTDOWN_TIMEOUT_MS: envInt(30_000, { min: 1_000 }),
    ...metricsPushEnvShape,
  };
}
export interface RuntimeEnv extends MetricsPushEnv {
  LOG_LEVEL: (typeof LOG_LEVELS)[number];
  HEALTH_HOST: string;
  HEALTH_PORT: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
}

export interface RunningService {
  /** Ordered shutdown: stop intake → drain in flight → flush → commit → close clients. */
  stop(): Promise<void>;
}

/** EX_CONFIG from sysexits.h: supervisors can tell "fix the config" from "crashed". */
export const EXIT_CONFIG = 78;

/**
 * The whole life of a service process: config (every problem named, exit 78), logger, health server,
 * start, then signals → ordered stop under a hard deadline. A stop that hangs (a broker that never
 * answers) must not keep a half-dead process around forever, so the deadline exits with code 1.
 */
export async function runService<C extends RuntimeEnv>(options: {
  name: string;
  schema: z.ZodType<C>;
  start: (ctx: ServiceContext<C>) => Promise<RunningService>;
  env?: Record<string, string | undefined>;
}): Promise<void> {
  let config: C;
  try {
    config = loadConfig(options.schema, options.env ?? process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  const logger = createLogger({ service: options.name, level: config.LOG_LEVEL });
  const metrics = createMetricsRegistry(options.name);
  const readiness = new Readiness();
  logger.info({ config: redactSecrets(config) }, 'starting');
  const health = await startHealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    readiness,
    metrics,
    logger,
  });
  // Off unless METRICS_INFLUX_URL is set; started before the service so its start-up shows in the charts.
  const metricsPush = metricsPushFromEnv(config, metrics, options.name, logger);

  let running: RunningService | undefined;
  let stopping: Promise<void> | undefined;

  const shutdown = (reason: string, exitCode: number): Promise<void> => {
    if (stopping) return stopping;
    readiness.state = 'stopping';
    logger.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error(
        { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
        'shutdown deadline passed; exiting without a clean stop',
      );
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    stopping = (async () => {
      try {
        await running?.stop();
      } catch (error) {
        logger.error({ err: error }, 'error during shutdown');
        exitCode = 1;
      }
      readiness.state = 'stopped';
      // After the service stopped, so the final counts are pushed; bounded by its request timeout.
      await metricsPush?.stop();
      await health.close().catch(() => undefined);
      clearTimeout(deadline);
      logger.info({ exitCode }, 'stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  // An exception nobody caught means state we cannot trust: stop cleanly (nothing acked that was not
  // delivered) and exit non-zero so the supervisor restarts us, rather than limp on.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });

  try {
    running = await options.start({ config, logger, metrics, readiness });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    await shutdown('start failed', 1);
    return;
  }
  if (!stopping) {
    readiness.state = 'running';
    logger.info('running');
  }
}
