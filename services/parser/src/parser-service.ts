import {
  alarmsTopicRequest,
  counter,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  type InMessage,
  type OutMessage,
  ReliableProducer,
  runTransactionalConsumer,
  type TransactionalContext,
  topicPartitionCount,
} from '@gridstream/kafka';
import { parseRaw, zoneResolver } from '@gridstream/parsing';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { encodeParsedMessages, type ParsedRecord, RAW_HEADER, recordDigest } from '@gridstream/schema';
import type { ParserConfig } from './config.js';
import { DedupStore } from './dedup-store.js';
import { messageIdentity } from './dedup-window.js';
import { createQualityRuntime } from './quality-runtime.js';

/**
 * telemetry.raw → telemetry.parsed (+ telemetry.dlq, telemetry.alarms), exactly once. The records, dead
 * letters and alarm events of a slice of raw messages and the slice's raw offsets are committed in one
 * Kafka transaction: a parser killed at any instant leaves each raw message's outputs on the parsed topic
 * exactly once for every read_committed reader (the writer, the archiver, Telegraf with
 * `isolation_level = "read_committed"`), never twice (docs/reliability.md).
 */
export async function startParser(ctx: ServiceContext<ParserConfig>): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const kafka = createKafka(config, logger);
  await ensureConfiguredTopics(
    kafka,
    config,
    [
      config.KAFKA_TOPIC_RAW,
      config.KAFKA_TOPIC_PARSED,
      config.KAFKA_TOPIC_DLQ,
      ...(config.QUALITY_CONFIG !== undefined ? [alarmsTopicRequest(config)] : []),
    ],
    logger,
  );
  // The duplicate window's changelog mirrors the raw topic partition for partition.
  const dedupTopic = config.PARSER_DEDUP_TOPIC ?? `${config.PARSER_GROUP_ID}.dedup`;
  const dedup =
    config.PARSER_DEDUP_WINDOW > 0
      ? new DedupStore(kafka, dedupTopic, config.KAFKA_TOPIC_RAW, config.PARSER_DEDUP_WINDOW, logger)
      : undefined;
  if (dedup) {
    const partitions = await topicPartitionCount(kafka, config.KAFKA_TOPIC_RAW);
    await ensureConfiguredTopics(kafka, config, [DedupStore.topicRequest(dedupTopic, partitions)], logger);
  }

  // Only for what the quality stage produces outside a slice (a device gone missing is noticed by a
  // timer, not by a message); everything a slice produces goes through its transaction.
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  // Quality checks and alarms between parsing and producing (docs/quality.md); off without QUALITY_CONFIG.
  const quality = await createQualityRuntime({ config, kafka, producer, logger, metrics });

  const messagesIn = counter(metrics, 'gridstream_parser_messages_total', 'Raw messages parsed', ['outcome']);
  const recordsOut = counter(metrics, 'gridstream_parser_records_total', 'Parsed records produced', [
    'equipment',
  ]);
  const deadLetters = counter(metrics, 'gridstream_dead_letters_total', 'Messages dead-lettered', [
    'stage',
    'reason',
  ]);
  const duplicates = counter(
    metrics,
    'gridstream_parser_duplicates_total',
    'Raw messages dropped because the same message was already parsed (an upstream redelivery)',
  );
  const replaySkipped = counter(
    metrics,
    'gridstream_parser_replay_skipped_records_total',
    'Records of a replayed dead letter left out because they went through the first time',
  );
  const nonFinite = counter(
    metrics,
    'gridstream_parser_nonfinite_values_total',
    'NaN/Infinity readings (a failed sensor, as Python writes it) left out of their record and flagged bad',
  );
  const controlChars = counter(
    metrics,
    'gridstream_parser_control_chars_escaped_total',
    'Raw control characters inside JSON strings that were escaped so the message could be read',
  );

  const options = {
    maxBytes: config.PARSER_MAX_MESSAGE_BYTES,
    zoneForSite: zoneResolver(config.PARSER_DEFAULT_TIMEZONE, config.PARSER_SITE_TIMEZONES),
  };

  const handle = async (messages: InMessage[], ctx: TransactionalContext): Promise<void> => {
    const records: ParsedRecord[] = [];
    const dlq: OutMessage[] = [];
    const window = dedup ? await dedup.windowFor(ctx.partition, ctx.committedOffset) : undefined;
    const seen: bigint[] = [];
    const seenHere = new Set<bigint>();
    const dropped: string[] = [];
    for (const message of messages) {
      if (window) {
        const identity = messageIdentity(message);
        if (window.has(identity) || seenHere.has(identity)) {
          duplicates.inc();
          dropped.push(message.offset);
          continue;
        }
        seenHere.add(identity);
        seen.push(identity);
      }
      const result = parseRaw(message, options);
      if (result.controlCharsEscaped > 0) controlChars.inc(result.controlCharsEscaped);
      if (result.nonFiniteValues) nonFinite.inc(result.nonFiniteValues);
      let emitted = result.records;
      const skip = message.headers[RAW_HEADER.replaySkip];
      if (skip) {
        // A replayed letter of a partly parsed message: what went through the first time stays out.
        const done = new Set(skip.split(','));
        emitted = emitted.filter((r) => !done.has(recordDigest(r)));
        if (emitted.length < result.records.length) replaySkipped.inc(result.records.length - emitted.length);
      }
      for (const record of emitted) records.push(record);
      const first = result.problems[0];
      if (first) {
        const more = result.problems.length > 1 ? ` (+${result.problems.length - 1} more)` : '';
        dlq.push(
          deadLetterFor(message, {
            stage: 'parser',
            reason: first.reason,
            message: `${first.path ? `${first.path}: ` : ''}${first.message}${more}`,
            problems: result.problems,
            // With the digests of what did go through (those skipped on a replay included), a replay of
            // this letter emits only the rest.
            emitted: [...(skip ? skip.split(',') : []), ...emitted.map(recordDigest)],
          }),
        );
        deadLetters.inc({ stage: 'parser', reason: first.reason });
      }
      messagesIn.inc({ outcome: first ? (result.records.length > 0 ? 'partial' : 'rejected') : 'ok' });
    }
    // Serialised after the quality stage so that the flags it adds are in the produced records; its alarm
    // events go in the same transaction, committed (or aborted) with the slice's records and offsets.
    // The raw offsets let the stage recognise this slice if it comes back (its transaction was aborted).
    const head = messages[0];
    const tail = messages[messages.length - 1];
    const offsets = head && tail ? { first: head.offset, last: tail.offset } : undefined;
    const next = tail ? BigInt(tail.offset) + 1n : 0n;
    await quality.run(
      records,
      ctx.partition,
      async (alarms) => {
        const parsed: OutMessage[] = encodeParsedMessages(records, config.PARSER_PARSED_FORMAT);
        await ctx.commit([
          { topic: config.KAFKA_TOPIC_PARSED, messages: parsed },
          { topic: config.KAFKA_TOPIC_DLQ, messages: dlq },
          ...(alarms.length > 0 ? [{ topic: config.KAFKA_TOPIC_ALARMS, messages: alarms }] : []),
          ...(dedup && window
            ? [{ topic: dedup.topic, messages: [dedup.snapshotMessage(ctx.partition, window, seen, next)] }]
            : []),
        ]);
      },
      offsets,
    );
    // Only now that the transaction committed: an aborted slice is decided again from the same window.
    window?.addAll(seen, next);
    if (dropped.length > 0)
      logger.info(
        { partition: ctx.partition, offsets: dropped.slice(0, 20), count: dropped.length },
        'raw messages already parsed (a redelivery upstream) dropped',
      );
    for (const record of records) recordsOut.inc({ equipment: record.equipment });
  };

  const consumer = await runTransactionalConsumer({
    kafka,
    groupId: config.PARSER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    topics: [config.KAFKA_TOPIC_RAW],
    logger,
    metrics,
    handle,
    maxMessagesPerCall: config.PARSER_MAX_MESSAGES_PER_CALL,
    maxBytesPerPartition: config.PARSER_FETCH_BYTES,
    onAssignment: (assigned) => {
      dedup?.forget(
        new Set(assigned.filter((a) => a.topic === config.KAFKA_TOPIC_RAW).flatMap((a) => a.partitions)),
      );
      quality.onAssignment(assigned);
    },
  });
  readiness.add('consumer', () => consumer.check());
  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: producer.isConnected ? 'connected' : 'disconnected',
  }));

  return {
    async stop() {
      await consumer.stop(); // stop intake; the slice in hand finishes producing and commits
      await quality.stop(); // timers off; a missing-device check in flight finishes producing
      await producer.disconnect();
    },
  };
}
