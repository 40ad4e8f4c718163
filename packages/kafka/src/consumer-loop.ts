import { backoffDelay, type CheckResult, type Logger, sleep } from '@gridstream/runtime';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { type InMessage, toInMessage } from './messages.js';
import { counter, gauge, histogram } from './metrics.js';

export interface BatchContext {
  topic: string;
  partition: number;
  /** Aborted when the service stops: finish what is in hand quickly, start nothing new. */
  signal: AbortSignal;
  heartbeat(): Promise<void>;
}

/**
 * Processes a batch completely — every output produced and acknowledged — or throws. Throwing means
 * "not done": the batch is retried (never skipped, never committed), so a handler must only throw for
 * failures that may pass (a downstream outage). Bad input is the handler's to dead-letter, not to throw.
 */
export type BatchHandler = (messages: InMessage[], ctx: BatchContext) => Promise<void>;

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  handle: BatchHandler;
  metrics?: Registry;
  /** Partitions handled at once; >1 lets a handler batch across partitions (the Influx writer does). */
  partitionsConsumedConcurrently?: number;
  /** Messages per handler call; a fetched batch larger than this is handled and committed in slices. */
  maxMessagesPerCall?: number;
  maxBytesPerPartition?: number;
  /** A partition failing for longer than this makes the service unready (the consumer is stuck). */
  stuckAfterMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
}

export interface ConsumerHandle {
  /** Ordered stop: no new fetches, the batch in hand finishes (or is abandoned uncommitted), disconnect. */
  stop(): Promise<void>;
  /** Readiness: not ok when the consumer crashed or a partition has been failing for too long. */
  check(): CheckResult;
}

/**
 * The consumer loop every service uses. Offsets are committed only after the handler succeeded, so a
 * crash anywhere redelivers rather than loses; while the handler fails, the partition is paused and the
 * same slice retried with backoff, so an outage downstream stops intake instead of dropping data.
 */
export async function runConsumer(options: ConsumerOptions): Promise<ConsumerHandle> {
  const { kafka, groupId, topics, logger } = options;
  const log = logger.child({ component: 'consumer', groupId });
  const registry = options.metrics ?? new Registry();
  const consumed = counter(registry, 'gridstream_consumer_messages_total', 'Messages handled and committed', [
    'group',
    'topic',
  ]);
  const retries = counter(registry, 'gridstream_consumer_retries_total', 'Handler failures retried', [
    'group',
  ]);
  const lag = gauge(registry, 'gridstream_consumer_lag', 'Messages behind the high watermark', [
    'group',
    'topic',
    'partition',
  ]);
  const handleSeconds = histogram(registry, 'gridstream_consumer_handle_seconds', 'Handler time per slice', [
    'group',
  ]);

  const stopController = new AbortController();
  const failingSince = new Map<string, number>();
  const stuckAfterMs = options.stuckAfterMs ?? 60_000;
  const maxPerCall = options.maxMessagesPerCall ?? 1_000;
  let crashed: string | undefined;

  const consumer: Consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  consumer.on(consumer.events.CRASH, (event) => {
    const payload = event.payload as { error: Error; restart: boolean };
    log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    if (!payload.restart) crashed = payload.error.message;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    crashed = undefined;
  });

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, pause } = payload;
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const ctx: BatchContext = { topic, partition, signal: stopController.signal, heartbeat };
    for (let start = 0; start < batch.messages.length; start += maxPerCall) {
      const slice = batch.messages.slice(start, start + maxPerCall);
      const messages = slice.map((m) => toInMessage(topic, partition, m));
      let attempt = 0;
      let resume: (() => void) | undefined;
      for (;;) {
        // A revoked partition (rebalance) or a stopping service: leave the slice uncommitted, whoever
        // owns the partition next starts from the last commit and sees it again.
        if (!isRunning() || isStale() || stopController.signal.aborted) return;
        const timer = handleSeconds.startTimer({ group: groupId });
        try {
          await options.handle(messages, ctx);
          timer();
          failingSince.delete(key);
          resume?.();
          break;
        } catch (error) {
          timer();
          retries.inc({ group: groupId });
          if (!failingSince.has(key)) failingSince.set(key, Date.now());
          const delay = backoffDelay(attempt++, options.retryBaseMs ?? 200, options.retryCapMs ?? 10_000);
          log.warn({ err: error, topic, partition, attempt, retryInMs: delay }, 'batch failed; retrying');
          // Stop fetching this partition while it fails; this loop keeps the slice in hand and retries it.
          resume ??= pause();
          await sleep(delay, stopController.signal);
          await heartbeat().catch(() => undefined);
        }
      }
      const last = slice[slice.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      if (stopController.signal.aborted) {
        // consumer.commitOffsets() silently does nothing once consumer.stop() has begun (kafkajs checks
        // `running`), so a slice finished during shutdown — the writer's linger flush — would stay
        // uncommitted and be processed again after every restart. The group is left only after this
        // handler returns, so commit through the batch's own handle, which still reaches the coordinator.
        // If even that fails, the slice is redelivered, as before: never worse than not trying.
        await payload
          .commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] })
          .catch((error: unknown) => log.warn({ err: error, topic, partition }, 'commit at shutdown failed'));
      } else {
        await consumer.commitOffsets([{ topic, partition, offset: next }]);
      }
      payload.resolveOffset(last);
      consumed.inc({ group: groupId, topic }, slice.length);
      await heartbeat().catch(() => undefined);
    }
    lag.set({ group: groupId, topic, partition: String(partition) }, Number(batch.offsetLag()));
  };

  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch,
  });
  log.info({ topics }, 'consuming');

  return {
    async stop() {
      stopController.abort();
      await consumer.stop();
      await consumer.disconnect();
      log.info('consumer stopped');
    },
    check() {
      if (crashed) return { ok: false, detail: `consumer crashed: ${crashed}` };
      const now = Date.now();
      for (const [key, since] of failingSince) {
        if (now - since > stuckAfterMs)
          return { ok: false, detail: `${key} failing for ${Math.round((now - since) / 1000)} s` };
      }
      return { ok: true };
    },
  };
}
