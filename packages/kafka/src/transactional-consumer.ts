import { Registry } from 'prom-client';
import {
  type BatchContext,
  type ConsumerHandle,
  type ConsumerOptions,
  runConsumer,
} from './consumer-loop.js';
import type { InMessage } from './messages.js';
import { counter } from './metrics.js';
import { PartitionTransactions, type TopicMessages } from './partition-transactions.js';

export interface TransactionalContext extends BatchContext {
  /**
   * The group's committed offset for the partition when this slice began (null: never committed): the
   * offset the slice starts at or after. State kept beside the outputs (the parser's duplicate window) is
   * valid only if it was taken at exactly this offset.
   */
  committedOffset: bigint | null;
  /**
   * Produces `outputs` and commits the slice's input offsets in ONE Kafka transaction; resolves once it is
   * committed. At most once per handler call; a handler that never calls it commits the offsets alone when
   * it returns. Throws when the transaction failed (it was aborted): let it propagate, the slice is retried.
   */
  commit(outputs: TopicMessages[]): Promise<void>;
}

export type TransactionalHandler = (messages: InMessage[], ctx: TransactionalContext) => Promise<void>;

export interface TransactionalConsumerOptions
  extends Omit<
    ConsumerOptions,
    'handle' | 'beforeLeave' | 'partitionsConsumedConcurrently' | 'onEmptyBatch' | 'abandonOnMembershipLoss'
  > {
  handle: TransactionalHandler;
  /** Transactional ids are `<prefix>-<topic>-<partition>`; default: the group id. */
  transactionalIdPrefix?: string;
  transactionTimeoutMs?: number;
}

/**
 * Consume → transform → produce, exactly once: each slice's outputs and its input offsets are committed in
 * one transaction (see PartitionTransactions for the fencing of former owners). Messages below the
 * group's committed offset — done by a former owner whose commit landed after this member's fetch began —
 * are skipped, never processed twice. Every reader of the outputs must read committed data only (every
 * consumer in this package does).
 */
export async function runTransactionalConsumer(
  options: TransactionalConsumerOptions,
): Promise<ConsumerHandle> {
  const registry = options.metrics ?? new Registry();
  const committed = counter(
    registry,
    'gridstream_transactions_total',
    'Transactions of consume-produce-commit, by outcome',
    ['group', 'outcome'],
  );
  const skipped = counter(
    registry,
    'gridstream_transaction_skipped_messages_total',
    'Messages skipped because a former owner of the partition had already committed them',
    ['group'],
  );
  const { groupId } = options;
  const log = options.logger.child({ component: 'transactions', groupId });
  const txns = new PartitionTransactions({
    kafka: options.kafka,
    groupId,
    transactionalIdPrefix: options.transactionalIdPrefix ?? groupId,
    logger: options.logger,
    ...(options.transactionTimeoutMs !== undefined
      ? { transactionTimeoutMs: options.transactionTimeoutMs }
      : {}),
  });

  const consumer = await runConsumer({
    ...options,
    metrics: registry,
    // Offsets are committed only inside transactions; an input topic is not itself transactional (raw is
    // written by idempotent producers), so there are no marker stretches to commit past.
    onEmptyBatch: () => undefined,
    // A handler commits its own transaction: it must have returned before the member rejoins.
    abandonOnMembershipLoss: false,
    // One slice at a time: the transactions of different partitions would otherwise share nothing but the
    // CPU, and the parser's quality stage serialises its slices anyway.
    partitionsConsumedConcurrently: 1,
    async handle(messages, ctx) {
      const floor = await txns.prepare(ctx.topic, ctx.partition);
      const fresh = floor === null ? messages : messages.filter((m) => BigInt(m.offset) >= floor);
      if (fresh.length < messages.length) {
        skipped.inc({ group: groupId }, messages.length - fresh.length);
        log.info(
          {
            topic: ctx.topic,
            partition: ctx.partition,
            committed: String(floor),
            skipped: messages.length - fresh.length,
            from: messages[0]!.offset,
          },
          'messages below the committed offset skipped: a former owner of the partition did them',
        );
      }
      if (fresh.length === 0) return { commitOffset: null };
      const next = (BigInt(fresh[fresh.length - 1]!.offset) + 1n).toString();
      let done = false;
      const commit = async (outputs: TopicMessages[]): Promise<void> => {
        if (done) throw new Error('commit() called twice for one slice');
        // This member lost the partition while the slice was in hand: commit nothing (the loop rejoins,
        // and whoever owns the partition now does the slice).
        if (ctx.membership.aborted) throw ctx.membership.reason;
        try {
          await txns.commit(ctx.topic, ctx.partition, outputs, next);
        } catch (error) {
          committed.inc({ group: groupId, outcome: 'aborted' });
          throw error;
        }
        done = true;
        committed.inc({ group: groupId, outcome: 'committed' });
      };
      await options.handle(fresh, { ...ctx, committedOffset: floor, commit });
      if (!done) await commit([]);
      // Committed inside the transaction: the loop commits nothing more.
      return { commitOffset: null };
    },
    onAssignment(assigned) {
      const mine = new Set(
        assigned.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}:${p}`)),
      );
      for (const key of txns.held()) {
        if (mine.has(key)) continue;
        const at = key.lastIndexOf(':');
        void txns.release(key.slice(0, at), Number(key.slice(at + 1)));
      }
      // Whoever owned a partition in between may have committed more: read every floor again.
      txns.markStale();
      options.onAssignment?.(assigned);
    },
  });

  return {
    ...consumer,
    async stop() {
      await consumer.stop();
      await txns.close();
    },
  };
}
