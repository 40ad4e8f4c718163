import {
  deadLetter as buildDeadLetter,
  createKafka,
  ensureConfiguredTopics,
  type Kafka,
  type KafkaEnv,
  type OutMessage,
  ReliableProducer,
} from '@gridstream/kafka';
import { backoffDelay, type Logger, type Readiness } from '@gridstream/runtime';
import { type DeadLetterReason, type PipelineStage, RAW_HEADER, type Sample } from '@gridstream/schema';
import { openSourceSpool, type SourceSpool, type Spool, type SpoolEnv } from '@gridstream/spool';
import type { Registry } from 'prom-client';
import { samplesMessages } from './envelope.js';
import { type SourceMetrics, sourceMetrics } from './source-metrics.js';

/** The collector kinds; the `source` label of every gridstream_source_* metric. */
export type SourceKind = 'modbus' | 'opcua' | 'serial' | 'mqtt' | 'import';

/** What a source needs of its service's configuration: Kafka (topics raw and dlq) and the spool. */
export type SourceEnv = KafkaEnv & SpoolEnv;

/**
 * The parts of a ServiceContext a source uses (a ServiceContext<C> with C ⊇ SourceEnv fits). A source with
 * the direct outbox needs no spool settings: `SourceContext<KafkaEnv>`.
 */
export interface SourceContext<E extends KafkaEnv = SourceEnv> {
  config: E;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
}

/**
 * Where pushed samples wait for Kafka:
 * - `spool` (collectors): the disk spool. `push` returns once they are appended; a sender drains the spool,
 *   retrying for as long as Kafka is away. A physical process cannot be paused, so nothing read may wait on
 *   Kafka.
 * - `direct` (the importer): nowhere. `send` produces and resolves once Kafka acknowledged (acks=all), or
 *   rejects after the producer's retries. For input that can be read again — a file — whose reader waits
 *   for Kafka (backpressure) and reports what was acknowledged; a spool would only copy the file to disk.
 */
export type SourceOutbox = 'spool' | 'direct';

export interface SourceOptions {
  kind: SourceKind;
  /** The service's name: the spool's default folder is `.local/spool/<service>`. */
  service: string;
  /** At most this many samples in one samples.v1 message (default 500). */
  maxSamplesPerMessage?: number;
  /** Spooled messages per produce request (default 500). */
  maxBatch?: number;
  /** An existing client (default: one from the config). */
  kafka?: Kafka;
  /** `spool` (default) or `direct`; see SourceOutbox. */
  outbox?: SourceOutbox;
  /**
   * An existing, connected producer (the console's, which sends replays too): the source neither connects
   * nor disconnects it. Default: a producer of its own.
   */
  producer?: ReliableProducer;
  /** Called with the number of messages (samples and dead letters) Kafka acknowledged. */
  onSent?: (messages: number) => void;
  /** The source's own state, kept in the spool (SpoolOptions.checkpoint; the OPC UA collector's last values). */
  checkpoint?: () => Buffer;
  /**
   * Called once at open with what the spool holds of that state: the newest checkpoint and the samples
   * messages spooled after it (dead letters left out), before anything new is appended.
   */
  restore?: (recovered: Spool['recovered']) => void;
}

export interface EndpointOptions {
  /** The endpoint's name in the collector's config: the `endpoint` label of its metrics. */
  name: string;
  /** `gs-source` of what it reads: `serial:///dev/ttyUSB0`, `opcua://host:4840/path` (never credentials). */
  uri: string;
  /** Key of its dead letters (the site it serves, when known); default: no key. */
  site?: string;
  /**
   * Adds readiness check `<kind>:<name>`, ok while connected (default true). A source with a richer
   * check of its own (OPC UA's session state) says false and keeps reporting `connected()` for the gauge.
   */
  readiness?: boolean;
  /** `gs-schema` of its dead letters: what the raw bytes are (default `<kind>.input`, e.g. `serial.line`). */
  inputFormat?: string;
}

export interface PushOptions {
  /** `gs-source` of these samples when finer than the endpoint's (an MQTT topic under its broker). */
  source?: string;
  /** `gs-received-at` (default: now). */
  receivedAt?: Date;
  /**
   * `gs-message-id` of each message of this push, from the index (in `samples`) of its first sample: for
   * input with positions of its own, so that reading it again gives the same ids and the parser drops the
   * copy (the importer: `import:<file>.<mapping>:<line>`). Default: the spool's `<spool id>-<sequence>`;
   * with the direct outbox, no id.
   */
  messageId?: (firstSample: number) => string;
  /** At most this many samples per message for this push (default: the source's maxSamplesPerMessage). */
  maxSamplesPerMessage?: number;
}

export interface DeadLetterOptions {
  /** `gs-source` of this input when finer than the endpoint's. */
  source?: string;
  /** Key of the letter (default: the endpoint's site, else none). */
  key?: string | null;
  /** When the input was received (default: now); also the letter's `gs-dlq-at`. */
  receivedAt?: Date;
}

/** One endpoint (port, server, broker, device connection) of a source. */
export interface SourceEndpoint {
  readonly name: string;
  readonly uri: string;
  /**
   * Appends samples to the disk spool as samples.v1 messages (per site, at most maxSamplesPerMessage
   * each); returns how many messages. Once it returns, the samples survive a kill -9 (docs/reliability.md).
   */
  push(samples: readonly Sample[], options?: PushOptions): number;
  /**
   * The same messages, for a caller that waits: resolves with how many once they are safe — appended to the
   * spool (spool outbox: at once), acknowledged by Kafka (direct outbox). Rejects when Kafka refused them
   * after the producer's retries; nothing of a rejected call is counted.
   */
  send(samples: readonly Sample[], options?: PushOptions): Promise<number>;
  /**
   * Input that cannot be read: counted (`gridstream_source_bad_input_total{reason}`) and dead-lettered to
   * KAFKA_TOPIC_DLQ through the same spool, with its bytes (first 256 KiB), stage `collector` (`importer`
   * for kind import), the reason code and `message`, `gs-source` and `gs-received-at`.
   */
  deadLetter(
    raw: Buffer | string,
    reason: DeadLetterReason,
    message: string,
    options?: DeadLetterOptions,
  ): void;
  /** The endpoint's connection state: `gridstream_source_connected`, disconnects, readiness. */
  connected(up: boolean, detail?: string): void;
  readonly isConnected: boolean;
}

export interface Source {
  readonly kind: SourceKind;
  endpoint(options: EndpointOptions): SourceEndpoint;
  /** Spool and Kafka in one line, for readiness details and logs. */
  describe(): string;
  /** Messages spooled (direct outbox: being sent) and not yet acknowledged by Kafka. */
  readonly pending: number;
  /**
   * Shutdown, after intake stopped: sends what it can before `deadline` (epoch ms); the rest stays spooled
   * and goes first after the restart. Closes the Kafka client.
   */
  close(deadline: number): Promise<void>;
}

/**
 * Spool records bound for the DLQ carry this header (the logical topic, so a renamed KAFKA_TOPIC_DLQ
 * still applies after a restart); it is removed before the letter is produced.
 */
export const SPOOL_TOPIC_HEADER = 'gs-spool-topic';

/** Whether a spooled message is a dead letter (not samples): for readers of the spool folder. */
export const isSpooledDeadLetter = (message: OutMessage): boolean =>
  message.headers?.[SPOOL_TOPIC_HEADER] === 'dlq';

/**
 * Opens a source: its outbox (the disk spool with SPOOL_* settings, recovered and sent first; or direct
 * sends), its Kafka producer (with the spool connected in the background: the source reads and spools while
 * Kafka is away), readiness check `producer` (spool outbox) and the standard metrics. Call `endpoint()` for
 * each connection it reads.
 */
export function openSource(ctx: SourceContext, options: SourceOptions & { outbox?: 'spool' }): Source;
export function openSource(
  ctx: SourceContext<KafkaEnv>,
  options: SourceOptions & { outbox: 'direct' },
): Source;
export function openSource(ctx: SourceContext<KafkaEnv>, options: SourceOptions): Source {
  const { config, logger, readiness } = ctx;
  const kind = options.kind;
  const direct = options.outbox === 'direct';
  const stage: PipelineStage = kind === 'import' ? 'importer' : 'collector';
  const maxPerMessage = options.maxSamplesPerMessage ?? 500;
  const m: SourceMetrics = sourceMetrics(ctx.metrics);
  const kafka = options.kafka ?? createKafka(config, logger);
  const ownProducer = options.producer === undefined;
  const producer = options.producer ?? new ReliableProducer(kafka, logger);
  let closed = false;

  let connecting: Promise<void> | undefined;
  const connect = () => {
    connecting ??= (async () => {
      await ensureConfiguredTopics(kafka, config, [config.KAFKA_TOPIC_RAW], logger);
      if (ownProducer) await producer.connect();
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };
  let dlqReady: Promise<void> | undefined;
  const ensureDlq = () => {
    // Only once a letter is due: a source that never has one leaves no DLQ topic behind (tests' own topics).
    dlqReady ??= ensureConfiguredTopics(kafka, config, [config.KAFKA_TOPIC_DLQ], logger)
      .then(() => undefined)
      .catch((error: unknown) => {
        dlqReady = undefined;
        throw error;
      });
    return dlqReady;
  };

  const spooled: SourceSpool | undefined = direct
    ? undefined
    : openSourceSpool({
        env: config as SourceEnv,
        service: options.service,
        logger,
        metrics: ctx.metrics,
        maxBatch: options.maxBatch ?? 500,
        connect,
        send: async (messages) => {
          const raw: OutMessage[] = [];
          const dlq: OutMessage[] = [];
          for (const message of messages) {
            if (isSpooledDeadLetter(message)) {
              const { [SPOOL_TOPIC_HEADER]: _route, ...headers } = message.headers ?? {};
              dlq.push({ ...message, headers });
            } else raw.push(message);
          }
          if (dlq.length > 0) await ensureDlq();
          await producer.sendBatch([
            ...(raw.length > 0 ? [{ topic: config.KAFKA_TOPIC_RAW, messages: raw }] : []),
            ...(dlq.length > 0 ? [{ topic: config.KAFKA_TOPIC_DLQ, messages: dlq }] : []),
          ]);
        },
        ...(options.onSent ? { onSent: options.onSent } : {}),
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
        ...(options.restore
          ? {
              restore: (recovered: Spool['recovered']) =>
                options.restore!({
                  ...recovered,
                  after: recovered.after.filter((message) => !isSpooledDeadLetter(message)),
                }),
            }
          : {}),
      });
  // Messages of direct sends not yet acknowledged.
  let inFlight = 0;

  if (spooled) {
    // Connected before anything is due, so readiness says whether Kafka is reachable from the start; the
    // spool's sender waits on the same attempt. (A direct source connects on its first send, whose caller
    // hears of a failure.)
    void (async () => {
      for (let attempt = 1; !closed; attempt++) {
        try {
          await connect();
          return;
        } catch (error) {
          if (attempt === 1 || attempt % 20 === 0)
            logger.warn(
              { err: error, attempts: attempt },
              'Kafka not reachable yet; reading and spooling meanwhile',
            );
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, 500, 10_000)).unref());
        }
      }
    })();

    readiness.add('producer', () => ({
      ok: producer.isConnected,
      detail: `${producer.isConnected ? 'connected' : 'disconnected'}; ${spooled.describe()}`,
    }));
  }
  // A direct source adds no readiness check: every send's caller waits for it and hears of a failure, and
  // a producer that has nothing to send yet is not a fault.

  const names = new Set<string>();
  return {
    kind,
    get pending() {
      return spooled ? spooled.spool.pending : inFlight;
    },
    endpoint(endpoint) {
      if (names.has(endpoint.name)) throw new Error(`endpoint ${endpoint.name} is opened twice`);
      names.add(endpoint.name);
      const labels = { source: kind, endpoint: endpoint.name };
      const inputFormat = endpoint.inputFormat ?? `${kind}.input`;
      const state = { up: false, detail: 'not connected yet' };
      m.connected.set(labels, 0);
      if (endpoint.readiness !== false)
        readiness.add(`${kind}:${endpoint.name}`, () => ({ ok: state.up, detail: state.detail }));
      const envelope = (samples: readonly Sample[], given: PushOptions) =>
        samplesMessages(samples, {
          source: given.source ?? endpoint.uri,
          receivedAt: given.receivedAt ?? new Date(),
          maxPerMessage: given.maxSamplesPerMessage ?? maxPerMessage,
          ...(given.messageId ? { messageId: given.messageId } : {}),
        });
      const counted = (samples: number, messages: number) => {
        m.samples.inc(labels, samples);
        m.messages.inc(labels, messages);
        m.lastSample.set(labels, Date.now() / 1000);
      };
      const push = (samples: readonly Sample[], pushOptions: PushOptions = {}): number => {
        if (!spooled)
          throw new Error(
            'push() needs the spool outbox; a direct source sends with send() and waits for the acks',
          );
        if (samples.length === 0) return 0;
        const messages = envelope(samples, pushOptions);
        spooled.append(messages);
        counted(samples.length, messages.length);
        return messages.length;
      };
      return {
        name: endpoint.name,
        uri: endpoint.uri,
        get isConnected() {
          return state.up;
        },
        push,
        async send(samples, sendOptions = {}) {
          if (spooled) return push(samples, sendOptions);
          if (samples.length === 0) return 0;
          if (closed) throw new Error('the source is closed');
          const messages = envelope(samples, sendOptions);
          inFlight += messages.length;
          try {
            await connect();
            await producer.send(config.KAFKA_TOPIC_RAW, messages);
          } finally {
            inFlight -= messages.length;
          }
          counted(samples.length, messages.length);
          options.onSent?.(messages.length);
          return messages.length;
        },
        deadLetter(raw, reason, message, letter = {}) {
          if (!spooled)
            throw new Error(
              'deadLetter() needs the spool outbox (a direct source reports bad input to its caller)',
            );
          const receivedAt = letter.receivedAt ?? new Date();
          const out = buildDeadLetter({
            stage,
            reason,
            message,
            payload: typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw,
            key: letter.key !== undefined ? letter.key : (endpoint.site ?? null),
            headers: {
              [RAW_HEADER.schema]: inputFormat,
              [RAW_HEADER.source]: letter.source ?? endpoint.uri,
              [RAW_HEADER.receivedAt]: receivedAt.toISOString(),
            },
            now: receivedAt,
          });
          out.headers = { ...out.headers, [SPOOL_TOPIC_HEADER]: 'dlq' };
          spooled.append([out]);
          m.badInput.inc({ ...labels, reason });
        },
        connected(up, detail) {
          if (state.up && !up) m.disconnects.inc(labels);
          state.up = up;
          state.detail = detail ?? (up ? 'connected' : 'disconnected');
          m.connected.set(labels, up ? 1 : 0);
        },
      };
    },
    describe: () =>
      `${producer.isConnected ? 'Kafka connected' : 'Kafka disconnected'}; ${
        spooled ? spooled.describe() : `direct: ${inFlight} being sent`
      }`,
    async close(deadline) {
      closed = true;
      await spooled?.close(deadline);
      if (ownProducer) await producer.disconnect();
    },
  };
}
