import { envInt } from '@gridstream/config';
import {
  createInfluxSink,
  escapeFieldKey,
  escapeMeasurement,
  escapeTag,
  formatFloat,
  type InfluxSink,
  influxConfig,
} from '@gridstream/influx';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Logger } from './logger.js';

/**
 * Pushes a service's own Prometheus metrics into InfluxDB, so the pipeline-health dashboard reads them from
 * the same server as the telemetry — no Prometheus needed to see throughput, lag and dead letters.
 *
 *   gridstream,metric=<prometheus name>,<label>=<value>,...,service=<service> value=<float> <ms>
 *
 * One point per metric sample. Histograms contribute `_count` and `_sum` (rates and mean latency); their
 * `_bucket` series would be a dozen points per label set every interval for panels nobody draws from them.
 */
export const METRICS_MEASUREMENT = 'gridstream';

/** Spread into runtimeEnvShape: every service accepts (and docs/configuration.md documents) them. */
export const metricsPushEnvShape = {
  /** Unset: no push (the /metrics endpoint is always there). */
  METRICS_INFLUX_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as http://127.0.0.1:8086' })
    .optional(),
  METRICS_INFLUX_DB: z.string().min(1).default('gridstream_metrics'),
  METRICS_INFLUX_USERNAME: z.string().min(1).optional(),
  /** Or METRICS_INFLUX_PASSWORD_FILE (loadConfig reads it). */
  METRICS_INFLUX_PASSWORD: z.string().min(1).optional(),
  METRICS_PUSH_INTERVAL_MS: envInt(10_000, { min: 100, max: 3_600_000 }),
};

export interface MetricsPushEnv {
  METRICS_INFLUX_URL?: string;
  METRICS_INFLUX_DB?: string;
  METRICS_INFLUX_USERNAME?: string;
  METRICS_INFLUX_PASSWORD?: string;
  METRICS_PUSH_INTERVAL_MS?: number;
}

/** What `registry.getMetricsAsJSON()` answers (prom-client does not export the type by name). */
export type MetricSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** Prometheus names a histogram/summary sample carries besides the metric's own name. */
const BUCKET_SUFFIX = '_bucket';

/**
 * A registry snapshot as line protocol (no trailing newlines). Samples without a finite value (a gauge never
 * set reads NaN) are left out: a non-finite float has no line-protocol form and would fail the whole batch.
 * Empty label values are left out too: InfluxDB has no empty tags, and a query for `rack = ''` matches a
 * missing tag anyway. A sample that has no line-protocol form otherwise (a label value ending in a backslash)
 * is skipped and reported to `onSkip`: thrown, it would abort this snapshot and every later one.
 */
export function metricsToLines(
  metrics: readonly MetricSnapshot[],
  service: string,
  timeMs: number,
  onSkip?: (metric: string, error: unknown) => void,
): string[] {
  const lines: string[] = [];
  const measurement = escapeMeasurement(METRICS_MEASUREMENT);
  const suffix = ` ${timeMs}`;
  for (const metric of metrics) {
    for (const sample of metric.values) {
      const value = sample.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const name = (sample as { metricName?: string }).metricName ?? metric.name;
      if (name.endsWith(BUCKET_SUFFIX) && String(metric.type) === 'histogram') continue;
      const tags: Record<string, string> = {};
      for (const [key, labelValue] of Object.entries(sample.labels ?? {})) {
        if (labelValue === undefined || labelValue === '' || key === 'service' || key === 'metric') continue;
        tags[key] = String(labelValue);
      }
      tags.metric = name;
      tags.service = service;
      try {
        let line = measurement;
        // Sorted keys: the server's fast path, and the same series key however the labels were ordered.
        for (const key of Object.keys(tags).sort()) {
          line += `,${escapeTag(key, `labels.${key}`)}=${escapeTag(tags[key] as string, `labels.${key}`)}`;
        }
        lines.push(`${line} ${escapeFieldKey('value')}=${formatFloat(value, name)}${suffix}`);
      } catch (error) {
        onSkip?.(name, error);
      }
    }
  }
  return lines;
}

export interface MetricsPusherOptions {
  registry: Registry;
  service: string;
  url: string;
  database: string;
  username?: string;
  password?: string;
  intervalMs: number;
  logger: Logger;
  /** Per request; the final flush at stop waits at most this long. */
  timeoutMs?: number;
}

export interface MetricsPusher {
  /** One snapshot now; resolves true when InfluxDB took it. Never rejects. */
  push(): Promise<boolean>;
  /** Stops the timer and flushes once (bounded by the request timeout). Never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts the periodic push. A failed push (InfluxDB down, wrong credentials) is logged and simply tried
 * again at the next interval with a fresh snapshot — counters are cumulative, so nothing is lost but the
 * resolution of that interval — and never throws into the service: metrics must not take the pipeline down.
 */
export function startMetricsPush(options: MetricsPusherOptions): MetricsPusher {
  const log = options.logger.child({ component: 'metrics-push' });
  const sink: InfluxSink = createInfluxSink(
    influxConfig({
      url: options.url.replace(/\/+$/, ''),
      api: 'v1',
      database: options.database,
      username: options.username,
      password: options.password,
      // The v1 sink creates the database on `database not found` and sends the batch again.
      createDatabase: true,
      timeoutMs: options.timeoutMs ?? Math.min(5_000, Math.max(1_000, options.intervalMs)),
    }),
  );
  let inFlight: Promise<boolean> | undefined;
  let failing = false;
  let skippedTotal = 0;
  /** Metrics whose skipped samples were logged already: a bad label stays bad every interval. */
  const skippedLogged = new Set<string>();
  const onSkip = (metric: string, error: unknown): void => {
    skippedTotal++;
    if (skippedLogged.has(metric) || skippedLogged.size >= 100) return;
    skippedLogged.add(metric);
    log.warn({ err: error, metric, skippedTotal }, 'metric sample not pushed: no line-protocol form');
  };
  let stopped = false;

  const pushOnce = async (): Promise<boolean> => {
    try {
      const snapshot = await options.registry.getMetricsAsJSON();
      const lines = metricsToLines(snapshot, options.service, Date.now(), onSkip);
      await sink.write(lines);
      if (failing) log.info({ database: options.database }, 'metrics push to InfluxDB works again');
      failing = false;
      return true;
    } catch (error) {
      // Once per outage at warn, then quietly: a down metrics server must not flood the service's log.
      if (!failing)
        log.warn(
          { err: error, database: options.database },
          'metrics push to InfluxDB failed; retrying next interval',
        );
      else log.debug({ err: error }, 'metrics push to InfluxDB failed again');
      failing = true;
      return false;
    }
  };

  const push = (): Promise<boolean> => {
    // A slow server must not pile up overlapping pushes; the next tick takes a fresher snapshot anyway.
    inFlight ??= pushOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const timer = setInterval(() => {
    if (!stopped) void push();
  }, options.intervalMs);
  // The push alone must never keep a process alive that has finished everything else.
  timer.unref();
  log.info({ database: options.database, intervalMs: options.intervalMs }, 'pushing metrics to InfluxDB');

  return {
    push,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inFlight;
      // The last counts of a run (the final batch, the commit) are in this flush.
      await push();
      await sink.close().catch(() => undefined);
    },
  };
}

/** The pusher a service's config asks for, or undefined when METRICS_INFLUX_URL is unset. */
export function metricsPushFromEnv(
  env: MetricsPushEnv,
  registry: Registry,
  service: string,
  logger: Logger,
): MetricsPusher | undefined {
  if (!env.METRICS_INFLUX_URL) return undefined;
  if (env.METRICS_INFLUX_USERNAME && !env.METRICS_INFLUX_PASSWORD) {
    // Sent anyway: InfluxDB with auth off ignores credentials, with auth on the failure is logged per outage.
    logger.warn('METRICS_INFLUX_USERNAME is set without METRICS_INFLUX_PASSWORD');
  }
  return startMetricsPush({
    registry,
    service,
    url: env.METRICS_INFLUX_URL,
    database: env.METRICS_INFLUX_DB ?? 'gridstream_metrics',
    username: env.METRICS_INFLUX_USERNAME,
    password: env.METRICS_INFLUX_PASSWORD,
    intervalMs: env.METRICS_PUSH_INTERVAL_MS ?? 10_000,
    logger,
  });
}
