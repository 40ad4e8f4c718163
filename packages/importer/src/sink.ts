import type { ReliableProducer } from '@gridstream/kafka';
import type { SamplesMessage } from '@gridstream/schema';

/** One samples.v1 message with its Kafka key and telemetry.raw headers. */
export interface ImportMessage {
  key: string;
  value: SamplesMessage;
  headers: Record<string, string>;
}

/**
 * Where imported messages go. `publish` resolves only when every message is durably accepted (Kafka:
 * acks=all); the importer counts rows as sent only then, and reads no further than one batch ahead.
 */
export interface ImportSink {
  publish(messages: ImportMessage[]): Promise<void>;
}

/** The Kafka sink: JSON values on the raw topic through the pipeline's idempotent acks=all producer. */
export class KafkaImportSink implements ImportSink {
  constructor(
    private readonly producer: ReliableProducer,
    private readonly topic: string,
  ) {}

  publish(messages: ImportMessage[]): Promise<void> {
    return this.producer.send(
      this.topic,
      messages.map((m) => ({ key: m.key, value: JSON.stringify(m.value), headers: m.headers })),
    );
  }
}

/** Counts and keeps nothing: `--dry-run`, previews of a whole file, and the memory test. */
export class CountingSink implements ImportSink {
  messages = 0;
  samples = 0;

  async publish(messages: ImportMessage[]): Promise<void> {
    this.messages += messages.length;
    for (const m of messages) this.samples += m.value.samples.length;
  }
}
