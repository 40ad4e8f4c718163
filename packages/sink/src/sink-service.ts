import {
  alarmActionsTopicRequest,
  alarmsTopicRequest,
  type BatchContext,
  type ConsumerHandle,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  type InMessage,
  type KafkaEnv,
  OffsetProgress,
  type OutMessage,
  ReliableProducer,
  runConsumer,
} from '@gridstream/kafka';
import { backoffDelay, type RunningService, type ServiceContext, sleep } from '@gridstream/runtime';
import { decodeParsed } from '@gridstream/schema';
import { InvalidAlarmError, parseAlarm, parseAlarmAction } from './alarm-input.js';
import { type BatchItem, PointBatcher } from './point-batcher.js';
import type { SinkEnv } from './sink-env.js';
import { sinkMetrics } from './sink-metrics.js';
import type { SinkTarget } from './sink-target.js';
import { writeWithSplit } from './write-with-split.js';

export type SinkServiceConfig = KafkaEnv & SinkEnv;

/** The label of alarm points in `gridstream_sink_points_total{measurement}`. */
const ALARMS_LABEL = 'alarms';
const ALARM_ACTIONS_LABEL = 'alarm_actions';

/**
 * What a point came from: its Kafka message and, in a message of records (format v2), the record's index.
 * Not the record itself: the refs live until the sink answers, and holding every decoded record that long
 * was most of the influx-writer's heap; a refusal (rare) decodes its message again.
 */
interface PointRef {
  message: InMessage;
  index?: number;
}

/**
 * telemetry.parsed (and the alarm topics, when the target stores alarms and WRITER_ALARMS is on) → one
 * sink. Offsets are committed only after the sink accepted every point of the slice and of every slice
 * before it in its partition (or the refused points are safely in the DLQ): with the parser's
 * transactional output that is exactly once into any sink whose writes overwrite themselves. Intake does
 * not wait for the writes: slices are decoded while up to WRITER_WRITES_IN_FLIGHT writes run, and a
 * partition's commit moves when the writes holding its points have returned (OffsetProgress). While the
 * sink is down every write retries with backoff and intake stops once a batch is waiting: nothing is
 * dropped, nothing is skipped. Alarms ride in the same consumer and batches, with the same guarantees.
 */
export async function startSinkService<P>(
  ctx: ServiceContext<SinkServiceConfig>,
  target: SinkTarget<P>,
): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const stage = target.stage;
  const kafka = createKafka(config, logger);
  const alarmsTopic = config.WRITER_ALARMS && target.alarmPoints ? config.KAFKA_TOPIC_ALARMS : undefined;
  const actionsTopic =
    config.WRITER_ALARMS && target.alarmActionPoints ? config.KAFKA_TOPIC_ALARM_ACTIONS : undefined;
  const inputs = [
    config.KAFKA_TOPIC_PARSED,
    ...(alarmsTopic ? [alarmsTopic] : []),
    ...(actionsTopic ? [actionsTopic] : []),
  ];
  await ensureConfiguredTopics(
    kafka,
    config,
    [
      config.KAFKA_TOPIC_PARSED,
      config.KAFKA_TOPIC_DLQ,
      ...(alarmsTopic ? [alarmsTopicRequest(config)] : []),
      ...(actionsTopic ? [alarmActionsTopicRequest(config)] : []),
    ],
    logger,
  );
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

  const m = sinkMetrics(metrics);
  const sink = { sink: target.name };
  let lastWriteOk = true;
  /** Aborted at stop: writes in flight are tried once more at most, then left uncommitted. */
  const stopping = new AbortController();

  /**
   * The dead letter of one point: its whole message for a v1 message, else the refused record alone as a
   * version-1 record (its message's key, headers and position), so that the letter holds what was refused
   * and nothing that was written.
   */
  const letterFor = (
    ref: PointRef,
    reason: 'invalid_record' | 'sink_rejected',
    message: string,
  ): OutMessage => {
    const input = { stage, reason, message };
    if (ref.index === undefined) return deadLetterFor(ref.message, input);
    const record = decodeParsed(ref.message.value).records[ref.index];
    return deadLetterFor({ ...ref.message, value: Buffer.from(JSON.stringify(record)) }, input);
  };

  /** One write, retried until the sink takes it (or refuses points for good) or the service stops. */
  const writePoints = async (items: BatchItem<P, PointRef>[]) => {
    for (let attempt = 0; ; attempt++) {
      const timer = m.writeSeconds.startTimer(sink);
      try {
        const rejected = await writeWithSplit((points: P[]) => target.write(points), items);
        m.writes.inc({ ...sink, outcome: 'ok' });
        lastWriteOk = true;
        return rejected;
      } catch (error) {
        m.writes.inc({ ...sink, outcome: 'error' });
        lastWriteOk = false;
        if (stopping.signal.aborted) throw error;
        const delay = backoffDelay(attempt, 200, 10_000);
        logger.warn(
          { err: error, points: items.length, attempt, retryInMs: delay },
          `${target.name} write failed; retrying`,
        );
        await sleep(delay, stopping.signal);
        if (stopping.signal.aborted) throw error;
      } finally {
        timer();
      }
    }
  };
  const batcher = new PointBatcher<P, PointRef>(
    writePoints,
    config.WRITER_BATCH_SIZE,
    config.WRITER_LINGER_MS,
    config.WRITER_WRITES_IN_FLIGHT,
  );

  /** Dead letters of a slice, sent before its offsets may be committed; a Kafka outage is waited out. */
  const sendLetters = async (letters: OutMessage[]) => {
    for (let attempt = 0; letters.length > 0; attempt++) {
      try {
        await producer.send(config.KAFKA_TOPIC_DLQ, letters);
        return;
      } catch (error) {
        if (stopping.signal.aborted) throw error;
        const delay = backoffDelay(attempt, 200, 10_000);
        logger.warn({ err: error, attempt, retryInMs: delay }, 'dead letters not sent; retrying');
        await sleep(delay, stopping.signal);
      }
    }
  };

  const progress = new OffsetProgress();
  /** Slices whose writes or dead letters are still on their way (stop waits for them). */
  const finishing = new Set<Promise<void>>();
  let consumer: ConsumerHandle | undefined;
  let committing: Promise<void> | undefined;
  let commitAgain = false;
  /** Commits whatever finished; one commit at a time, the latest progress each round. */
  const commitDue = (): Promise<void> => {
    if (committing) {
      commitAgain = true;
      return committing;
    }
    committing = (async () => {
      do {
        commitAgain = false;
        const due = progress.due();
        if (due.length === 0 || consumer === undefined) break;
        try {
          await consumer.commit(due);
          progress.committed(due);
        } catch (error) {
          // A membership error: kafkajs rejoins at its next heartbeat and the partitions are read again
          // from the last commit; anything else is tried again with the next finished slice.
          logger.warn({ err: error }, 'commit failed');
          break;
        }
      } while (commitAgain);
    })().finally(() => {
      committing = undefined;
    });
    return committing;
  };

  /** An alarm or alarm-action message's points; a bad one is dead-lettered with its reason. */
  const alarmItems = (
    message: InMessage,
    items: BatchItem<P, PointRef>[],
    labels: string[],
    dlq: OutMessage[],
  ) => {
    const isAction = message.topic === actionsTopic;
    try {
      const points = isAction
        ? target.alarmActionPoints!(parseAlarmAction(message.value))
        : target.alarmPoints!(parseAlarm(message.value));
      for (const point of points) {
        items.push({ point, ref: { message } });
        labels.push(isAction ? ALARM_ACTIONS_LABEL : ALARMS_LABEL);
      }
    } catch (error) {
      dlq.push(
        deadLetterFor(message, {
          stage,
          reason: error instanceof InvalidAlarmError ? error.reason : 'invalid_record',
          message: (error as Error).message,
        }),
      );
    }
  };

  const handle = async (messages: InMessage[], batch: BatchContext) => {
    const items: BatchItem<P, PointRef>[] = [];
    const labels: string[] = [];
    const dlq: OutMessage[] = [];
    for (const message of messages) {
      // The alarms topic is compacted: a tombstone (null value) deletes a key there, it is no alarm event
      // and no bad input. Dead-lettered as not_json it filled the DLQ with every cleanup of the topic.
      if (message.topic === alarmsTopic && message.value === null) {
        m.tombstones.inc(sink);
        continue;
      }
      if (message.topic === alarmsTopic || message.topic === actionsTopic) {
        alarmItems(message, items, labels, dlq);
        continue;
      }
      let decoded: ReturnType<typeof decodeParsed>;
      try {
        decoded = decodeParsed(message.value);
      } catch (error) {
        dlq.push(
          deadLetterFor(message, { stage, reason: 'invalid_record', message: (error as Error).message }),
        );
        continue;
      }
      // A message of records (format v2): a record refused alone is dead-lettered alone.
      const bundle = decoded.format === 'v2';
      for (let index = 0; index < decoded.records.length; index++) {
        const record = decoded.records[index]!;
        const ref: PointRef = bundle ? { message, index } : { message };
        try {
          // Valid JSON that is not a record (`{}`, `[]`, `"x"`) has no fields or flags, which a target reads
          // as "nothing to write": without this check it was skipped and committed, gone without a letter.
          if (
            typeof record?.fields !== 'object' ||
            record.fields === null ||
            typeof record.flags !== 'object' ||
            record.flags === null
          ) {
            throw new Error('not a parsed record: "fields" and "flags" must be objects');
          }
          for (const point of target.recordPoints(record)) {
            items.push({ point, ref });
            labels.push(record.equipment);
          }
        } catch (error) {
          dlq.push(letterFor(ref, 'invalid_record', (error as Error).message));
        }
      }
    }
    // Backpressure: a slow or absent sink stops intake here, not in an ever-growing batch.
    await batcher.room(batch.signal);
    if (batch.signal.aborted) return { commitOffset: null };
    const mark = progress.open(batch.topic, batch.partition, BigInt(messages.at(-1)!.offset) + 1n);
    const finished = batcher
      .add(items)
      .then(async (rejected) => {
        // One letter per refused record, even when several of its points were refused.
        const refused = new Set(rejected.map((r) => r.ref));
        const lettered = new Set<PointRef>();
        for (const r of rejected) {
          if (lettered.has(r.ref)) continue;
          lettered.add(r.ref);
          dlq.push(letterFor(r.ref, 'sink_rejected', r.message));
        }
        await sendLetters(dlq);
        for (const letter of dlq) m.deadLetters.inc({ stage, reason: letter.headers!['gs-dlq-reason']! });
        // One counter update per measurement and slice, not per point: this runs for every point written.
        const written = new Map<string, number>();
        items.forEach((item, i) => {
          if (!refused.has(item.ref)) written.set(labels[i]!, (written.get(labels[i]!) ?? 0) + 1);
        });
        for (const [measurement, count] of written) m.points.inc({ ...sink, measurement }, count);
        progress.finish(mark);
        await commitDue();
      })
      .catch((error: unknown) => {
        // Only a stop gives up on a slice: it stays uncommitted and is read again after the restart.
        logger.info({ err: error, partition: batch.partition }, 'slice left uncommitted at stop');
      })
      .finally(() => finishing.delete(finished));
    finishing.add(finished);
    return { commitOffset: null };
  };

  consumer = await runConsumer({
    kafka,
    groupId: config.WRITER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    topics: inputs,
    logger,
    metrics,
    handle,
    partitionsConsumedConcurrently: config.WRITER_CONCURRENCY,
    maxMessagesPerCall: config.WRITER_BATCH_SIZE,
    onEmptyBatch(topic, partition, next) {
      progress.skip(topic, partition, BigInt(next));
      void commitDue();
    },
    // After a rebalance every partition is read again from its last commit; slices still being written
    // finish into nothing (their points are simply written again, and each overwrites itself).
    onAssignment: () => progress.reset(),
    async beforeLeave() {
      // Intake has stopped: send what is gathered, let the writes in flight return, commit what they did.
      batcher.flush();
      await batcher.idle();
      await Promise.all(finishing);
      await commitDue();
    },
  });
  const running = consumer;
  readiness.add('consumer', () => running.check());
  readiness.add(target.name, () => ({
    ok: lastWriteOk,
    detail: lastWriteOk ? 'last write ok' : 'last write failed',
  }));

  return {
    async stop() {
      // A write failing now is not retried; what it held stays uncommitted. The consumer stops intake,
      // waits for the handlers in hand, then runs beforeLeave (flush, wait, commit) and leaves the group.
      stopping.abort();
      await running.stop();
      await producer.disconnect();
      await target.close();
    },
  };
}
