import { type Sample, samplesMessages } from '@gridstream/schema';

/** How one run of a table's samples becomes samples.v1 messages. */
export interface ImportSendOptions {
  /** `gs-source`: `file://<name>`, `file://<name>#<sheet>` for Excel. */
  source: string;
  /** At most this many samples per message: the import's `samplesPerMessage`. */
  maxSamplesPerMessage: number;
  /** `gs-message-id` of the message whose first sample is `samples[first]`: `import:<file>.<mapping>:<line>`. */
  messageId: (first: number) => string;
}

/**
 * Where imported samples go. `send` turns them into samples.v1 messages — the source seam's envelope,
 * `samplesMessages()`, the same for every source — and resolves with how many once every one is durably
 * accepted (Kafka: acks=all); the importer counts rows as sent only then, and reads no further than one
 * batch ahead. A direct endpoint of @gridstream/source is one (`openKafkaImportSink`).
 */
export interface ImportSink {
  send(samples: readonly Sample[], options: ImportSendOptions): Promise<number>;
}

/** The messages `send` makes of these samples (for sinks that keep or count them instead of sending). */
export function importMessages(
  samples: readonly Sample[],
  options: ImportSendOptions,
  receivedAt = new Date(),
) {
  return samplesMessages(samples, {
    source: options.source,
    receivedAt,
    maxPerMessage: options.maxSamplesPerMessage,
    messageId: options.messageId,
  });
}

/** Counts and keeps nothing: `--dry-run`, previews of a whole file, and the memory test. */
export class CountingSink implements ImportSink {
  messages = 0;
  samples = 0;

  async send(samples: readonly Sample[], options: ImportSendOptions): Promise<number> {
    const messages = importMessages(samples, options).length;
    this.messages += messages;
    this.samples += samples.length;
    return messages;
  }
}
