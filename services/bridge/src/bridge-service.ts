import { AmqpBatchConsumer, type AmqpDelivery, amqpConfigFromEnv, describeAmqpUrl } from '@gridstream/amqp';
import {
  counter,
  createKafka,
  deadLetter,
  ensureConfiguredTopics,
  gauge,
  histogram,
  type OutMessage,
  ReliableProducer,
} from '@gridstream/kafka';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import type { BridgeConfig } from './config.js';
import { amqpSource, rawHeaders } from './raw-headers.js';
import { siteKey } from './site-key.js';
import { KAFKA_FRAMING_BYTES, topicMaxMessageBytes } from './topic-limits.js';

export interface RunningBridge extends RunningService {
  /** For tests and diagnostics: the consumer's counters and state. */
  readonly consumer: AmqpBatchConsumer;
}

/**
 * RabbitMQ → Kafka `telemetry.raw`. Each AMQP batch becomes one Kafka produce (idempotent, acks=all);
 * the consumer acks the batch only after that produce resolved, so a crash or a Kafka outage at any point
 * leaves the messages in RabbitMQ to be delivered again. A payload Kafka could never take (oversized) goes
 * to the DLQ in the same produce and is acked with its batch, so it cannot block the queue.
 */
export async function startBridge(ctx: ServiceContext<BridgeConfig>): Promise<RunningBridge> {
  const { config, logger, metrics, readiness } = ctx;
  const amqp = amqpConfigFromEnv(config);
  const rawTopic = config.KAFKA_TOPIC_RAW;
  const dlqTopic = config.KAFKA_TOPIC_DLQ;
  const source = amqpSource(amqp.connection, amqp.topology.queue);

  const kafka = createKafka(config, logger);
  await ensureConfiguredTopics(kafka, config, [rawTopic, dlqTopic], logger);
  const limitOf = (topic: string) =>
    topicMaxMessageBytes(kafka, topic).catch((err: unknown) => {
      // No DescribeConfigs permission, say: run without the check rather than not at all.
      logger.warn({ err, topic }, 'cannot read max.message.bytes of the topic; size check skipped');
      return undefined;
    });
  const [topicLimit, dlqLimit] = await Promise.all([limitOf(rawTopic), limitOf(dlqTopic)]);
  if (topicLimit !== undefined && config.BRIDGE_MAX_MESSAGE_BYTES + KAFKA_FRAMING_BYTES > topicLimit) {
    throw new Error(
      `BRIDGE_MAX_MESSAGE_BYTES=${config.BRIDGE_MAX_MESSAGE_BYTES} does not fit topic ${rawTopic} ` +
        `(max.message.bytes=${topicLimit}, ${KAFKA_FRAMING_BYTES} bytes are reserved for framing and headers): ` +
        'lower BRIDGE_MAX_MESSAGE_BYTES or raise max.message.bytes on the topic, or every message near the ' +
        'limit would be refused by Kafka forever and stall the queue',
    );
  }

  // Requests as large as both topics allow (a request could land on one partition, whose record batch the
  // broker caps at max.message.bytes): fewer round trips, since each producer has one request in flight.
  const limits = [topicLimit, dlqLimit].filter((l): l is number => l !== undefined);
  const requestBytes = limits.length === 2 ? Math.min(...limits) - KAFKA_FRAMING_BYTES : undefined;
  const producer = new ReliableProducer(kafka, logger, requestBytes);
  await producer.connect();

  const forwarded = counter(
    metrics,
    'gridstream_bridge_messages_forwarded_total',
    'Messages produced to the raw topic',
  );
  const deadLettered = counter(metrics, 'gridstream_dead_letters_total', 'Messages dead-lettered', [
    'stage',
    'reason',
  ]);
  const batches = counter(
    metrics,
    'gridstream_bridge_batches_total',
    'AMQP batches produced to Kafka and acked',
  );
  const produceFailures = counter(
    metrics,
    'gridstream_bridge_produce_failures_total',
    'Kafka produces that failed; the batch stays unacked in RabbitMQ and is retried',
  );
  const produceSeconds = histogram(
    metrics,
    'gridstream_bridge_produce_seconds',
    'Time from handing a batch to Kafka until acks=all',
  );
  const bytesForwarded = counter(
    metrics,
    'gridstream_bridge_bytes_forwarded_total',
    'Payload bytes produced to Kafka',
  );
  const lastBatchGauge = gauge(
    metrics,
    'gridstream_bridge_last_batch_timestamp_seconds',
    'When the last batch was acked (unix seconds)',
  );

  let kafkaHealthy = true;
  let lastProduceError: string | undefined;
  // kafkajs retries inside one send for up to about a minute before it rejects; a produce pending this
  // long already means Kafka is not taking data, and readiness should say so before the rejection.
  let produceStartedAt: number | undefined;
  const PRODUCE_STUCK_MS = 15_000;

  const onBatch = async (deliveries: AmqpDelivery[]): Promise<void> => {
    const receivedAt = new Date().toISOString();
    const raw: OutMessage[] = [];
    const dlq: OutMessage[] = [];
    let rawBytes = 0;
    for (const d of deliveries) {
      const key = siteKey(d.body, d.routingKey, config.BRIDGE_KEY_SCAN_BYTES);
      const headers = rawHeaders(config.BRIDGE_SCHEMA, source, receivedAt, d.messageId);
      if (d.body.length > config.BRIDGE_MAX_MESSAGE_BYTES) {
        dlq.push(
          deadLetter({
            stage: 'bridge',
            reason: 'oversized',
            message: `payload is ${d.body.length} bytes, BRIDGE_MAX_MESSAGE_BYTES is ${config.BRIDGE_MAX_MESSAGE_BYTES}`,
            payload: d.body,
            key,
            headers,
            source: { topic: amqp.topology.queue },
          }),
        );
      } else {
        raw.push({ key, value: d.body, headers });
        rawBytes += d.body.length;
      }
    }
    const requests = [
      { topic: rawTopic, messages: raw },
      { topic: dlqTopic, messages: dlq },
    ].filter((r) => r.messages.length > 0);
    const endTimer = produceSeconds.startTimer();
    produceStartedAt = Date.now();
    try {
      await producer.sendBatch(requests);
    } catch (err) {
      kafkaHealthy = false;
      lastProduceError = (err as Error).message;
      produceFailures.inc();
      throw err; // the consumer keeps the batch unacked and retries it with backoff
    } finally {
      produceStartedAt = undefined;
    }
    endTimer();
    kafkaHealthy = true;
    lastProduceError = undefined;
    forwarded.inc(raw.length);
    bytesForwarded.inc(rawBytes);
    if (dlq.length > 0) {
      deadLettered.inc({ stage: 'bridge', reason: 'oversized' }, dlq.length);
      logger.warn({ count: dlq.length, topic: dlqTopic }, 'oversized messages dead-lettered');
    }
    batches.inc();
    lastBatchGauge.set(Date.now() / 1000);
  };

  const consumer = new AmqpBatchConsumer({
    amqp,
    onBatch,
    batchSize: config.BRIDGE_BATCH_SIZE,
    lingerMs: config.BRIDGE_LINGER_MS,
    connectionName: `gridstream-bridge-${process.pid}`,
    logger,
  });

  readiness.add('rabbitmq', () => {
    const st = consumer.state;
    return st.connected ? { ok: true } : { ok: false, detail: st.lastError ?? 'connecting' };
  });
  readiness.add('kafka', () => {
    if (!producer.isConnected) return { ok: false, detail: 'producer not connected' };
    if (!kafkaHealthy) return { ok: false, detail: lastProduceError ?? 'last produce failed' };
    const pendingMs = produceStartedAt === undefined ? 0 : Date.now() - produceStartedAt;
    if (pendingMs > PRODUCE_STUCK_MS) return { ok: false, detail: `produce pending for ${pendingMs} ms` };
    return { ok: true };
  });

  consumer.start();
  logger.info(
    {
      broker: describeAmqpUrl(amqp.connection),
      queue: amqp.topology.queue,
      exchange: amqp.topology.exchange,
      rawTopic,
      dlqTopic,
      schema: config.BRIDGE_SCHEMA,
      maxMessageBytes: config.BRIDGE_MAX_MESSAGE_BYTES,
      topicMaxMessageBytes: topicLimit,
    },
    'bridge started',
  );

  return {
    consumer,
    async stop() {
      // Stop intake, let the batch in flight reach Kafka and be acked, then close Kafka.
      await consumer.stop();
      await producer.disconnect();
      logger.info({ ...consumer.counters }, 'bridge stopped');
    },
  };
}
