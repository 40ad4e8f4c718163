import {
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
import { parsedRecordKey } from '@gridstream/schema';
import type { ParserConfig } from './config.js';
import { parseRaw, zoneResolver } from './parse-raw.js';

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
    [config.KAFKA_TOPIC_RAW, config.KAFKA_TOPIC_PARSED, config.KAFKA_TOPIC_DLQ],
    logger,
  );

  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

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

  const handle = async (messages: InMessage[]): Promise<void> => {
    const parsed: OutMessage[] = [];
    const dlq: OutMessage[] = [];
    for (const message of messages) {
      const result = parseRaw(message, options);
      if (result.controlCharsEscaped > 0) controlChars.inc(result.controlCharsEscaped);
      for (const record of result.records) {
        parsed.push({ key: parsedRecordKey(record), value: JSON.stringify(record) });
        recordsOut.inc({ equipment: record.equipment });
      }
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
    await producer.sendBatch([
      { topic: config.KAFKA_TOPIC_PARSED, messages: parsed },
      { topic: config.KAFKA_TOPIC_DLQ, messages: dlq },
    ]);
  };

  const consumer = await runConsumer({
    kafka,
    groupId: config.PARSER_GROUP_ID,
    topics: [config.KAFKA_TOPIC_RAW],
    logger,
    metrics,
    handle,
    maxMessagesPerCall: config.PARSER_MAX_MESSAGES_PER_CALL,
  });
  readiness.add('consumer', () => consumer.check());
  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: producer.isConnected ? 'connected' : 'disconnected',
  }));

  return {
    async stop() {
      await consumer.stop(); // stop intake; the slice in hand finishes producing and commits
      await producer.disconnect();
    },
  };
}
