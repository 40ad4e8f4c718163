import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { type BackoffOptions, backoffDelay, Sleeper } from './backoff.js';
import { openConnection } from './connect.js';
import { type AmqpConfig, describeAmqpUrl } from './env.js';
import { type AmqpLogger, errorFields, silentLogger } from './logger.js';
import { declareExchange, declareTopology } from './topology.js';

export interface PublishProperties {
  messageId?: string;
  /** AMQP timestamp: seconds since the epoch per the spec. */
  timestamp?: number;
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  correlationId?: string;
  type?: string;
  appId?: string;
  /** Default true: the message survives a broker restart (when its queue is durable). */
  persistent?: boolean;
}

export interface AmqpPublisherOptions {
  amqp: Pick<AmqpConfig, 'connection' | 'topology'>;
  /**
   * What to declare on each (re)connect. `topology` (exchange + queue + bindings) makes messages published
   * before any consumer started wait in the queue instead of being dropped by an exchange without
   * bindings; `exchange` suits a publisher that must not create queues. Default `exchange`.
   */
  declare?: 'topology' | 'exchange' | 'none';
  connectionName?: string;
  reconnectBackoff?: BackoffOptions;
  logger?: AmqpLogger;
}

export interface AmqpPublisherCounters {
  published: number;
  confirmed: number;
  failed: number;
  /** Confirmed by the broker but routed to no queue (nothing bound for that routing key). */
  unroutable: number;
  reconnects: number;
}

interface Session {
  id: number;
  connection: ChannelModel;
  channel: ConfirmChannel;
  alive: boolean;
  /** Set while the socket's write buffer is full; publishes wait for 'drain' instead of piling up in memory. */
  drained?: Promise<void>;
}

export class PublisherClosedError extends Error {
  override name = 'PublisherClosedError';
}

/**
 * Publishes on a confirm channel: publish() resolves when the broker has taken responsibility for the
 * message (confirm), rejects when it nacked it or the channel died first. The caller decides whether to
 * publish again (at-least-once; the AMQP message-id lets downstream recognise the repeat).
 * Reconnects with backoff on connection loss; publishes made meanwhile wait for the new channel.
 * Messages are written in the order publish() was called.
 */
export class AmqpPublisher {
  private readonly opts: Required<Omit<AmqpPublisherOptions, 'logger'>>;
  private readonly log: AmqpLogger;
  private readonly sleeper = new Sleeper();
  private session: Session | undefined;
  private sessionSeq = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;
  private connectRunning = false;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private lastError: string | undefined;
  private warnedUnroutable = false;
  private readonly cnt: AmqpPublisherCounters = {
    published: 0,
    confirmed: 0,
    failed: 0,
    unroutable: 0,
    reconnects: 0,
  };

  constructor(options: AmqpPublisherOptions) {
    this.opts = {
      declare: 'exchange',
      connectionName: 'gridstream-publisher',
      reconnectBackoff: { initialMs: 250, maxMs: 5_000 },
      ...options,
    };
    this.log = options.logger ?? silentLogger;
  }

  get connected(): boolean {
    return this.session?.alive === true;
  }

  get counters(): Readonly<AmqpPublisherCounters> {
    return { ...this.cnt };
  }

  get lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  /** Starts connecting in the background; publish() waits for the connection. */
  start(): void {
    if (this.connectRunning || this.session?.alive || this.closed) return;
    this.connecting = this.connectLoop();
  }

  /** Starts if needed and resolves once connected; rejects after timeoutMs (no limit when omitted) or on close(). */
  async connect(timeoutMs?: number): Promise<void> {
    this.start();
    if (this.connected) return;
    if (timeoutMs === undefined) return this.waitForSession();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.waitForSession(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`AMQP publisher not connected after ${timeoutMs} ms: ${this.lastError ?? ''}`),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async publish(routingKey: string, body: Buffer, props: PublishProperties = {}): Promise<void> {
    const { exchange } = this.opts.amqp.topology;
    for (;;) {
      if (this.closed) throw new PublisherClosedError('AMQP publisher is closed');
      const session = this.session;
      if (!session?.alive) {
        this.start();
        await this.waitForSession();
        continue;
      }
      if (session.drained) {
        await session.drained;
        continue;
      }
      return new Promise<void>((resolve, reject) => {
        let writable: boolean;
        try {
          writable = session.channel.publish(
            exchange,
            routingKey,
            body,
            { persistent: true, mandatory: true, ...props },
            (err) => {
              if (err) {
                this.cnt.failed += 1;
                reject(err instanceof Error ? err : new Error(`broker nacked the message: ${String(err)}`));
              } else {
                this.cnt.confirmed += 1;
                resolve();
              }
            },
          );
        } catch (err) {
          // Channel closed between the alive check and the write, or headers too large to encode.
          this.cnt.failed += 1;
          reject(err);
          return;
        }
        this.cnt.published += 1;
        if (!writable && !session.drained) {
          session.drained = new Promise<void>((resolveDrain) => {
            const release = () => {
              session.channel.off('drain', release);
              session.channel.off('close', release);
              session.drained = undefined;
              resolveDrain();
            };
            session.channel.on('drain', release);
            session.channel.on('close', release);
          });
        }
      });
    }
  }

  /** Waits for outstanding confirms, then closes the channel and the connection. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.sleeper.interrupt();
    for (const waiter of this.waiters.splice(0))
      waiter.reject(new PublisherClosedError('AMQP publisher is closed'));
    await this.connecting;
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    try {
      await session.channel.waitForConfirms();
    } catch (err) {
      this.log.warn(errorFields(err), 'some publishes were not confirmed before close');
    }
    session.alive = false;
    await session.channel.close().catch(() => {});
    await session.connection.close().catch(() => {});
  }

  private waitForSession(): Promise<void> {
    if (this.session?.alive) return Promise.resolve();
    if (this.closed) return Promise.reject(new PublisherClosedError('AMQP publisher is closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async connectLoop(): Promise<void> {
    this.connectRunning = true;
    try {
      await this.connectUntilDone();
    } finally {
      this.connectRunning = false;
    }
  }

  private async connectUntilDone(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        await this.openSession();
        return;
      } catch (err) {
        if (this.closed) return;
        attempt += 1;
        this.lastError = (err as Error).message;
        const delayMs = backoffDelay(attempt, this.opts.reconnectBackoff);
        this.log.warn(
          { ...errorFields(err), attempt, delayMs, broker: describeAmqpUrl(this.opts.amqp.connection) },
          'AMQP publisher connect failed; retrying',
        );
        await this.sleeper.sleep(delayMs);
      }
    }
  }

  private async openSession(): Promise<void> {
    const connection = await openConnection(this.opts.amqp.connection, this.opts.connectionName);
    let session: Session | undefined;
    connection.on('error', (err: Error) =>
      this.log.warn(errorFields(err), 'AMQP publisher connection error'),
    );
    connection.on('blocked', (reason: string) =>
      this.log.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm); publishes wait'),
    );
    connection.on('unblocked', () => this.log.info({}, 'RabbitMQ unblocked publishing'));
    connection.on('close', () => {
      if (session) this.onSessionLost(session);
    });
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (err: Error) => this.log.warn(errorFields(err), 'AMQP publisher channel error'));
      channel.on('return', (msg: Message) => this.onReturned(msg));
      if (this.opts.declare === 'topology') await declareTopology(channel, this.opts.amqp.topology);
      else if (this.opts.declare === 'exchange') await declareExchange(channel, this.opts.amqp.topology);
      session = { id: ++this.sessionSeq, connection, channel, alive: true };
      const established = session;
      channel.on('close', () => this.onSessionLost(established));
    } catch (err) {
      await connection.close().catch(() => {});
      throw err;
    }
    if (!session.alive) throw new Error('AMQP connection closed while opening the channel');
    if (this.closed) {
      session.alive = false;
      await connection.close().catch(() => {});
      return;
    }
    this.session = session;
    this.lastError = undefined;
    this.log.info(
      { session: session.id, broker: describeAmqpUrl(this.opts.amqp.connection) },
      'AMQP publisher connected',
    );
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private onSessionLost(session: Session): void {
    if (!session.alive) return;
    session.alive = false;
    if (this.session !== session) return;
    this.session = undefined;
    void session.connection.close().catch(() => {});
    if (this.closed) return;
    this.cnt.reconnects += 1;
    this.lastError = 'connection lost';
    this.log.warn({ session: session.id }, 'AMQP publisher lost its connection; reconnecting');
    this.start();
  }

  private onReturned(msg: Message): void {
    this.cnt.unroutable += 1;
    if (!this.warnedUnroutable) {
      this.warnedUnroutable = true;
      this.log.warn(
        { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey },
        'message routed to no queue (nothing bound for its routing key): it was dropped by the broker',
      );
    }
  }
}
