import { type FittedModel, holtWinters, SeriesError, seasonalNaive } from '@gridstream/forecast';
import { createInfluxSink, influxConfigFromEnv } from '@gridstream/influx';
import {
  alarmsTopicRequest,
  counter,
  createKafka,
  ensureConfiguredTopics,
  histogram,
  ReliableProducer,
  readTopicToEnd,
} from '@gridstream/kafka';
import { type AlarmRule, loadQualityConfig, type QualityConfig } from '@gridstream/quality';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { alarmKey } from '@gridstream/schema';
import type { ForecasterConfig } from './config.js';
import { forecastKey, forecastLines, forecastMessage } from './forecast-output.js';
import { loadForecastConfig, type SeriesConfig } from './forecast-series-config.js';
import { readHistory } from './history.js';
import { type ModelSpec, ModelStore } from './model-store.js';
import { PredictedAlarms, rulesFor } from './predicted-alarms.js';

interface SeriesState {
  s: SeriesConfig;
  spec: ModelSpec;
  rules: AlarmRule[];
  fitted?: FittedModel;
  fittedAt?: number;
  nextRun: number;
}

/**
 * The forecaster: per configured series, on its own schedule, the history from InfluxDB (mean per step),
 * a model fitted on it (refitted every `refit`, moved over the new values in between, saved to disk), a
 * forecast with its interval — to InfluxDB's `forecast` measurement and to `telemetry.forecasts`, marked
 * as predicted — and early warnings on `telemetry.alarms` when predicted values pass an alarm rule's level.
 *
 * A service of its own rather than a job of the parser or the writer: it reads history and fits models in
 * bursts of CPU on a clock, which must not stall the exactly-once record path, and one replica serves every
 * series (fitting one takes milliseconds; docs/forecast.md).
 */
export async function startForecaster(ctx: ServiceContext<ForecasterConfig>): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const series = await loadForecastConfig(config.FORECAST_CONFIG);
  const quality: QualityConfig | undefined = config.QUALITY_CONFIG
    ? await loadQualityConfig(config.QUALITY_CONFIG)
    : undefined;
  const influx = influxConfigFromEnv(config);
  const sink = createInfluxSink(influx);
  const kafka = createKafka(config, logger);
  await ensureConfiguredTopics(
    kafka,
    config,
    [config.KAFKA_TOPIC_FORECASTS, alarmsTopicRequest(config)],
    logger,
  );
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  const store = new ModelStore(config.FORECAST_MODEL_DIR);
  const predicted = new PredictedAlarms();
  const restored = predicted.restore(
    (await readTopicToEnd(kafka, config.KAFKA_TOPIC_ALARMS)).map((m) => m.value),
  );

  const runs = counter(metrics, 'gridstream_forecaster_runs_total', 'Forecast runs by outcome', ['outcome']);
  const fits = counter(metrics, 'gridstream_forecaster_fits_total', 'Models fitted on the whole history');
  const loaded = counter(
    metrics,
    'gridstream_forecaster_models_loaded_total',
    'Saved models reused at start',
  );
  const points = counter(metrics, 'gridstream_forecaster_points_total', 'Forecast points written');
  const warnings = counter(metrics, 'gridstream_forecaster_alarm_events_total', 'Predicted alarm events', [
    'state',
  ]);
  const fitSeconds = histogram(metrics, 'gridstream_forecaster_fit_seconds', 'Time to fit one model');

  const states: SeriesState[] = [];
  for (const s of series) {
    const spec: ModelSpec = { model: s.model, periods: s.periods, stepMs: s.stepMs };
    const { rules, skipped } = rulesFor(s, quality);
    if (skipped.length > 0)
      logger.warn(
        { series: s.key, skipped },
        'alarm rules left out: predicted_<name> would pass 63 characters',
      );
    const saved = await store.load(s.key, spec);
    if (saved) loaded.inc();
    states.push({ s, spec, rules, ...(saved ?? {}), nextRun: 0 });
  }
  logger.info(
    { series: states.length, modelsLoaded: states.filter((x) => x.fitted).length, openWarnings: restored },
    'forecaster started',
  );

  const modelOf = (st: SeriesState) =>
    st.s.model === 'snaive' ? seasonalNaive(st.s.periods[0]!) : holtWinters({ periods: st.s.periods });

  let lastOk = true;
  const runOne = async (st: SeriesState, now: number) => {
    const history = await readHistory(influx, st.s, now);
    if (!history.values.some(Number.isFinite)) {
      runs.inc({ outcome: 'no_data' });
      return;
    }
    const lastIndex = (m: FittedModel) => Math.round((m.end - history.start) / history.step);
    let fitted = st.fitted;
    let fittedAt = st.fittedAt;
    const due = fitted === undefined || fittedAt === undefined || now - fittedAt >= st.s.refitMs;
    if (!due && fitted !== undefined) {
      const from = lastIndex(fitted) + 1;
      // A model older than the history window cannot be moved over values it never saw the start of.
      if (from < 0) fitted = undefined;
      else if (from < history.values.length) fitted = fitted.update(history.values.slice(from));
    }
    if (due || fitted === undefined) {
      const timer = fitSeconds.startTimer();
      try {
        fitted = modelOf(st).fit(history);
      } finally {
        timer();
      }
      fittedAt = now;
      fits.inc();
    }
    const forecast = forecastMessage(
      st.s,
      fitted.label,
      fitted.forecast(st.s.horizonSteps, { level: config.FORECAST_LEVEL }),
      now,
      config.FORECAST_LEVEL,
    );
    const { events, commit } = predicted.evaluate(st.rules, forecast);
    await producer.sendBatch([
      {
        topic: config.KAFKA_TOPIC_FORECASTS,
        messages: [{ key: forecastKey(forecast), value: JSON.stringify(forecast) }],
      },
      ...(events.length > 0
        ? [
            {
              topic: config.KAFKA_TOPIC_ALARMS,
              messages: events.map((e) => ({ key: alarmKey(e), value: JSON.stringify(e) })),
            },
          ]
        : []),
    ]);
    commit();
    for (const e of events) {
      warnings.inc({ state: e.state });
      logger.info({ rule: e.rule, state: e.state, level: e.level, message: e.message }, 'predicted alarm');
    }
    await sink.write(forecastLines(forecast));
    points.inc(forecast.points.length);
    st.fitted = fitted;
    st.fittedAt = fittedAt;
    await store.save(st.s.key, st.spec, fitted, fittedAt!);
  };

  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const now = Date.now();
      for (const st of states) {
        if (stopping.signal.aborted || now < st.nextRun) continue;
        try {
          await runOne(st, now);
          runs.inc({ outcome: 'ok' });
          lastOk = true;
        } catch (error) {
          // Too little history is expected on a new site: said once per run, retried at the next one.
          runs.inc({ outcome: error instanceof SeriesError ? 'too_short' : 'error' });
          lastOk = error instanceof SeriesError;
          logger.warn({ err: error, series: st.s.key }, 'forecast run failed; trying again at the next one');
        }
        st.nextRun = now + st.s.everyMs;
      }
      await new Promise((r) => {
        const t = setTimeout(r, config.FORECAST_TICK_MS);
        stopping.signal.addEventListener('abort', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
  })();

  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: producer.isConnected ? 'connected' : 'disconnected',
  }));
  readiness.add('last-run', () => ({ ok: lastOk, detail: lastOk ? 'ok' : 'the last forecast run failed' }));

  return {
    async stop() {
      stopping.abort();
      await loop;
      await sink.close();
      await producer.disconnect();
    },
  };
}
