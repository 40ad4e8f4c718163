import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createObjectStore, decodeArchiveRecord, recordToRows } from '@gridstream/archive';
import {
  consumerLag,
  createKafka,
  type InMessage,
  type OutMessage,
  ReliableProducer,
} from '@gridstream/kafka';
import { buildHealthApp } from '@gridstream/runtime';
import { type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRecord } from '../../../packages/archive/src/test-records.fixture.js';
import {
  type ComparableRow,
  motoAnswers,
  motoInstance,
  readParquetWithPyarrow,
  sortRows,
  useMotoCredentials,
} from '../../../test/archive-helpers.js';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { startArchiver } from './archiver-service.js';
import { archiverConfigSchema } from './config.js';

// A 30 s S3 outage. The archiver uses a PRIVATE moto server (deploy/local/moto.sh with MOTO_INSTANCE), so
// stopping it disturbs no other test. moto keeps everything in memory: after the restart the bucket is
// gone, and the archiver (ARCHIVE_S3_CREATE_BUCKET=true) creates it again. So the test checks what went in
// before the outage right before it, and after the outage the bucket must hold exactly the records
// produced during it — nothing lost, and nothing committed before the outage uploaded again.

const INSTANCE = 'outage-test';
const PORT = Number(process.env.MOTO_OUTAGE_PORT ?? 5056);
const ENDPOINT = `http://127.0.0.1:${PORT}`;
const OUTAGE_MS = 30_000;
const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const PARSED = kafkaEnv.KAFKA_TOPIC_PARSED;
const DLQ = kafkaEnv.KAFKA_TOPIC_DLQ;
const GROUP = uniqueName('test-archiver-outage');
let producer: ReliableProducer;
let scratch: string;

const message = (r: ParsedRecord): OutMessage => ({ key: parsedRecordKey(r), value: JSON.stringify(r) });
const moto = (command: 'start' | 'stop' | 'wait') => motoInstance(command, INSTANCE, PORT);

function toComparable(messages: InMessage[]): ComparableRow[] {
  return messages.flatMap((m) =>
    recordToRows(decodeArchiveRecord(m.value), m.partition, BigInt(m.offset)).map(
      (r): ComparableRow => [
        r.ts,
        r.site,
        r.equipment,
        r.device,
        r.rack,
        r.field,
        r.value,
        r.is_flag,
        r.quality,
        r.kafka_partition,
        Number(r.kafka_offset),
      ],
    ),
  );
}

async function uncommitted(): Promise<number> {
  const lag = await consumerLag(kafka, GROUP, [PARSED]);
  return lag.length === 0 ? Number.POSITIVE_INFINITY : lag.reduce((n, p) => n + p.lag, 0);
}

beforeAll(async () => {
  useMotoCredentials();
  scratch = await mkdtemp(join(tmpdir(), 'gs-archiver-outage-'));
  if (!(await motoAnswers(ENDPOINT))) {
    await moto('start');
    await moto('wait');
  }
  await createTestTopics(kafka, [PARSED, DLQ], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  await moto('stop').catch(() => undefined);
  await producer?.disconnect();
  await removeTestTopics(kafka, [PARSED, DLQ]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('archiver during an S3 outage', () => {
  it('pauses (unready, nothing committed) while S3 is down for 30 s, then resumes and loses nothing', async () => {
    const env = {
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      KAFKA_TOPIC_PARSED: PARSED,
      KAFKA_TOPIC_DLQ: DLQ,
      ARCHIVER_GROUP_ID: GROUP,
      ARCHIVE_S3_BUCKET: 'gs-outage',
      ARCHIVE_S3_ENDPOINT: ENDPOINT,
      ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_S3_CREATE_BUCKET: 'true',
      ARCHIVE_S3_REQUEST_TIMEOUT_MS: '3000',
      ARCHIVE_MAX_FILE_AGE_MS: '2000',
      ARCHIVE_SPOOL_DIR: join(scratch, 'spool'),
    };
    const store = createObjectStore(archiverConfigSchema.parse(env));
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    const health = buildHealthApp({ readiness: archiver.readiness, metrics: archiver.metrics, logger });
    const download = async () => {
      const dir = await mkdtemp(join(scratch, 'dl-'));
      const paths: string[] = [];
      for (const [i, o] of (await store.list('')).entries()) {
        paths.push(join(dir, `${i}.parquet`));
        await store.getToFile(o.key, paths[i]!);
      }
      return (await readParquetWithPyarrow(paths)).rows;
    };
    try {
      // Before: 600 records archived and committed.
      await producer.send(
        PARSED,
        Array.from({ length: 600 }, (_, i) => message(testRecord(i))),
      );
      await waitFor(uncommitted, (n) => n === 0, { what: 'first batch committed', timeoutMs: 60_000 });
      const before = await readTopic(kafka, PARSED, 600);
      expect(sortRows(await download())).toEqual(sortRows(toComparable(before)));
      expect((await health.inject({ url: '/healthz/ready' })).statusCode).toBe(200);

      // Outage: S3 stops answering; 600 more records arrive.
      await moto('stop');
      const downAt = Date.now();
      await producer.send(
        PARSED,
        Array.from({ length: 600 }, (_, i) => message(testRecord(600 + i))),
      );
      await waitFor(
        async () => (await health.inject({ url: '/healthz/ready' })).statusCode,
        (code) => code === 503,
        { what: 'unready during the outage', timeoutMs: 20_000 },
      );
      const report = archiver.readiness.report();
      expect(report.checks['archive-store']?.ok).toBe(false);
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
      // 30 s later: still waiting, nothing committed past what was uploaded, nothing dead-lettered.
      expect(await uncommitted()).toBe(600);
      expect((await health.inject({ url: '/healthz/ready' })).statusCode).toBe(503);
      const failed = await archiver.metrics.getSingleMetric('gridstream_archiver_uploads_total')!.get();
      expect(failed.values.find((v) => v.labels.outcome === 'error')?.value ?? 0).toBeGreaterThan(0);

      // Back: moto restarts empty; the archiver re-creates the bucket and uploads the second batch.
      await moto('start');
      await moto('wait');
      await waitFor(uncommitted, (n) => n === 0, {
        what: 'second batch committed after the outage',
        timeoutMs: 60_000,
      });
      await waitFor(
        async () => (await health.inject({ url: '/healthz/ready' })).statusCode,
        (code) => code === 200,
        { what: 'ready again', timeoutMs: 20_000 },
      );
      const all = await readTopic(kafka, PARSED, 1_200);
      const during = all.filter(
        (m) => !before.some((b) => b.partition === m.partition && b.offset === m.offset),
      );
      expect(during).toHaveLength(600);
      expect(sortRows(await download())).toEqual(sortRows(toComparable(during)));
      expect(await readTopic(kafka, DLQ, 0)).toHaveLength(0);
    } finally {
      await health.close();
      await archiver.stop();
      store.close();
    }
  });
});
