import type { Kafka, KafkaEnv, ReliableProducer } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import type { Registry } from 'prom-client';
import type { ImportSink } from './sink.js';

/** The Kafka sink; `close` after the last import (it closes the producer unless it was given one). */
export interface KafkaImportSink extends ImportSink {
  close(): Promise<void>;
}

export interface KafkaImportSinkOptions {
  /** Kafka settings (KAFKA_TOPIC_RAW is where the samples go). */
  config: KafkaEnv;
  logger: Logger;
  /** Where gridstream_source_*{source="import",endpoint="files"} are counted (the console's; default: none kept). */
  metrics?: Registry;
  /** An existing client / connected producer (the console's): used, not closed. */
  kafka?: Kafka;
  producer?: ReliableProducer;
}

/**
 * The importer on the source seam: a source of kind `import` with the direct outbox — a file can be read
 * again, so there is no disk spool; every send waits for Kafka's acknowledgement, which is what the CLI and
 * the console report as progress — and one endpoint, `files`, whose pushes carry each file's own
 * `gs-source` and ids. Topic KAFKA_TOPIC_RAW is created on the first send where KAFKA_CREATE_TOPICS allows.
 *
 * The seam (and with it the Kafka client, ~50 MiB of RSS) is loaded here, on demand: importing the importer
 * to read, preview or count a file (a dry run, the 1 GiB memory test) does not load it.
 */
export async function openKafkaImportSink(options: KafkaImportSinkOptions): Promise<KafkaImportSink> {
  const [{ openSource }, { Readiness }, { Registry }] = await Promise.all([
    import('@gridstream/source'),
    import('@gridstream/runtime'),
    import('prom-client'),
  ]);
  const source = openSource(
    {
      config: options.config,
      logger: options.logger,
      metrics: options.metrics ?? new Registry(),
      // A direct source adds no readiness check; its callers wait for every send.
      readiness: new Readiness(),
    },
    {
      kind: 'import',
      service: 'importer',
      outbox: 'direct',
      ...(options.kafka ? { kafka: options.kafka } : {}),
      ...(options.producer ? { producer: options.producer } : {}),
    },
  );
  const files = source.endpoint({ name: 'files', uri: 'file://', readiness: false });
  // Files have no connection to lose: 1, so an alert on gridstream_source_connected == 0 stays quiet.
  files.connected(true, 'files are read on request');
  return {
    send: (samples, sendOptions) => files.send(samples, sendOptions),
    close: () => source.close(Date.now()),
  };
}
