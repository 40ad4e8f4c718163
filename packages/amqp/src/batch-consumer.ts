import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { type BackoffOptions, backoffDelay, Sleeper } from './backoff.js';
import { openConnection } from './connect.js';
import { type AmqpConfig, describeAmqpUrl } from './env.js';
import { type AmqpLogger, errorFields, silentLogger } from './logger.js';
import { declareTopology } from './topology.js';

/** One message as the batch handler sees it. `body` is the payload exactly as published. */
export interface AmqpDelivery {
  body: Buffer;
  routingKey: string;
  exchange: string;
  messageId?: string;
  /** AMQP `timestamp` property as the publisher set it (seconds since the epoch per the AMQP spec). */
  timestamp?: number;
  contentType?: string;
  headers: Record<string, unknown>;
  /** Only meaningful on the channel that delivered it; the consumer does all acking itself. */
  deliveryTag: number;
  redelivered: boolean;
}

export interface AmqpBatchConsumerOptions {
  amqp: AmqpConfig;
  /**
   * Handles one batch. Resolve only when the batch is durably handed on (e.g. Kafka acknowledged it):
   * resolving acks the whole batch. Rejecting retries the same batch with backoff; nothing is nacked.
   */
  onBatch: (deliveries: AmqpDelivery[]) => Promise<void>;
  /** Most deliveries per batch. Default 500. */
  batchSize?: number;
  /** How long a partial batch waits for more deliveries before it is handed over. Default 50 ms. */
  lingerMs?: number;
  retryBackoff?: BackoffOptions;
  reconnectBackoff?: BackoffOptions;
  /** Shown by `rabbitmqctl list_connections client_properties` and the management UI. */
  connectionName?: string;
  logger?: AmqpLogger;
}

export interface AmqpConsumerState {
  /** Connected, topology declared and the consumer registered: the readiness condition. */
  connected: boolean;
  stopped: boolean;
  lastBatchAt?: Date;
  lastError?: string;
}

export interface AmqpConsumerCounters {
  deliveries: number;
  /** Batches acked. */
  batches: number;
  /** Deliveries acked. */
  acked: number;
  /** onBatch rejections (each followed by a retry of the same batch unless stopping). */
  failedAttempts: number;
  /**
   * Deliveries dropped from memory unacked because their channel died; the broker redelivers them on the
   * next channel, so this counts redeliveries to expect, not losses.
   */
  abandoned: number;
  reconnects: number;
}

/** One connection + channel. Delivery tags are scoped to it, so an ack is only ever sent on its own session. */
interface Session {
  id: number;
  connection: ChannelModel;
  channel: Channel;
  consumerTag?: string;
  alive: boolean;
  /** Set once consuming; a session lost before that is retried by connectLoop itself, not by onSessionLost. */
  established: boolean;
}

const DEFAULT_RETRY: BackoffOptions = { initialMs: 200, maxMs: 5_000 };
const DEFAULT_RECONNECT: BackoffOptions = { initialMs: 250, maxMs: 5_000 };

/**
 * Consumes a RabbitMQ queue in batches with at-least-once delivery:
 * - a batch is acked with one multiple-ack of its last delivery, only after onBatch resolved. Batches are
 *   handled strictly one after another, so every lower tag on the channel is already acked or in this batch;
 * - a failing batch is retried as it is, with backoff, until it succeeds or stop() is called. It is never
 *   nacked or dropped: a downstream outage (Kafka) must hold messages in RabbitMQ, not lose them;
 * - on connection or channel loss it reconnects with backoff. Deliveries of the dead channel are dropped
 *   from memory and never acked on the new channel (the tags would name other messages, or be unknown and
 *   make RabbitMQ close the channel with PRECONDITION_FAILED); the broker redelivers them instead.
 */
export class AmqpBatchConsumer {
  private readonly opts: Required<Omit<AmqpBatchConsumerOptions, 'logger'>>;
  private readonly log: AmqpLogger;
  private readonly sleeper = new Sleeper();
  private session: Session | undefined;
  private sessionSeq = 0;
  private buffer: ConsumeMessage[] = [];
  private firstBufferedAt = 0;
  private wakePump: (() => void) | undefined;
  private pumpDone: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;
  private stopRequested = false;
  private stopping: Promise<void> | undefined;
  private consumingWaiters: Array<() => void> = [];
  private readonly st: AmqpConsumerState = { connected: false, stopped: false };
  private readonly cnt: AmqpConsumerCounters = {
    deliveries: 0,
    batches: 0,
    acked: 0,
    failedAttempts: 0,
    abandoned: 0,
    reconnects: 0,
  };

  constructor(options: AmqpBatchConsumerOptions) {
    this.opts = {
      batchSize: 500,
      lingerMs: 50,
      retryBackoff: DEFAULT_RETRY,
      reconnectBackoff: DEFAULT_RECONNECT,
      connectionName: 'gridstream-consumer',
      ...options,
    };
    this.log = options.logger ?? silentLogger;
    if (this.opts.batchSize < 1) throw new RangeError('batchSize must be at least 1');
    if (this.opts.amqp.prefetch < this.opts.batchSize) {
      this.log.warn(
        { prefetch: this.opts.amqp.prefetch, batchSize: this.opts.batchSize },
        'AMQP_PREFETCH is below the batch size: batches never fill and are flushed by the linger timer only',
      );
    }
  }

  get state(): Readonly<AmqpConsumerState> {
    return { ...this.st };
  }

  get counters(): Readonly<AmqpConsumerCounters> {
    return { ...this.cnt };
  }

  /**
   * Starts connecting and consuming in the background and returns at once: a broker that is down at
   * startup is retried, and readiness (state.connected) says when consumption runs.
   */
  start(): void {
    if (this.pumpDone) throw new Error('AmqpBatchConsumer already started');
    this.pumpDone = this.pump();
    this.connecting = this.connectLoop();
  }

  /** Resolves once the consumer is registered on the broker; rejects after timeoutMs. */
  whenConsuming(timeoutMs = 30_000): Promise<void> {
    if (this.st.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.consumingWaiters = this.consumingWaiters.filter((w) => w !== done);
        reject(
          new Error(
            `AMQP consumer not connected after ${timeoutMs} ms: ${this.st.lastError ?? 'no error yet'}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.consumingWaiters.push(done);
    });
  }

  /**
   * Stop intake (cancel the consumer), let the batch in flight finish and be acked, close the channel and
   * the connection. Deliveries buffered but not yet handed to onBatch go back to the queue when the
   * channel closes. A batch whose onBatch fails during stop is not retried; the broker redelivers it.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopRequested = true;
    this.sleeper.interrupt();
    this.wakePump?.();
    const session = this.session;
    if (session?.alive && session.consumerTag !== undefined) {
      try {
        await session.channel.cancel(session.consumerTag);
      } catch (err) {
        this.log.debug(errorFields(err), 'AMQP consumer cancel failed (channel already closing)');
      }
    }
    await this.pumpDone;
    await this.connecting;
    const released = this.buffer.length;
    this.buffer = [];
    const current = this.session;
    this.session = undefined;
    if (current) await this.closeSession(current);
    this.st.connected = false;
    this.st.stopped = true;
    this.log.info({ released, ...this.cnt }, 'AMQP consumer stopped');
  }

  private async connectLoop(): Promise<void> {
    let attempt = 0;
    while (!this.stopRequested) {
      try {
        await this.openSession();
        return;
      } catch (err) {
        if (this.stopRequested) return;
        attempt += 1;
        this.st.lastError = (err as Error).message;
        const delayMs = backoffDelay(attempt, this.opts.reconnectBackoff);
        this.log.warn(
          { ...errorFields(err), attempt, delayMs, broker: describeAmqpUrl(this.opts.amqp.connection) },
          'AMQP connect failed; retrying',
        );
        await this.sleeper.sleep(delayMs);
      }
    }
  }

  private async openSession(): Promise<void> {
    const { amqp } = this.opts;
    const connection = await openConnection(amqp.connection, this.opts.connectionName);
    // channel is filled in below; until then only the connection's listeners can see the session.
    const session: Session = {
      id: ++this.sessionSeq,
      connection,
      channel: undefined as unknown as Channel,
      alive: true,
      established: false,
    };
    // Without an 'error' listener, a broker-side close (CONNECTION_FORCED on restart) would be an
    // unhandled 'error' event and crash the process instead of triggering a reconnect.
    connection.on('error', (err: Error) =>
      this.log.warn({ ...errorFields(err), session: session.id }, 'AMQP connection error'),
    );
    connection.on('close', () => this.onSessionLost(session, 'connection closed'));
    try {
      const channel = await connection.createChannel();
      session.channel = channel;
      channel.on('error', (err: Error) =>
        this.log.warn({ ...errorFields(err), session: session.id }, 'AMQP channel error'),
      );
      channel.on('close', () => this.onSessionLost(session, 'channel closed'));
      await declareTopology(channel, amqp.topology);
      await channel.prefetch(amqp.prefetch);
      if (this.stopRequested) throw new Error('stopping');
      this.session = session;
      const { consumerTag } = await channel.consume(
        amqp.topology.queue,
        (msg) => this.onMessage(session, msg),
        {
          noAck: false,
        },
      );
      session.consumerTag = consumerTag;
      if (!session.alive) throw new Error('AMQP session closed while starting the consumer');
      session.established = true;
    } catch (err) {
      // Mark dead first so the close events of this half-open session do not schedule a second reconnect.
      session.alive = false;
      if (this.session === session) {
        this.session = undefined;
        this.buffer = [];
      }
      await connection.close().catch(() => {});
      throw err;
    }
    this.st.connected = true;
    this.st.lastError = undefined;
    this.log.info(
      { session: session.id, broker: describeAmqpUrl(amqp.connection), queue: amqp.topology.queue },
      'AMQP consumer connected',
    );
    for (const waiter of this.consumingWaiters.splice(0)) waiter();
  }

  private onSessionLost(session: Session, why: string): void {
    if (!session.alive) return;
    session.alive = false;
    if (!session.established) return;
    if (this.session === session) this.session = undefined;
    this.st.connected = false;
    // These were delivered on the dead channel: the broker requeues them, and acking them on a new channel
    // would ack different (or unknown) tags.
    const dropped = this.buffer.length;
    this.cnt.abandoned += dropped;
    this.buffer = [];
    // A retry backoff for a batch of this session is pointless now: end it so the pump moves on.
    this.sleeper.interrupt();
    void this.closeSession(session);
    if (this.stopRequested) return;
    this.cnt.reconnects += 1;
    this.st.lastError = why;
    this.log.warn({ session: session.id, why, dropped }, 'AMQP session lost; reconnecting');
    this.connecting = this.connectLoop();
  }

  private async closeSession(session: Session): Promise<void> {
    session.alive = false;
    try {
      await session.channel?.close();
    } catch {
      // already closed
    }
    try {
      await session.connection.close();
    } catch {
      // already closed
    }
  }

  private onMessage(session: Session, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted, or a quorum queue lost its leader): start over,
      // which re-declares the queue.
      this.log.warn({ session: session.id }, 'AMQP consumer cancelled by the broker');
      this.onSessionLost(session, 'consumer cancelled by broker');
      return;
    }
    if (!session.alive || this.session !== session) return;
    this.cnt.deliveries += 1;
    this.buffer.push(msg);
    if (this.buffer.length === 1) {
      this.firstBufferedAt = Date.now();
      this.wakePump?.();
    } else if (this.buffer.length >= this.opts.batchSize) {
      this.wakePump?.();
    }
  }

  private waitForWork(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wakePump = () => {
        this.wakePump = undefined;
        done();
      };
    });
  }

  private async pump(): Promise<void> {
    const { batchSize, lingerMs } = this.opts;
    while (!this.stopRequested) {
      if (this.buffer.length === 0) {
        await this.waitForWork();
        continue;
      }
      const age = Date.now() - this.firstBufferedAt;
      if (this.buffer.length < batchSize && age < lingerMs) {
        await this.waitForWork(lingerMs - age);
        continue;
      }
      const session = this.session;
      if (!session) {
        this.buffer = [];
        continue;
      }
      // Deliveries left in the buffer arrived while the previous batch was in flight and have waited long
      // enough: keeping firstBufferedAt lets them go out right after this batch.
      const batch = this.buffer.splice(0, batchSize);
      await this.handle(session, batch);
    }
  }

  private async handle(session: Session, messages: ConsumeMessage[]): Promise<void> {
    const deliveries = messages.map(toDelivery);
    const last = messages[messages.length - 1]!;
    let attempt = 0;
    for (;;) {
      if (!session.alive) {
        this.cnt.abandoned += messages.length;
        return;
      }
      try {
        await this.opts.onBatch(deliveries);
      } catch (err) {
        attempt += 1;
        this.cnt.failedAttempts += 1;
        this.st.lastError = (err as Error).message;
        if (this.stopRequested) {
          this.log.warn(
            { ...errorFields(err), size: messages.length },
            'batch failed while stopping; left unacked for the broker to redeliver',
          );
          return;
        }
        const delayMs = backoffDelay(attempt, this.opts.retryBackoff);
        this.log.warn(
          { ...errorFields(err), size: messages.length, attempt, delayMs },
          'batch failed; retrying it',
        );
        await this.sleeper.sleep(delayMs);
        if (this.stopRequested) return;
        continue;
      }
      if (!session.alive) {
        // Handled but its channel is gone: the broker redelivers it and downstream sees it twice, which
        // at-least-once plus idempotent consumers allows. Acking on another channel would not.
        this.cnt.abandoned += messages.length;
        this.log.info(
          { size: messages.length, session: session.id },
          'batch handled after its channel closed',
        );
        return;
      }
      try {
        session.channel.ack(last, true);
      } catch (err) {
        this.cnt.abandoned += messages.length;
        this.log.warn(errorFields(err), 'ack failed: channel closing; the broker redelivers the batch');
        return;
      }
      this.cnt.batches += 1;
      this.cnt.acked += messages.length;
      this.st.lastBatchAt = new Date();
      return;
    }
  }
}

function toDelivery(msg: ConsumeMessage): AmqpDelivery {
  const { properties: p, fields: f } = msg;
  return {
    body: msg.content,
    routingKey: f.routingKey,
    exchange: f.exchange,
    messageId: typeof p.messageId === 'string' ? p.messageId : undefined,
    timestamp: typeof p.timestamp === 'number' ? p.timestamp : undefined,
    contentType: typeof p.contentType === 'string' ? p.contentType : undefined,
    headers: p.headers ?? {},
    deliveryTag: f.deliveryTag,
    redelivered: f.redelivered,
  };
}
