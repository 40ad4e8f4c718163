import type { Logger } from '@gridstream/runtime';
import type { Admin, Producer } from 'kafkajs';
import { type Kafka, Partitioners } from './kafkajs.js';
import { AdminPartitionCounts, PartitionRouter, type TopicMessages } from './partition-requests.js';

export type { TopicMessages } from './partition-requests.js';

export interface PartitionTransactionsOptions {
  kafka: Kafka;
  /** The consumer group whose offsets the transactions commit. */
  groupId: string;
  /**
   * Prefix of the transactional ids, `<prefix>-<topic>-<partition>`: the same for every replica of a
   * service (it defaults to the group id), so whoever owns an input partition owns its transactional id.
   */
  transactionalIdPrefix: string;
  logger: Logger;
  /** The broker aborts a transaction left open longer than this (a process killed mid-transaction). */
  transactionTimeoutMs?: number;
  maxRequestBytes?: number;
}

interface PartitionState {
  producer: Producer;
  /** The group's committed offset for the partition when the producer was last initialised. */
  floor: bigint | null;
  /** Whether `floor` must be read again before the next slice (after a rebalance). */
  floorStale: boolean;
}

/**
 * Exactly-once "consume, produce, commit" for one consumer group: one transactional producer per INPUT
 * partition, with a transactional id derived from that partition (Kafka's original exactly-once design,
 * the one kafkajs supports: its TxnOffsetCommit carries no group generation, so the coordinator cannot
 * fence a zombie by generation; the transactional id does it instead).
 *
 * Whoever owns input partition P initialises the producer `<prefix>-<topic>-P` before it processes P.
 * Initialising bumps the producer epoch, so a former owner that still thinks it owns P (a zombie: it hung
 * past its session, it has not seen the rebalance yet) is fenced: its open transaction is aborted, and its
 * next produce or commit fails. The initialisation also waits for a transaction of the former owner that
 * is being committed right now to finish, so the committed offset read afterwards (the "floor") is the
 * true one: messages below it were already processed by someone, and are skipped instead of processed
 * twice. Outputs and the input offsets then commit in one transaction: every read_committed consumer
 * sees each slice's outputs exactly once, whatever is killed when.
 */
export class PartitionTransactions {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly router: PartitionRouter;
  private readonly counts: AdminPartitionCounts;
  private admin: Admin | undefined;
  private readonly log: Logger;

  constructor(private readonly options: PartitionTransactionsOptions) {
    this.log = options.logger.child({ component: 'transactions', groupId: options.groupId });
    this.counts = new AdminPartitionCounts(options.kafka);
    this.router = new PartitionRouter(this.counts.read, options.maxRequestBytes ?? 768 * 1024);
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.options.transactionalIdPrefix}-${topic}-${partition}`;
  }

  /**
   * Makes the partition ready for a transaction and returns the committed offset below which its messages
   * are done already (null: the group never committed it). Creates and initialises the producer when
   * there is none (first slice after an assignment, or after a failure), and reads the committed offset
   * again after {@link markStale}.
   */
  async prepare(topic: string, partition: number): Promise<bigint | null> {
    const key = `${topic}:${partition}`;
    let state = this.partitions.get(key);
    if (state && !state.floorStale) return state.floor;
    if (!state) {
      const producer = this.options.kafka.producer({
        transactionalId: this.transactionalId(topic, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.options.transactionTimeoutMs ?? 60_000,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        // The next transaction begins right after the last one's commit, while the coordinator still
        // writes its markers; the broker answers "concurrent transactions" for those few milliseconds.
        // kafkajs's default first retry (300 ms) would then cost every slice a third of a second.
        retry: { initialRetryTime: 20, retries: 12, maxRetryTime: 5_000 },
      });
      await producer.connect();
      try {
        // kafkajs initialises the transactional producer id at the first transaction(): an empty one
        // here fences the former owner and waits for its transaction in progress to end.
        const txn = await producer.transaction();
        await txn.abort();
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
      state = { producer, floor: null, floorStale: true };
      this.partitions.set(key, state);
    }
    state.floor = await this.committedOffset(topic, partition);
    state.floorStale = false;
    return state.floor;
  }

  /**
   * Produces `outputs` and commits `nextOffset` (the next input offset to read) for the partition, all or
   * nothing. On any failure the transaction is aborted, the producer dropped (the next prepare() makes a
   * new one and reads the floor again), and the error rethrown for the caller to retry the slice.
   */
  async commit(
    topic: string,
    partition: number,
    outputs: TopicMessages[],
    nextOffset: string,
  ): Promise<void> {
    const state = this.partitions.get(`${topic}:${partition}`);
    if (!state || state.floorStale) throw new Error(`partition ${topic}:${partition} is not prepared`);
    const txn = await state.producer.transaction().catch(async (error: unknown) => {
      await this.drop(topic, partition, state);
      throw error;
    });
    try {
      // One partition per request, one request at a time (PartitionRouter says why). kafkajs retries a
      // request spanning brokers whole when one of them fails (a "concurrent transactions" answer right
      // after the last commit is the everyday case): the part already written would go out again with new
      // sequence numbers and be taken twice — records duplicated inside one committed transaction.
      for (const request of await this.router.requests(outputs)) {
        await txn.sendBatch({ acks: -1, topicMessages: request } as Parameters<Producer['sendBatch']>[0]);
      }
      await txn.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
      });
      await txn.commit();
      state.floor = BigInt(nextOffset);
    } catch (error) {
      await txn.abort().catch(() => undefined);
      await this.drop(topic, partition, state);
      throw error;
    }
  }

  /**
   * After a rebalance: every kept partition starts over with a new producer and reads its committed offset
   * again before its next slice. A new producer, because the committed offset is only trustworthy once the
   * last transaction is COMPLETE: a commit returns to the producer when the coordinator has decided it,
   * but the markers (and with them the offsets it committed) are written after that, so an offset read right
   * then can still be the one before — and the slice would be parsed twice. Initialising a producer with
   * the partition's transactional id waits for any transaction of that id to complete.
   */
  markStale(): void {
    for (const key of [...this.partitions.keys()]) {
      const [topic, partition] = splitKey(key);
      void this.drop(topic, partition);
    }
  }

  /** The partition moved to another member: its producer goes (the new owner fences it anyway). */
  async release(topic: string, partition: number): Promise<void> {
    await this.drop(topic, partition);
  }

  /** Partitions with a producer right now, as `topic:partition`. */
  held(): string[] {
    return [...this.partitions.keys()];
  }

  async close(): Promise<void> {
    const keys = [...this.partitions.keys()];
    await Promise.all(
      keys.map((key) => {
        const [topic, partition] = splitKey(key);
        return this.drop(topic, partition);
      }),
    );
    if (this.admin) {
      await this.admin.disconnect().catch(() => undefined);
      this.admin = undefined;
    }
    await this.counts.close();
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  /**
   * Forgets the partition's producer and disconnects it. With `only`, only if that is still the current
   * one: a slice abandoned after a rebalance may fail late, and must not take a newer producer with it.
   */
  private async drop(topic: string, partition: number, only?: PartitionState): Promise<void> {
    const key = `${topic}:${partition}`;
    const state = this.partitions.get(key);
    if (!state || (only !== undefined && state !== only)) {
      if (only) await only.producer.disconnect().catch(() => undefined);
      return;
    }
    this.partitions.delete(key);
    await state.producer
      .disconnect()
      .catch((error: unknown) =>
        this.log.warn({ err: error, topic, partition }, 'producer disconnect failed'),
      );
  }

  private async committedOffset(topic: string, partition: number): Promise<bigint | null> {
    const client = await this.adminClient();
    try {
      const [result] = await client.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
      const offset = result?.partitions.find((p) => p.partition === partition)?.offset;
      return offset === undefined || offset === '-1' ? null : BigInt(offset);
    } catch (error) {
      // A broken admin connection is replaced on the next attempt rather than reused.
      this.admin = undefined;
      await client.disconnect().catch(() => undefined);
      throw error;
    }
  }
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
