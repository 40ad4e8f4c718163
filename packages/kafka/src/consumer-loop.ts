import { backoffDelay, type CheckResult, type Logger, sleep } from '@gridstream/runtime';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { isMembershipError } from './kafka-errors.js';
import { type InMessage, toInMessage } from './messages.js';
import { counter, gauge, histogram } from './metrics.js';

export interface BatchContext {
  topic: string;
  partition: number;
  /**
   * Aborted when the service stops, or when this member lost its place in the group while the slice was
   * in hand (the slice is then abandoned uncommitted and redelivered): finish quickly, start nothing new.
   */
  signal: AbortSignal;
  /** Aborted only when this member lost its place in the group while the slice was in hand. */
  membership: AbortSignal;
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
  /** Group session: a member silent for longer than this is removed from the group (default 30 s). */
  sessionTimeoutMs?: number;
  /** Heartbeats, also sent while a handler runs so that a slow sink does not cost the membership. */
  heartbeatIntervalMs?: number;
  /**
   * What to do with a slice whose member fell out of the group while its handler ran (a sink that hangs
   * past the session): true (default) gives it up at once, so the group can rebalance without waiting,
   * and ignores whatever the handler returns later; false waits for the handler to return (it finds its
   * signal aborted) before rejoining. A handler that commits on its own — a transaction — needs false:
   * otherwise it could still commit while the partition's next owner starts on the same messages.
   */
  abandonOnMembershipLoss?: boolean;
  /**
   * Called (synchronously) after every group join with the partitions this member now owns. Only a handler
   * that buffers uncommitted messages needs it: after a rebalance kafkajs fetches again from the last
   * COMMITTED offset, so buffered messages come again, and a partition that moved to another member must
   * be forgotten here or its buffer would be written twice.
   */
  onAssignment?: (assigned: TopicPartitions[]) => void;
  /**
   * Offsets without records — transaction markers, aborted records of a transactional topic (the parsed
   * topic is one) — reach no handler. By default the loop commits past them once everything before them
   * is committed, or the group's lag would never reach 0 (the last offset of a transactional partition is
   * always a marker). A handler that buffers decides its commits itself: it gets `next` (the offset past
   * the records-free stretch) here instead and commits it when everything before it is durable.
   */
  onEmptyBatch?: (topic: string, partition: number, next: string) => void;
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
  /**
   * The group generation this member joined last, once it is known (kafkajs reports it with the first
   * heartbeat or commit after a join); undefined in between. It orders owners of a partition: a member
   * of an older generation that still acts (a zombie) is the one to be overruled.
   */
  generation(): number | undefined;
  /**
   * Whether the coordinator confirmed this member (join, heartbeat or commit) recently enough that the
   * group cannot have dropped it yet: less than the session timeout minus one heartbeat interval ago. A
   * member cut off from the brokers stops acting on its partitions' behalf when this turns false (the
   * archiver holds uploads), instead of racing the owner the group has picked meanwhile.
   */
  membershipConfirmed(): boolean;
}

/**
 * The consumer loop every service uses. Offsets are committed only after the handler succeeded, so a
 * crash anywhere redelivers rather than loses; while the handler fails, the partition is paused and the
 * same slice retried with backoff, so an outage downstream stops intake instead of dropping data.
 *
 * Membership is acted on, never ignored. kafkajs heartbeats only from its fetch loop, which waits for our
 * handler: a sink that hangs (a frozen S3 or InfluxDB) would otherwise silence the member until the group
 * drops it, after which every commit fails with "the coordinator is not aware of this member" and — if
 * the error were swallowed — the member would never rejoin. So the loop heartbeats on its own while a
 * handler runs, and any heartbeat or commit error that says the member is out of date (rebalance, unknown
 * member, old generation) abandons the slice uncommitted and is rethrown to kafkajs, which rejoins the
 * group; the slice is redelivered to whoever owns the partition next. A consumer that kafkajs gives up on
 * (a crash it will not restart) is replaced by a new one after a backoff.
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
  const rejoins = counter(
    registry,
    'gridstream_consumer_rejoins_total',
    'Slices abandoned because this member lost its place in the group (it rejoins; the slice is redelivered)',
    ['group'],
  );
  const restarts = counter(
    registry,
    'gridstream_consumer_restarts_total',
    'Consumers replaced after a crash the client would not recover from',
    ['group'],
  );
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
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 3_000;
  let crashed: string | undefined;
  /** `topic:partition` of the partitions assigned at the last group join. */
  let owned = new Set<string>();
  /** eachBatch calls in progress; stop() waits for them before `beforeLeave`. */
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let consumer: Consumer;
  let restarting = false;
  /** Per partition: the last offset the loop committed, and the chain that keeps its commits in order. */
  const committedBy = new Map<string, bigint>();
  const commitChain = new Map<string, Promise<void>>();
  /** Group joins so far, and the highest generation reported since the last one. */
  let joins = 0;
  let generation: { join: number; id: number } | undefined;
  /** When the coordinator last accepted this member (ms since epoch); 0 = not in a group. */
  let confirmedAt = 0;
  const sawGeneration = (id: unknown) => {
    if (typeof id !== 'number') return;
    confirmedAt = Date.now();
    if (generation === undefined || generation.join !== joins || id > generation.id)
      generation = { join: joins, id };
  };

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    inFlight++;
    try {
      await handleBatch(payload);
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };

  /**
   * Runs the handler on one slice while heartbeating for it. Resolves with the handler's outcome, or
   * rejects with the membership error that made the member give the slice up (the handler may still be
   * running then: it finds `signal` aborted, and whatever it returns later is ignored, never committed).
   */
  const runHandler = async (
    messages: InMessage[],
    payload: EachBatchPayload,
  ): Promise<BatchOutcome | undefined> => {
    const { topic, partition } = payload.batch;
    const slice = new AbortController();
    const signal = AbortSignal.any([stopController.signal, slice.signal]);
    let lost: (error: unknown) => void = () => undefined;
    const membershipLost = new Promise<never>((_, reject) => {
      lost = reject;
    });
    membershipLost.catch(() => undefined);
    const beat = async () => {
      try {
        await payload.heartbeat();
      } catch (error) {
        if (isMembershipError(error)) {
          slice.abort(error);
          lost(error);
        }
      }
    };
    const ticker = setInterval(() => void beat(), heartbeatInterval);
    try {
      const handled = options.handle(messages, {
        topic,
        partition,
        signal,
        membership: slice.signal,
        heartbeat: payload.heartbeat,
      });
      if (options.abandonOnMembershipLoss === false) {
        // The handler must finish (it sees `signal` aborted and commits nothing); only then does the member
        // rejoin, so no second handler of this partition can start while this one is still committing.
        const outcome = await handled;
        if (slice.signal.aborted) throw slice.signal.reason;
        return outcome ?? undefined;
      }
      return (await Promise.race([handled, membershipLost])) ?? undefined;
    } finally {
      clearInterval(ticker);
    }
  };

  const handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, pause } = payload;
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
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
          outcome = (await runHandler(messages, payload)) ?? undefined;
          timer();
          failingSince.delete(key);
          resume?.();
          break;
        } catch (error) {
          timer();
          if (isMembershipError(error)) {
            // Rethrown to kafkajs, which rejoins the group; nothing of this slice is committed.
            rejoins.inc({ group: groupId });
            failingSince.delete(key);
            log.warn(
              { err: error, topic, partition },
              'member out of date; abandoning the slice and rejoining',
            );
            resume?.();
            throw error;
          }
          retries.inc({ group: groupId });
          if (!failingSince.has(key)) failingSince.set(key, Date.now());
          const delay = backoffDelay(attempt++, options.retryBaseMs ?? 200, options.retryCapMs ?? 10_000);
          log.warn({ err: error, topic, partition, attempt, retryInMs: delay }, 'batch failed; retrying');
          // Stop fetching this partition while it fails; this loop keeps the slice in hand and retries it.
          resume ??= pause();
          await sleep(delay, stopController.signal);
          await heartbeatOrRejoin(heartbeat, resume);
        }
      }
      const last = slice[slice.length - 1]!.offset;
      const next = commitOffsetFor(outcome, last);
      if (next === null) {
        // The handler buffered the slice (or committed it itself, in a transaction): nothing to commit here.
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
        // A membership error here propagates to kafkajs, which rejoins; the slice is redelivered.
        await commitPartition(topic, partition, BigInt(next));
      }
      payload.resolveOffset(last);
      consumed.inc({ group: groupId, topic }, slice.length);
      await heartbeatOrRejoin(heartbeat);
    }
    // A batch that ends with records-free offsets (a transaction's commit marker) is done up to its end.
    const end = BigInt(batch.lastOffset()) + 1n;
    const lastRecord = batch.messages.at(-1);
    if (lastRecord !== undefined && end > BigInt(lastRecord.offset) + 1n && !stopController.signal.aborted)
      await emptyStretch(topic, partition, end);
    lag.set({ group: groupId, topic, partition: String(partition) }, Number(batch.offsetLag()));
  };

  /** Commits for one partition, one at a time and never backwards (slices and marker stretches race). */
  function commitPartition(topic: string, partition: number, next: bigint): Promise<void> {
    const key = `${topic}:${partition}`;
    const run = (commitChain.get(key) ?? Promise.resolve()).then(async () => {
      if ((committedBy.get(key) ?? -1n) >= next) return;
      await consumer.commitOffsets([{ topic, partition, offset: next.toString() }]);
      committedBy.set(key, next);
    });
    commitChain.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  /** Offsets up to `next` hold no records (see onEmptyBatch). */
  async function emptyStretch(topic: string, partition: number, next: bigint): Promise<void> {
    if (options.onEmptyBatch) {
      options.onEmptyBatch(topic, partition, next.toString());
      return;
    }
    // Everything before the stretch is committed already: kafkajs hands one batch of a partition at a
    // time, and a partition whose slice is failing is paused, so no batch comes after it.
    await commitPartition(topic, partition, next).catch((error: unknown) =>
      log.debug(
        { err: error, topic, partition },
        'commit past transaction markers failed; the next one will do',
      ),
    );
  }

  /** A heartbeat whose membership errors are rethrown (kafkajs rejoins), other errors only logged. */
  async function heartbeatOrRejoin(heartbeat: () => Promise<void>, resume?: () => void): Promise<void> {
    try {
      await heartbeat();
    } catch (error) {
      if (!isMembershipError(error)) {
        log.debug({ err: error }, 'heartbeat failed');
        return;
      }
      resume?.();
      rejoins.inc({ group: groupId });
      throw error;
    }
  }

  const startClient = async (): Promise<void> => {
    const client: Consumer = kafka.consumer({
      groupId,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      sessionTimeout,
      heartbeatInterval,
      // Outputs of transactional producers (the parser's) count only once committed; an aborted attempt
      // of a killed parser is never seen. kafkajs's default too, stated because everything relies on it.
      readUncommitted: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    client.on(client.events.CRASH, (event) => {
      const payload = event.payload as { error: Error; restart: boolean };
      log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (payload.restart) return;
      crashed = payload.error.message;
      if (client === consumer) void replaceClient();
    });
    client.on(client.events.HEARTBEAT, (event) => sawGeneration(event.payload.groupGenerationId));
    // A fetched batch of nothing but markers or aborted records never reaches eachBatch; kafkajs reports it
    // here (batchSize 0) with the offset it reached.
    client.on(client.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, batchSize, lastOffset } = event.payload;
      if (batchSize !== 0 || stopController.signal.aborted) return;
      void emptyStretch(topic, partition, BigInt(lastOffset) + 1n);
    });
    client.on(client.events.COMMIT_OFFSETS, (event) => sawGeneration(event.payload.groupGenerationId));
    client.on(client.events.GROUP_JOIN, (event) => {
      crashed = undefined;
      confirmedAt = Date.now();
      joins++;
      // After a rejoin the group's commits may have moved on (another member); start from what is read.
      committedBy.clear();
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
    consumer = client;
    await client.connect();
    for (const topic of topics) await client.subscribe({ topic, fromBeginning: true });
    await client.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
  };

  /** A crashed consumer that kafkajs will not restart: a new one joins the group after a backoff. */
  async function replaceClient(): Promise<void> {
    if (restarting || stopController.signal.aborted) return;
    restarting = true;
    try {
      for (let attempt = 0; !stopController.signal.aborted; attempt++) {
        await consumer.disconnect().catch(() => undefined);
        await sleep(backoffDelay(attempt, 1_000, 30_000), stopController.signal);
        if (stopController.signal.aborted) return;
        try {
          owned = new Set();
          await startClient();
          restarts.inc({ group: groupId });
          log.warn({ attempt }, 'consumer replaced after a crash');
          return;
        } catch (error) {
          log.error({ err: error, attempt }, 'replacing the consumer failed; trying again');
        }
      }
    } finally {
      restarting = false;
    }
  }

  await startClient();
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
    generation() {
      return generation?.join === joins ? generation.id : undefined;
    },
    membershipConfirmed() {
      return Date.now() - confirmedAt < sessionTimeout - heartbeatInterval;
    },
    async commit(offsets) {
      if (leaving) return;
      const mine = offsets.filter((o) => owned.has(`${o.topic}:${o.partition}`));
      // A membership error here is the caller's (it keeps the work uncommitted); kafkajs's fetch loop meets
      // the same error at its next heartbeat and rejoins.
      if (mine.length > 0) await consumer.commitOffsets(mine);
    },
  };
}
