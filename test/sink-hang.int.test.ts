import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { S3ObjectStore } from '@gridstream/archive';
import {
  fetchArchiverOffsets,
  kafkaRecordOffsets,
  StoreArchiveSource,
  verifyArchive,
} from '@gridstream/archive-tools';
import { countPoints, createTestDatabase, influxConfig, type TestDatabase } from '@gridstream/influx';
import { consumerLag, ReliableProducer } from '@gridstream/kafka';
import { type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import {
  createTestTopics,
  REPO_ROOT,
  removeTestTopics,
  ServiceProcess,
  sleep,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRecord } from '../packages/archive/src/test-records.fixture.js';

/**
 * A sink that HANGS (SIGSTOP: connections open, nothing answered) for twice the consumer session, not one
 * that refuses: the writers' InfluxDB and the archivers' S3 both freeze while two replicas of each keep
 * consuming. The members must keep their place in the group (or rejoin by themselves) and, once the sinks
 * answer again, end with every point and every archive row exactly once — no restart by hand.
 */
const run = promisify(execFile);
const SESSION_MS = 6_000;
const HANG_MS = 2 * SESSION_MS + 3_000;
const RECORDS = 3_000;
const INFLUX_PORT = 28186;
const MOTO_PORT = 25155;
const artifacts = join(REPO_ROOT, 'test-artifacts', 'sink-hang');
const logger = testLogger();
const kafka = testKafka(logger);
const names = {
  parsed: uniqueName('hang.parsed'),
  dlq: uniqueName('hang.dlq'),
  alarms: uniqueName('hang.alarms'),
  writers: uniqueName('hang-writer'),
  archivers: uniqueName('hang-archiver'),
  bucket: uniqueName('hang-bucket'),
};
const services: ServiceProcess[] = [];
let db: TestDatabase;

const local = (script: string, args: string[], env: Record<string, string>) =>
  run(join(REPO_ROOT, 'deploy', 'local', script), args, {
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
const influxEnv = {
  INFLUX_INSTANCE: 'hang',
  INFLUX_PORT: String(INFLUX_PORT),
  INFLUX_RPC_PORT: String(INFLUX_PORT + 2),
};
const motoEnv = { MOTO_INSTANCE: 'hang', MOTO_PORT: String(MOTO_PORT) };
const pidOf = async (script: string, env: Record<string, string>) =>
  Number((await local(script, ['pid'], env)).stdout.trim());

beforeAll(async () => {
  await local('influxdb.sh', ['start'], influxEnv);
  await local('influxdb.sh', ['wait'], influxEnv);
  await local('moto.sh', ['start'], motoEnv);
  await local('moto.sh', ['wait'], motoEnv);
  db = await createTestDatabase(influxConfig({ url: `http://127.0.0.1:${INFLUX_PORT}` }), 'gs_hang');
  await createTestTopics(kafka, [names.parsed, names.dlq], 3);
}, 180_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop(5_000).catch(() => undefined)));
  for (const [script, env] of [
    ['influxdb.sh', influxEnv],
    ['moto.sh', motoEnv],
  ] as const) {
    await local(script, ['pid'], env)
      .then(({ stdout }) => process.kill(Number(stdout.trim()), 'SIGCONT'))
      .catch(() => undefined);
    await local(script, ['stop'], env).catch(() => undefined);
  }
  await removeTestTopics(kafka, [names.parsed, names.dlq, names.alarms]);
});

describe('sinks that hang for twice the session timeout', () => {
  it('writers and archivers resume by themselves with every point and row exactly once', async () => {
    const common = {
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      KAFKA_TOPIC_PARSED: names.parsed,
      KAFKA_TOPIC_DLQ: names.dlq,
      KAFKA_TOPIC_ALARMS: names.alarms,
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_MS),
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
    };
    const writerEnv = {
      ...common,
      INFLUX_URL: `http://127.0.0.1:${INFLUX_PORT}`,
      INFLUX_DATABASE: db.name,
      INFLUX_TIMEOUT_MS: '5000',
      WRITER_GROUP_ID: names.writers,
    };
    const archiverEnv = {
      ...common,
      ARCHIVER_GROUP_ID: names.archivers,
      ARCHIVE_S3_BUCKET: names.bucket,
      ARCHIVE_S3_ENDPOINT: `http://127.0.0.1:${MOTO_PORT}`,
      ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_S3_CREATE_BUCKET: 'true',
      ARCHIVE_S3_REQUEST_TIMEOUT_MS: '5000',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ARCHIVE_MAX_FILE_AGE_MS: '2000',
    };
    for (const n of [1, 2]) {
      services.push(
        await ServiceProcess.start({
          service: 'influx-writer',
          instance: `writer-${n}`,
          env: writerEnv,
          logDir: artifacts,
        }),
        await ServiceProcess.start({
          service: 'archiver',
          instance: `archiver-${n}`,
          env: { ...archiverEnv, ARCHIVE_SPOOL_DIR: join(artifacts, `spool-${n}`) },
          logDir: artifacts,
        }),
      );
    }
    await Promise.all(services.map((s) => s.ready(90_000)));

    // Records keep coming while the sinks hang: before, during and after.
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    const records: ParsedRecord[] = Array.from({ length: RECORDS }, (_, i) => testRecord(i));
    const feeding = (async () => {
      for (let i = 0; i < RECORDS; i += 100) {
        await producer.send(
          names.parsed,
          records.slice(i, i + 100).map((r) => ({ key: parsedRecordKey(r), value: JSON.stringify(r) })),
        );
        await sleep(250);
      }
    })();
    await sleep(2_500);
    const influxPid = await pidOf('influxdb.sh', influxEnv);
    const motoPid = await pidOf('moto.sh', motoEnv);
    process.kill(influxPid, 'SIGSTOP');
    process.kill(motoPid, 'SIGSTOP');
    await sleep(HANG_MS);
    process.kill(influxPid, 'SIGCONT');
    process.kill(motoPid, 'SIGCONT');
    await feeding;
    await producer.disconnect();

    const expectedRows = records.reduce(
      (n, r) => n + Object.keys(r.fields).length + Object.keys(r.flags).length,
      0,
    );
    // Every group at the end of the topic, by itself (no service was restarted).
    await waitFor(
      async () => {
        const lags = [
          ...(await consumerLag(kafka, names.writers, [names.parsed])),
          ...(await consumerLag(kafka, names.archivers, [names.parsed])),
        ];
        return lags.length === 6 ? lags.reduce((n, p) => n + p.lag, 0) : -1;
      },
      (lag) => lag === 0,
      { what: 'both groups caught up', timeoutMs: 120_000, intervalMs: 1_000 },
    );
    for (const s of services) s.assertAlive();
    expect(services.every((s) => s.starts === 1)).toBe(true);
    await Promise.all(services.map((s) => s.ready(30_000)));
    expect(await countPoints(db.config, db.name)).toBe(RECORDS);

    const client = new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${MOTO_PORT}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const source = new StoreArchiveSource(
      new S3ObjectStore({ client, bucket: names.bucket, region: 'us-east-1' }),
      join(artifacts, 'cache'),
    );
    const paths = await source.localPaths(await source.list());
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const list = `[${paths.map((p) => `'${p}'`).join(', ')}]`;
    const [[rows, distinct]] = (
      await conn.runAndReadAll(
        `SELECT count(*), count(DISTINCT (site, equipment, device, rack, field, ts)) FROM read_parquet(${list})`,
      )
    ).getRowsJS() as [[bigint, bigint]];
    conn.closeSync();
    instance.closeSync();
    expect({ rows: Number(rows), distinct: Number(distinct) }).toEqual({
      rows: expectedRows,
      distinct: expectedRows,
    });
    const report = await verifyArchive({
      source,
      topic: names.parsed,
      kafka: await fetchArchiverOffsets(kafka, names.archivers, names.parsed),
      recordOffsets: kafkaRecordOffsets(kafka, names.parsed),
    });
    expect(report.ok).toBe(true);
  });
});
