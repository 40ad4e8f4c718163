import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InMessage, KafkaEnv } from '@gridstream/kafka';
import { RAW_HEADER, type Sample, SamplesMessageSchema } from '@gridstream/schema';
import {
  createTestTopics,
  readCommitted,
  startInProcess,
  testKafka,
  testKafkaEnv,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import { stringify } from 'yaml';
import { makeMqttCollectorConfigSchema } from '../src/config.js';
import { startMqttCollector } from '../src/mqtt-collector-service.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export function kafkaEnvStrings(env: KafkaEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

/** Topics of the test's own (raw and DLQ, one partition each, created before anyone reads them). */
export async function testTopics(): Promise<{ env: Record<string, string>; raw: string; dlq: string }> {
  const kafkaEnv = testKafkaEnv({ KAFKA_TOPIC_PARTITIONS: 1 });
  await createTestTopics(testKafka(), [kafkaEnv.KAFKA_TOPIC_RAW, kafkaEnv.KAFKA_TOPIC_DLQ], 1);
  return { env: kafkaEnvStrings(kafkaEnv), raw: kafkaEnv.KAFKA_TOPIC_RAW, dlq: kafkaEnv.KAFKA_TOPIC_DLQ };
}

export function writeBrokerFile(dir: string, brokers: object[]): string {
  const path = join(dir, `${uniqueName('mqtt')}.yaml`);
  writeFileSync(path, stringify({ brokers }));
  return path;
}

export type Running = Awaited<ReturnType<typeof startInProcess>> & {
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
};

/** The collector in this process. */
export async function startCollector(options: {
  configFile: string;
  env: Record<string, string>;
  secretEnv?: Record<string, string>;
}): Promise<Running> {
  const running = await startInProcess(
    'mqtt-collector',
    makeMqttCollectorConfigSchema(options.secretEnv ?? {}),
    startMqttCollector,
    { MQTT_CONFIG: options.configFile, ...options.env },
  );
  return {
    ...running,
    async metricValue(name, labels = {}) {
      const metric = running.metrics.getSingleMetric(name);
      if (!metric) return 0;
      const { values } = await metric.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
        .reduce((n, v) => n + v.value, 0);
    },
  };
}

export interface RawSample extends Sample {
  source: string;
  messageId: string;
}

/** Every samples.v1 sample on a raw topic, in order, with its message's gs-source and gs-message-id. */
export function samplesOf(messages: InMessage[]): RawSample[] {
  return messages.flatMap((m) => {
    if (m.headers[RAW_HEADER.schema] !== 'samples.v1')
      throw new Error(`not samples.v1: ${JSON.stringify(m.headers)}`);
    const body = SamplesMessageSchema.parse(JSON.parse(m.value!.toString('utf8')));
    return body.samples.map((s) => ({
      ...s,
      source: m.headers[RAW_HEADER.source] ?? '',
      messageId: m.headers[RAW_HEADER.messageId] ?? '',
    }));
  });
}

/** Reads the topic until `done` holds for its samples, then once more a moment later (so extras show). */
export async function readSamplesUntil(
  topic: string,
  done: (samples: RawSample[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<RawSample[]> {
  const kafka = testKafka();
  await waitFor(async () => samplesOf(await readCommitted(kafka, topic)), done, {
    what,
    timeoutMs,
    intervalMs: 300,
  });
  await new Promise((r) => setTimeout(r, 1_000));
  return samplesOf(await readCommitted(kafka, topic));
}

export async function readMessagesUntil(
  topic: string,
  count: number,
  what: string,
  timeoutMs = 60_000,
): Promise<InMessage[]> {
  const kafka = testKafka();
  await waitFor(
    () => readCommitted(kafka, topic),
    (m) => m.length >= count,
    { what, timeoutMs, intervalMs: 300 },
  );
  await new Promise((r) => setTimeout(r, 1_000));
  return readCommitted(kafka, topic);
}
