export { backoffDelay, sleep } from './backoff.js';
export {
  buildHealthApp,
  type HealthServer,
  type HealthServerOptions,
  startHealthServer,
} from './health-server.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
export { createMetricsRegistry } from './metrics.js';
export {
  METRICS_MEASUREMENT,
  type MetricSnapshot,
  type MetricsPushEnv,
  type MetricsPusher,
  type MetricsPusherOptions,
  metricsPushEnvShape,
  metricsPushFromEnv,
  metricsToLines,
  startMetricsPush,
} from './metrics-push.js';
export { isProcessAlive } from './process-alive.js';
export {
  type CheckResult,
  type LifecycleState,
  Readiness,
  type ReadinessCheck,
  type ReadinessReport,
} from './readiness.js';
export { PINO_REDACT_PATHS, redactLogObject, redactSecrets, redactUrl } from './redact.js';
export {
  EXIT_CONFIG,
  type RunningService,
  type RuntimeEnv,
  runService,
  runtimeEnvShape,
  type ServiceContext,
} from './run-service.js';
