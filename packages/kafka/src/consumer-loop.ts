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
 * What a handler that buffers may return instead of nothing. Returning nothing means "the slice is done":
 * the loop commits past it (every service but the archiver).
 */
export interface BatchOutcome {
  /**
   * The offset to commit for this partition (the next one to read), at most one past the slice; `null`
   * commits nothing now. A handler that accepts messages into a buffer (the archiver's open Parquet files)
   * keeps them uncommitted this way until its output is durable, so a crash redelivers them.
   */
  commitOffset: string | null;
}

/**
 * Processes a batch completely — every output produced and acknowledged — or throws. Throwing means
 * "not done": the batch is retried (never skipped, never committed), so a handler must only throw for
 * failures that may pass (a downstream outage). Bad input is the handler's to dead-letter, not to throw.
 * A handler that buffers returns a {@link BatchOutcome} saying how far the work is durable.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers returning Promise<void> must stay assignable
export type BatchHandler = (messages: InMessage[], ctx: BatchContext) => Promise<void | BatchOutcome>;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to read, as a decimal string. */
  offset: string;
}

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
  /**
   * Called (synchronously) after every group join with the partitions this member now owns. Only a handler
   * that buffers uncommitted messages needs it: after a rebalance kafkajs fetches again from the last
   * COMMITTED offset, so buffered messages come again, and a partition that moved to another member must
   * be forgotten here or its buffer would be written twice.
   */
  onAssignment?: (assigned: TopicPartitions[]) => void;
  /**
   * Runs in stop() once intake has stopped and the handlers in flight have returned, while this member
   * still owns its partitions so that {@link ConsumerHandle.commit} still reaches the group: the place for
   * a buffering service to flush and commit what it holds before leaving.
   */
  beforeLeave?: () => Promise<void>;
}

export interface ConsumerHandle {
  /** Ordered stop: no new fetches, the batch in hand finishes (or is abandoned uncommitted), disconnect. */
  stop(): Promise<void>;
  /** Readiness: not ok when the consumer crashed or a partition has been failing for too long. */
  check(): CheckResult;
  /**
   * Commits offsets outside a handler call, for work a service makes durable on its own schedule (the
   * archiver uploads files on a timer). Partitions this member does not own (any more) are left out:
   * their new owner decides. A no-op once stop() has gone past `beforeLeave`.
   */
  commit(offsets: OffsetToCommit[]): Promise<void>;
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
  /** `topic:partition` of the partitions assigned at the last group join. */
  let owned = new Set<string>();
  /** eachBatch calls in progress; stop() waits for them before `beforeLeave`. */
  let inFlight = 0;
  let drained: (() => void) | undefined;

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
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    crashed = undefined;
    const assignment = (event.payload as { memberAssignment: Record<string, number[]> }).memberAssignment;
    const assigned = Object.entries(assignment).map(([topic, partitions]) => ({ topic, partitions }));
    owned = new Set(assigned.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}:${p}`)));
    if (options.onAssignment) {
      try {
        options.onAssignment(assigned);
      } catch (error) {
        log.error({ err: error }, 'onAssignment failed');
      }
    }
  });

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    inFlight++;
    try {
      await handleBatch(payload);
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };

  const handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, pause } = payload;
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const ctx: BatchContext = { topic, partition, signal: stopController.signal, heartbeat };
    for (let start = 0; start < batch.messages.length; start += maxPerCall) {
      const slice = batch.messages.slice(start, start + maxPerCall);
      const messages = slice.map((m) => toInMessage(topic, partition, m));
      let attempt = 0;
      let resume: (() => void) | undefined;
      let outcome: BatchOutcome | undefined;
      for (;;) {
        // A revoked partition (rebalance) or a stopping service: leave the slice uncommitted, whoever
        // owns the partition next starts from the last commit and sees it again.
        if (!isRunning() || isStale() || stopController.signal.aborted) return;
        const timer = handleSeconds.startTimer({ group: groupId });
        try {
          outcome = (await options.handle(messages, ctx)) ?? undefined;
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
      const next = commitOffsetFor(outcome, last);
      if (next === null) {
        // The handler buffered the slice: nothing to commit yet, but fetching goes on past it.
      } else if (stopController.signal.aborted) {
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

  /** The offset to commit after a slice ending at `last`: past it, or what a buffering handler said. */
  function commitOffsetFor(outcome: BatchOutcome | undefined, last: string): string | null {
    const past = BigInt(last) + 1n;
    if (outcome === undefined) return past.toString();
    if (outcome.commitOffset === null) return null;
    // Committing beyond what was handed over would skip messages nobody processed.
    if (BigInt(outcome.commitOffset) > past) {
      log.error(
        { commitOffset: outcome.commitOffset, last },
        'handler asked to commit past its slice; clamped',
      );
      return past.toString();
    }
    return outcome.commitOffset;
  }

  let leaving = false;

  return {
    async stop() {
      stopController.abort();
      if (options.beforeLeave) {
        // Stop fetching, let the handlers in hand return (an aborted loop returns at its next check), then
        // let the service flush and commit while the partitions are still ours.
        try {
          consumer.pause(topics.map((topic) => ({ topic })));
        } catch (error) {
          log.warn({ err: error }, 'pause at stop failed');
        }
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        try {
          await options.beforeLeave();
        } catch (error) {
          log.error({ err: error }, 'beforeLeave failed; what it held is redelivered after the restart');
        }
      }
      leaving = true;
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
    async commit(offsets) {
      if (leaving) return;
      const mine = offsets.filter((o) => owned.has(`${o.topic}:${o.partition}`));
      if (mine.length > 0) await consumer.commitOffsets(mine);
    },
  };
}
