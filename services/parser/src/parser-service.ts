import {
  alarmsTopicRequest,
  type BatchContext,
  counter,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  type InMessage,
  type OutMessage,
  ReliableProducer,
  runConsumer,
} from '@gridstream/kafka';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import type { ParserConfig } from './config.js';
import { parseRaw, zoneResolver } from './parse-raw.js';
import { createQualityRuntime } from './quality-runtime.js';

/**
 * telemetry.raw → telemetry.parsed (+ telemetry.dlq). A slice of raw messages is committed only after
 * every parsed record and dead letter from it has been acknowledged by Kafka, so a crash at any point
 * redelivers the slice; the records it re-emits overwrite themselves downstream.
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
  const controlChars = counter(
    metrics,
    'gridstream_parser_control_chars_escaped_total',
    'Raw control characters inside JSON strings that were escaped so the message could be read',
  );

  const options = {
    maxBytes: config.PARSER_MAX_MESSAGE_BYTES,
    zoneForSite: zoneResolver(config.PARSER_DEFAULT_TIMEZONE, config.PARSER_SITE_TIMEZONES),
  };

  const handle = async (messages: InMessage[], ctx: BatchContext): Promise<void> => {
    const records: ParsedRecord[] = [];
    const dlq: OutMessage[] = [];
    for (const message of messages) {
      const result = parseRaw(message, options);
      if (result.controlCharsEscaped > 0) controlChars.inc(result.controlCharsEscaped);
      for (const record of result.records) records.push(record);
      const first = result.problems[0];
      if (first) {
        const more = result.problems.length > 1 ? ` (+${result.problems.length - 1} more)` : '';
        dlq.push(
          deadLetterFor(message, {
            stage: 'parser',
            reason: first.reason,
            message: `${first.path ? `${first.path}: ` : ''}${first.message}${more}`,
            problems: result.problems,
          }),
        );
        deadLetters.inc({ stage: 'parser', reason: first.reason });
      }
      messagesIn.inc({ outcome: first ? (result.records.length > 0 ? 'partial' : 'rejected') : 'ok' });
    }
    // Serialised after the quality stage so that the flags it adds are in the produced records; its alarm
    // events go in the same request, so they are committed with the slice (at least once, same ids).
    // The raw offsets let the stage recognise this slice if it comes back (offset commit failed).
    const head = messages[0];
    const tail = messages[messages.length - 1];
    const offsets = head && tail ? { first: head.offset, last: tail.offset } : undefined;
    await quality.run(
      records,
      ctx.partition,
      async (alarms) => {
        const parsed: OutMessage[] = new Array(records.length);
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          parsed[i] = { key: parsedRecordKey(record), value: JSON.stringify(record) };
        }
        await producer.sendBatch([
          { topic: config.KAFKA_TOPIC_PARSED, messages: parsed },
          { topic: config.KAFKA_TOPIC_DLQ, messages: dlq },
          ...(alarms.length > 0 ? [{ topic: config.KAFKA_TOPIC_ALARMS, messages: alarms }] : []),
        ]);
      },
      offsets,
    );
    for (const record of records) recordsOut.inc({ equipment: record.equipment });
  };

  const consumer = await runConsumer({
    kafka,
    groupId: config.PARSER_GROUP_ID,
    topics: [config.KAFKA_TOPIC_RAW],
    logger,
    metrics,
    handle,
    maxMessagesPerCall: config.PARSER_MAX_MESSAGES_PER_CALL,
    onAssignment: (assigned) => quality.onAssignment(assigned),
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
