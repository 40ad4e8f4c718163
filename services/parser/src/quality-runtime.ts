import { createInfluxSink, influxConfigFromEnv } from '@gridstream/influx';
import {
  counter,
  gauge,
  type Kafka,
  type OutMessage,
  partitionOfKey,
  type ReliableProducer,
  readTopicToEnd,
  type TopicPartitions,
  topicPartitionCount,
} from '@gridstream/kafka';
import { loadQualityConfig, QualityStage, type SliceOffsets } from '@gridstream/quality';
import type { Logger } from '@gridstream/runtime';
import { type AlarmEvent, alarmKey, type ParsedRecord } from '@gridstream/schema';
import type { Registry } from 'prom-client';
import type { ParserConfig } from './config.js';
import { runFenceJob } from './fence-job.js';

/**
 * The quality stage as the parser runs it (docs/quality.md): between parsing and producing, so every
 * record on telemetry.parsed already carries its flags, and the alarm events of a slice go out in the
 * SAME produce request as its records, committed with the slice. Everything that touches the stage's
 * state — slices, the missing-device timer, a rebalance — runs one at a time through `serial`.
 */
export interface QualityRuntime {
  readonly enabled: boolean;
  /**
   * Checks the records (in place) and calls `produce` with the slice's alarm events; commit-or-undo.
   * `offsets` (the slice's raw messages) lets a redelivered slice get the same flags as the first time.
   */
  run(
    records: ParsedRecord[],
    partition: number,
    produce: (alarms: OutMessage[]) => Promise<void>,
    offsets?: SliceOffsets,
  ): Promise<void>;
  onAssignment(assigned: TopicPartitions[]): void;
  stop(): Promise<void>;
}

interface Deps {
  config: ParserConfig;
  kafka: Kafka;
  producer: ReliableProducer;
  logger: Logger;
  metrics: Registry;
  /** Injectable for tests. */
  clock?: () => number;
}

const DISABLED: QualityRuntime = {
  enabled: false,
  run: (_records, _partition, produce) => produce([]),
  onAssignment: () => undefined,
  stop: async () => undefined,
};

export async function createQualityRuntime(deps: Deps): Promise<QualityRuntime> {
  const { config, kafka, producer, metrics } = deps;
  if (config.QUALITY_CONFIG === undefined) return DISABLED;
  const log = deps.logger.child({ component: 'quality' });
  const qualityConfig = await loadQualityConfig(config.QUALITY_CONFIG);
  const alarmsTopic = config.KAFKA_TOPIC_ALARMS;

  const flagsTotal = counter(
    metrics,
    'gridstream_quality_flags_total',
    'Quality flags added by the quality stage',
    ['flag'],
  );
  const alarmsTotal = counter(metrics, 'gridstream_alarm_events_total', 'Alarm events produced', [
    'rule',
    'state',
  ]);
  const errorsTotal = counter(
    metrics,
    'gridstream_quality_errors_total',
    'Records the quality stage could not check (internal error; produced unchecked)',
  );
  const redeliveries = counter(
    metrics,
    'gridstream_quality_redeliveries_total',
    'Slices checked again after their offset commit failed (exact: same flags; reset: series state restarted)',
    ['mode'],
  );
  const internalFailures = counter(
    metrics,
    'gridstream_quality_internal_failures_total',
    'Background quality work (missing-device check, assignment) that failed unexpectedly',
    ['task'],
  );
  const fencesRuns = counter(metrics, 'gridstream_quality_fence_runs_total', 'Anomaly fence computations', [
    'outcome',
  ]);
  const fencesSeries = gauge(metrics, 'gridstream_quality_fences', 'Series with anomaly fences in use');
  const restoredGauge = gauge(
    metrics,
    'gridstream_alarms_restored',
    'Active alarm episodes restored at the last assignment',
  );

  const stage = new QualityStage(qualityConfig, {
    ...(deps.clock ? { clock: deps.clock } : {}),
    onError: (error, record) => {
      errorsTotal.inc();
      log.error(
        { err: error, site: record?.site, device: record?.device },
        'quality check failed; record produced unchecked',
      );
    },
  });
  log.info(
    {
      config: config.QUALITY_CONFIG,
      fieldRules: qualityConfig.fieldRules.length,
      alarms: qualityConfig.alarms.length,
      expectedDevices: qualityConfig.expectedDevices.length,
    },
    'quality stage on',
  );

  // Which sites this member owns: raw messages are keyed by site with Kafka's default partitioner.
  const rawPartitions = await topicPartitionCount(kafka, config.KAFKA_TOPIC_RAW);

  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };

  let owned = new Set<number>();
  let assigned = false;
  let needsRestore = false;

  const restore = async (): Promise<void> => {
    // Tombstones carry nothing to restore; an unreadable value must not keep the parser from starting
    // (the stage validates every event it restores anyway).
    const values = (await readTopicToEnd(kafka, alarmsTopic)).flatMap((m) => {
      if (m.value === null) return [];
      try {
        return [JSON.parse(m.value.toString('utf8')) as unknown];
      } catch {
        return [];
      }
    });
    const active = stage.restore(values);
    needsRestore = false;
    restoredGauge.set(active);
    log.info({ events: values.length, active }, 'alarm episodes restored');
  };

  const toMessages = (events: AlarmEvent[]): OutMessage[] =>
    events.map((e) => ({ key: alarmKey(e), value: JSON.stringify(e) }));

  const countEvents = (events: AlarmEvent[]) => {
    for (const e of events) alarmsTotal.inc({ rule: e.rule, state: e.state });
  };

  // Background work runs detached from any caller: a throw from the stage there (a bug) would be an
  // unhandled rejection, which shuts the whole parser down. Logged and counted instead.
  const detached = (task: string, work: () => Promise<void>): void => {
    serial(work).catch((error: unknown) => {
      internalFailures.inc({ task });
      log.error({ err: error, task }, 'quality background work failed');
    });
  };

  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  if (stage.hasExpectedDevices) {
    timers.push(
      setInterval(() => {
        if (!assigned || stopped) return;
        detached('missing_check', async () => {
          if (needsRestore) return;
          let events: AlarmEvent[];
          try {
            events = stage.checkMissing();
          } catch (error) {
            stage.rollback(); // a half-done check must not ride along in the next slice's transaction
            throw error;
          }
          if (events.length === 0) {
            stage.commit();
            return;
          }
          try {
            await producer.send(alarmsTopic, toMessages(events));
            stage.commit();
            countEvents(events);
          } catch (error) {
            // Undone, so the next check raises it again: the alarm is late, never lost.
            stage.rollback();
            log.warn({ err: error }, 'producing device_missing events failed; retried at the next check');
          }
        });
      }, config.QUALITY_MISSING_CHECK_MS),
    );
  }

  let fenceSink: ReturnType<typeof createInfluxSink> | undefined;
  if (config.QUALITY_FENCES_INTERVAL_MS > 0) {
    const influx = influxConfigFromEnv(config);
    fenceSink = createInfluxSink(influx);
    const sink = fenceSink;
    let running = false;
    const computeNow = async () => {
      if (running || stopped) return;
      running = true;
      try {
        const { map } = await runFenceJob(
          {
            influx,
            rules: qualityConfig.fieldRules,
            window: config.QUALITY_FENCES_WINDOW,
            resample: config.QUALITY_FENCES_RESAMPLE === 'raw' ? '' : config.QUALITY_FENCES_RESAMPLE,
            minSamples: qualityConfig.fences.minSamples,
          },
          sink,
        );
        stage.setFences(map);
        fencesSeries.set(map.size);
        fencesRuns.inc({ outcome: 'ok' });
      } catch (error) {
        // The previous fences stay in use: a flaky InfluxDB must not switch anomaly detection off.
        fencesRuns.inc({ outcome: 'failed' });
        log.warn({ err: error }, 'computing anomaly fences failed; the previous ones stay in use');
      } finally {
        running = false;
      }
    };
    void computeNow();
    timers.push(setInterval(() => void computeNow(), config.QUALITY_FENCES_INTERVAL_MS));
  }

  return {
    enabled: true,
    run(records, partition, produce, offsets) {
      return serial(async () => {
        if (needsRestore) await restore(); // throws: the consumer loop retries the slice
        const result = stage.process(records, partition, offsets);
        if (result.redelivery !== undefined) {
          redeliveries.inc({ mode: result.redelivery });
          log.info(
            { partition, offsets, mode: result.redelivery },
            'slice seen again (offset commit failed); checked against the state before it',
          );
        }
        try {
          await produce(toMessages(result.events));
        } catch (error) {
          stage.rollback();
          throw error;
        }
        stage.commit();
        countEvents(result.events);
        for (const [flag, n] of Object.entries(result.flagsAdded)) flagsTotal.inc({ flag }, n);
      });
    },
    onAssignment(assignment) {
      const partitions = assignment
        .filter((a) => a.topic === config.KAFKA_TOPIC_RAW)
        .flatMap((a) => a.partitions);
      const gained = partitions.some((p) => !owned.has(p));
      owned = new Set(partitions);
      const mine = owned;
      detached('assignment', async () => {
        stage.assign(partitions, (site) => mine.has(partitionOfKey(site, rawPartitions)));
        assigned = true;
        // Episodes of partitions new to this member are in the alarms topic, written by their last owner.
        if (gained || needsRestore) {
          needsRestore = true;
          await restore().catch((error: unknown) =>
            log.warn({ err: error }, 'restoring alarm episodes failed; retried before the next slice'),
          );
        }
      });
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await tail;
      await fenceSink?.close();
    },
  };
}
