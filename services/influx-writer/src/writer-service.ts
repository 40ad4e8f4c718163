import { createInfluxSink, influxConfigFromEnv, recordToLine } from '@gridstream/influx';
import {
  alarmActionsTopicRequest,
  alarmsTopicRequest,
  type BatchContext,
  type ConsumerHandle,
  counter,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  histogram,
  type InMessage,
  OffsetProgress,
  type OutMessage,
  ReliableProducer,
  runConsumer,
} from '@gridstream/kafka';
import { backoffDelay, type RunningService, type ServiceContext, sleep } from '@gridstream/runtime';
import { decodeParsed } from '@gridstream/schema';
import {
  ALARM_ACTIONS_MEASUREMENT,
  ALARMS_MEASUREMENT,
  alarmActionToLine,
  alarmToLine,
  InvalidAlarmError,
  parseAlarm,
  parseAlarmAction,
} from './alarm-line.js';
import type { WriterConfig } from './config.js';
import { type BatchItem, LineBatcher } from './line-batcher.js';
import { writeWithSplit } from './write-with-split.js';

/**
 * telemetry.parsed (and telemetry.alarms, unless WRITER_ALARMS=false) → InfluxDB. Offsets are committed
 * only after InfluxDB answered 2xx for every point of the slice and of every slice before it in its
 * partition (or the refused points are safely in the DLQ). Intake does not wait for the writes: slices are
 * decoded while up to WRITER_WRITES_IN_FLIGHT writes run, and a partition's commit moves when the writes
 * holding its lines have returned (OffsetProgress). While InfluxDB is down every write retries with
 * backoff and intake stops once a batch is waiting: nothing is dropped, nothing is skipped. Alarms ride
 * in the same consumer and the same batches as records, so they get exactly the same guarantees.
 */
/**
 * What a point came from: its Kafka message and, in a message of records (format v2), the record's index.
 * Not the record itself: the refs live until InfluxDB answers, and holding every decoded record that long
 * was most of the writer's heap; a refusal (rare) decodes its message again.
 */
interface PointRef {
  message: InMessage;
  index?: number;
}

/**
 * The dead letter of one point: its whole message for a v1 message, else the refused record alone as a
 * version-1 record (its message's key, headers and position), so that the letter holds what was refused and
 * nothing that was written.
 */
function letterFor(ref: PointRef, reason: 'invalid_record' | 'sink_rejected', message: string): OutMessage {
  const input = { stage: 'influx-writer' as const, reason, message };
  if (ref.index === undefined) return deadLetterFor(ref.message, input);
  const record = decodeParsed(ref.message.value).records[ref.index];
  return deadLetterFor({ ...ref.message, value: Buffer.from(JSON.stringify(record)) }, input);
}

export async function startWriter(ctx: ServiceContext<WriterConfig>): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const kafka = createKafka(config, logger);
  const alarmsTopic = config.WRITER_ALARMS ? config.KAFKA_TOPIC_ALARMS : undefined;
  const actionsTopic = config.WRITER_ALARMS ? config.KAFKA_TOPIC_ALARM_ACTIONS : undefined;
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
      ...(alarmsTopic ? [alarmsTopicRequest(config), alarmActionsTopicRequest(config)] : []),
    ],
    logger,
  );
  const sink = createInfluxSink(influxConfigFromEnv(config));
  if (config.INFLUX_CREATE_DATABASE) await sink.ensureDatabase?.();
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

  const pointsWritten = counter(metrics, 'gridstream_writer_points_total', 'Points written to InfluxDB', [
    'measurement',
  ]);
  const writes = counter(metrics, 'gridstream_writer_writes_total', 'InfluxDB write requests', ['outcome']);
  const writeSeconds = histogram(metrics, 'gridstream_writer_write_seconds', 'InfluxDB write latency');
  const deadLetters = counter(metrics, 'gridstream_dead_letters_total', 'Messages dead-lettered', [
    'stage',
    'reason',
  ]);
  const tombstones = counter(
    metrics,
    'gridstream_writer_alarm_tombstones_total',
    'Tombstones (null values) on the alarms topic, skipped',
  );
  let lastWriteOk = true;
  /** Aborted at stop: writes in flight are tried once more at most, then left uncommitted. */
  const stopping = new AbortController();

  /** One write, retried until InfluxDB takes it (or refuses lines for good) or the service stops. */
  const writeLines = async (items: BatchItem<PointRef>[]) => {
    for (let attempt = 0; ; attempt++) {
      const timer = writeSeconds.startTimer();
      try {
        const rejected = await writeWithSplit(sink, items);
        writes.inc({ outcome: 'ok' });
        lastWriteOk = true;
        return rejected;
      } catch (error) {
        writes.inc({ outcome: 'error' });
        lastWriteOk = false;
        if (stopping.signal.aborted) throw error;
        const delay = backoffDelay(attempt, 200, 10_000);
        logger.warn(
          { err: error, lines: items.length, attempt, retryInMs: delay },
          'InfluxDB write failed; retrying',
        );
        await sleep(delay, stopping.signal);
        if (stopping.signal.aborted) throw error;
      } finally {
        timer();
      }
    }
  };
  const batcher = new LineBatcher<PointRef>(
    writeLines,
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

  const handle = async (messages: InMessage[], ctx: BatchContext) => {
    const items: BatchItem<PointRef>[] = [];
    const measurements: string[] = [];
    const dlq: OutMessage[] = [];
    for (const message of messages) {
      // The alarms topic is compacted: a tombstone (null value) deletes a key there, it is no alarm event
      // and no bad input. Dead-lettered as not_json it filled the DLQ with every cleanup of the topic.
      if (message.topic === alarmsTopic && message.value === null) {
        tombstones.inc();
        continue;
      }
      if (message.topic === alarmsTopic || message.topic === actionsTopic) {
        const isAction = message.topic === actionsTopic;
        try {
          const line = isAction
            ? alarmActionToLine(parseAlarmAction(message.value))
            : alarmToLine(parseAlarm(message.value));
          items.push({ line, ref: { message } });
          measurements.push(isAction ? ALARM_ACTIONS_MEASUREMENT : ALARMS_MEASUREMENT);
        } catch (error) {
          dlq.push(
            deadLetterFor(message, {
              stage: 'influx-writer',
              reason: error instanceof InvalidAlarmError ? error.reason : 'invalid_record',
              message: (error as Error).message,
            }),
          );
        }
        continue;
      }
      let decoded: ReturnType<typeof decodeParsed>;
      try {
        decoded = decodeParsed(message.value);
      } catch (error) {
        dlq.push(
          deadLetterFor(message, {
            stage: 'influx-writer',
            reason: 'invalid_record',
            message: (error as Error).message,
          }),
        );
        continue;
      }
      // A message of records (format v2): a record refused alone is dead-lettered alone.
      const bundle = decoded.format === 'v2';
      for (let index = 0; index < decoded.records.length; index++) {
        const record = decoded.records[index]!;
        const ref: PointRef = bundle ? { message, index } : { message };
        try {
          // Valid JSON that is not a record (`{}`, `[]`, `"x"`) has no fields or flags, which recordToLine
          // reads as "nothing to write": without this check it was skipped and committed, gone without a
          // dead letter.
          if (
            typeof record?.fields !== 'object' ||
            record.fields === null ||
            typeof record.flags !== 'object' ||
            record.flags === null
          ) {
            throw new Error('not a parsed record: "fields" and "flags" must be objects');
          }
          const line = recordToLine(record);
          if (line === null) continue;
          items.push({ line, ref });
          measurements.push(record.equipment);
        } catch (error) {
          dlq.push(letterFor(ref, 'invalid_record', (error as Error).message));
        }
      }
    }
    // Backpressure: a slow or absent InfluxDB stops intake here, not in an ever-growing batch.
    await batcher.room(ctx.signal);
    if (ctx.signal.aborted) return { commitOffset: null };
    const mark = progress.open(ctx.topic, ctx.partition, BigInt(messages.at(-1)!.offset) + 1n);
    const finished = batcher
      .add(items)
      .then(async (rejected) => {
        for (const r of rejected) {
          dlq.push(letterFor(r.ref, 'sink_rejected', r.message));
        }
        await sendLetters(dlq);
        for (const letter of dlq)
          deadLetters.inc({ stage: 'influx-writer', reason: letter.headers!['gs-dlq-reason']! });
        // One counter update per measurement and slice, not per point: this runs for every point written.
        const refused = new Set(rejected.map((r) => r.ref));
        const written = new Map<string, number>();
        items.forEach((item, i) => {
          if (!refused.has(item.ref)) written.set(measurements[i]!, (written.get(measurements[i]!) ?? 0) + 1);
        });
        for (const [measurement, count] of written) pointsWritten.inc({ measurement }, count);
        progress.finish(mark);
        await commitDue();
      })
      .catch((error: unknown) => {
        // Only a stop gives up on a slice: it stays uncommitted and is read again after the restart.
        logger.info({ err: error, partition: ctx.partition }, 'slice left uncommitted at stop');
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
    // finish into nothing (their points are simply written again, which InfluxDB takes as the same points).
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
  readiness.add('influxdb', () => ({
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
      await sink.close();
    },
  };
}
