import type { OutMessage } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import type { Registry } from 'prom-client';
import { Spool } from './spool.js';
import { type SpoolEnv, spoolOptionsFromEnv } from './spool-env.js';
import { spoolMetrics } from './spool-metrics.js';
import { SpoolSender } from './spool-sender.js';

export interface SourceSpoolOptions {
  env: SpoolEnv;
  /** Names the default folder (`.local/spool/<service>`). */
  service: string;
  logger: Logger;
  metrics: Registry;
  maxBatch: number;
  send: (messages: OutMessage[]) => Promise<void>;
  /** Connects to Kafka (retried until it works; see SpoolSenderOptions.connect). */
  connect?: () => Promise<void>;
  onSent?: (messages: number) => void;
  /** The source's state, kept in the spool (see SpoolOptions.checkpoint). */
  checkpoint?: () => Buffer;
  /** Called once at open with what the spool holds of that state, before anything new is appended. */
  restore?: (recovered: Spool['recovered']) => void;
}

/** A source's way to Kafka: append to the disk spool; a sender drains it in order. */
export interface SourceSpool {
  readonly spool: Spool;
  readonly sender: SpoolSender;
  append(messages: OutMessage[]): void;
  /** For readiness details: what waits, and whether anything was lost. */
  describe(): string;
  /** Sends what it can before `deadline`; the rest stays spooled for the next start. */
  close(deadline: number): Promise<void>;
}

export function openSourceSpool(options: SourceSpoolOptions): SourceSpool {
  const m = spoolMetrics(options.metrics);
  const spool = Spool.open({
    ...spoolOptionsFromEnv(options.env, options.service, options.logger, {
      onDropped: (n) => m.dropped.inc(n),
      onCorrupt: (bytes) => m.corruptBytes.inc(bytes),
    }),
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  });
  options.restore?.(spool.recovered);
  spool.begin();
  const update = () => {
    m.pending.set(spool.pending);
    m.bytes.set(spool.bytes);
  };
  update();
  const sender = new SpoolSender({
    spool,
    send: options.send,
    ...(options.connect ? { connect: options.connect } : {}),
    maxBatch: options.maxBatch,
    logger: options.logger,
    onSent: (n) => {
      m.produced.inc(n);
      options.onSent?.(n);
      update();
    },
  });
  // What a previous life spooled goes out first.
  sender.kick();
  return {
    spool,
    sender,
    append(messages) {
      spool.append(messages);
      update();
      sender.kick();
    },
    describe() {
      const parts = [`${spool.pending} spooled (${Math.round(spool.bytes / 1024)} KiB)`];
      if (spool.droppedTotal > 0) parts.push(`${spool.droppedTotal} dropped: spool full`);
      if (sender.error) parts.push(`last send failed: ${sender.error}`);
      return parts.join('; ');
    },
    async close(deadline) {
      const left = await sender.flush(deadline);
      update();
      if (left > 0)
        options.logger.warn(
          { spooled: left },
          'Kafka did not take everything before the deadline; it stays spooled',
        );
      spool.close();
    },
  };
}
