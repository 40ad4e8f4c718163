import { createInfluxSink, influxConfigFromEnv, recordToLine } from '@gridstream/influx';
import {
  alarmsTopicRequest,
  counter,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  histogram,
  type InMessage,
  type OutMessage,
  ReliableProducer,
  runConsumer,
} from '@gridstream/kafka';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import type { ParsedRecord } from '@gridstream/schema';
import { ALARMS_MEASUREMENT, alarmToLine, InvalidAlarmError, parseAlarm } from './alarm-line.js';
import type { WriterConfig } from './config.js';
import { type BatchItem, LineBatcher } from './line-batcher.js';
import { writeWithSplit } from './write-with-split.js';

/**
 * telemetry.parsed (and telemetry.alarms, unless WRITER_ALARMS=false) → InfluxDB. Offsets are committed
 * only after InfluxDB answered 2xx for every point of the slice (or the refused points are safely in the
 * DLQ). While InfluxDB is down, the consumer loop pauses the partitions and retries with backoff: nothing
 * is dropped, nothing is skipped. Alarms ride in the same consumer and the same batches as records, so
 * they get exactly the same guarantees without a second loop to start, stop and watch.
 */
export async function startWriter(ctx: ServiceContext<WriterConfig>): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const kafka = createKafka(config, logger);
  const alarmsTopic = config.WRITER_ALARMS ? config.KAFKA_TOPIC_ALARMS : undefined;
  const inputs = [config.KAFKA_TOPIC_PARSED, ...(alarmsTopic ? [alarmsTopic] : [])];
  await ensureConfiguredTopics(
    kafka,
    config,
    [config.KAFKA_TOPIC_PARSED, config.KAFKA_TOPIC_DLQ, ...(alarmsTopic ? [alarmsTopicRequest(config)] : [])],
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

  const batcher = new LineBatcher<InMessage>(
    async (items) => {
      const timer = writeSeconds.startTimer();
      try {
        const rejected = await writeWithSplit(sink, items);
        writes.inc({ outcome: 'ok' });
        lastWriteOk = true;
        return rejected;
      } catch (error) {
        writes.inc({ outcome: 'error' });
        lastWriteOk = false;
        throw error;
      } finally {
        timer();
      }
    },
    config.WRITER_BATCH_SIZE,
    config.WRITER_LINGER_MS,
  );

  const handle = async (messages: InMessage[]): Promise<void> => {
    const items: BatchItem<InMessage>[] = [];
    const measurements: string[] = [];
    const dlq: OutMessage[] = [];
    for (const message of messages) {
      if (message.topic === alarmsTopic) {
        // The alarms topic is compacted: a tombstone (null value) deletes a key there, it is no alarm event
        // and no bad input. Dead-lettered as not_json it filled the DLQ with every cleanup of the topic.
        if (message.value === null) {
          tombstones.inc();
          continue;
        }
        try {
          items.push({ line: alarmToLine(parseAlarm(message.value)), ref: message });
          measurements.push(ALARMS_MEASUREMENT);
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
      try {
        const record = JSON.parse(message.value?.toString('utf8') ?? '') as ParsedRecord;
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
        items.push({ line, ref: message });
        measurements.push(record.equipment);
      } catch (error) {
        dlq.push(
          deadLetterFor(message, {
            stage: 'influx-writer',
            reason: 'invalid_record',
            message: (error as Error).message,
          }),
        );
      }
    }
    const rejected = await batcher.add(items);
    for (const r of rejected) {
      dlq.push(deadLetterFor(r.ref, { stage: 'influx-writer', reason: 'sink_rejected', message: r.message }));
    }
    for (const letter of dlq)
      deadLetters.inc({ stage: 'influx-writer', reason: letter.headers!['gs-dlq-reason']! });
    await producer.send(config.KAFKA_TOPIC_DLQ, dlq);
    // One counter update per measurement and slice, not per point: this runs for every point written.
    const refused = new Set(rejected.map((r) => r.ref));
    const written = new Map<string, number>();
    items.forEach((item, i) => {
      if (!refused.has(item.ref)) written.set(measurements[i]!, (written.get(measurements[i]!) ?? 0) + 1);
    });
    for (const [measurement, count] of written) pointsWritten.inc({ measurement }, count);
  };

  const consumer = await runConsumer({
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
  });
  readiness.add('consumer', () => consumer.check());
  readiness.add('influxdb', () => ({
    ok: lastWriteOk,
    detail: lastWriteOk ? 'last write ok' : 'last write failed',
  }));

  return {
    async stop() {
      // Stop intake first; partitions waiting for a linger timer would hold up consumer.stop(), so the
      // batcher is flushed as soon as the consumer stops fetching.
      const stopping = consumer.stop();
      batcher.flush();
      await stopping;
      batcher.flush();
      await producer.disconnect();
      await sink.close();
    },
  };
}
