import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHeaders, type KafkaEnv } from '@gridstream/kafka';
import { RAW_HEADER, type Sample, SamplesMessageSchema } from '@gridstream/schema';
import { stringify } from 'yaml';
import {
  createTestTopics,
  startInProcess,
  testKafka,
  testKafkaEnv,
  uniqueName,
} from '../../../test/helpers.js';
import { makeOpcuaCollectorConfigSchema } from '../src/config.js';
import { startOpcuaCollector } from '../src/opcua-collector-service.js';

/** A TCP port nobody listens on right now (OPC UA servers here need a fixed port to restart on). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

function kafkaEnvStrings(env: KafkaEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

export interface RunningCollector {
  topic: string;
  stop(): Promise<void>;
  readiness: Awaited<ReturnType<typeof startInProcess>>['readiness'];
  metrics: Awaited<ReturnType<typeof startInProcess>>['metrics'];
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
}

/** The collector in this process with its own raw topic, PKI folder and endpoint file. */
export async function startCollector(options: {
  endpoints: object[];
  pkiDir: string;
  secretEnv?: Record<string, string>;
  env?: Record<string, string>;
}): Promise<RunningCollector> {
  const kafkaEnv = testKafkaEnv({ KAFKA_TOPIC_PARTITIONS: 1 });
  const configFile = join(options.pkiDir, `${uniqueName('opcua')}.yaml`);
  writeFileSync(configFile, stringify({ endpoints: options.endpoints }));
  // The collector creates its topic only once it reaches Kafka (it starts and spools without it); the
  // tests' readers subscribe right away, so the topic is there first.
  await createTestTopics(testKafka(), [kafkaEnv.KAFKA_TOPIC_RAW], 1);
  const running = await startInProcess(
    'opcua-collector',
    makeOpcuaCollectorConfigSchema(options.secretEnv ?? {}),
    startOpcuaCollector,
    {
      ...kafkaEnvStrings(kafkaEnv),
      OPCUA_CONFIG: configFile,
      OPCUA_PKI_DIR: join(options.pkiDir, 'collector-pki'),
      OPCUA_AUTO_TRUST_SERVERS: 'true',
      ...options.env,
    },
  );
  return {
    topic: kafkaEnv.KAFKA_TOPIC_RAW,
    stop: running.stop,
    readiness: running.readiness,
    metrics: running.metrics,
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

export interface TappedSample extends Sample {
  source: string;
}

/** Reads a raw topic from the beginning into memory, decoding samples.v1, until stopped. */
export async function tapSamples(
  topic: string,
): Promise<{ samples: TappedSample[]; messages: number; stop(): Promise<void> }> {
  const kafka = testKafka();
  const consumer = kafka.consumer({ groupId: uniqueName('test-tap'), maxWaitTimeInMs: 200 });
  const state = { samples: [] as TappedSample[], messages: 0 };
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = decodeHeaders(message.headers);
      if (headers[RAW_HEADER.schema] !== 'samples.v1')
        throw new Error(`unexpected schema header ${headers[RAW_HEADER.schema]}`);
      const body = SamplesMessageSchema.parse(JSON.parse(message.value!.toString('utf8')));
      state.messages++;
      for (const s of body.samples) state.samples.push({ ...s, source: headers[RAW_HEADER.source] ?? '' });
    },
  });
  return {
    get samples() {
      return state.samples;
    },
    get messages() {
      return state.messages;
    },
    stop: () => consumer.disconnect(),
  };
}

/** (device, ts, field) → every distinct value sent for it: more than one is a duplicate point. */
export function conflictingPoints(samples: Sample[]): string[] {
  const seen = new Map<string, Set<string>>();
  for (const s of samples) {
    const key = `${s.site}/${s.equipment}/${s.device}/${s.rack ?? ''}@${s.ts}`;
    for (const [field, value] of [...Object.entries(s.fields), ...Object.entries(s.flags ?? {})]) {
      const k = `${key}#${field}`;
      const set = seen.get(k) ?? new Set<string>();
      set.add(`${String(value)}|${(s.quality?.[field] ?? []).join(',')}`);
      seen.set(k, set);
    }
  }
  return [...seen.entries()].filter(([, v]) => v.size > 1).map(([k, v]) => `${k}: ${[...v].join(' vs ')}`);
}

/** How many (device, ts, field) values were sent more than once (identical re-sends). */
export function resentPoints(samples: Sample[]): number {
  const counts = new Map<string, number>();
  for (const s of samples) {
    const key = `${s.site}/${s.equipment}/${s.device}/${s.rack ?? ''}@${s.ts}`;
    for (const field of [...Object.keys(s.fields), ...Object.keys(s.flags ?? {})]) {
      const k = `${key}#${field}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  return [...counts.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
}
