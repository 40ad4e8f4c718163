import { consumerLag, ReliableProducer } from '@gridstream/kafka';
import {
  createTestTopics,
  removeTestTopics,
  sleep,
  startInProcess,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedReadings,
  KEY_ORDER,
  READING_COLUMNS,
  type Reading,
  sortedByKey,
} from '../test/expected-rows.js';
import { gatewayMessage, ROWS_PER_MESSAGE, range, recordsOf } from '../test/gateway-messages.js';
import {
  createTestPgDatabase,
  ensurePgRunning,
  pgInstance,
  type TestPgDatabase,
} from '../test/test-postgres.js';
import { timescaleWriterConfigSchema } from './config.js';
import { startTimescaleWriter } from './writer-service.js';

// A private PostgreSQL (own data and port, so no other test loses its server) is stopped while the writer
// runs, and a table is locked for longer than the write timeout: the writer must pause, retry, commit
// nothing it has not written, and end with every row exactly once — no restart by hand.

const instance = pgInstance({ name: 'tw-outage', port: Number(process.env.TEST_PG_OUTAGE_PORT ?? 55433) });
const logger = testLogger();
const kafka = testKafka(logger);
const topics = { parsed: uniqueName('two.parsed'), dlq: uniqueName('two.dlq') };
const GROUP = uniqueName('two-writer');
const BATCH = 100;

let db: TestPgDatabase;
let producer: ReliableProducer;
let writer: Awaited<ReturnType<typeof startInProcess>>;
let sent = 0;

const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM readings'))[0]!.n);
const uncommitted = async () =>
  (await consumerLag(kafka, GROUP, [topics.parsed])).reduce((n, p) => n + p.lag, 0);
const ready = () => writer.readiness.report().ready;
function metric(name: string, labels: Record<string, string>): Promise<number> {
  return writer.metrics
    .getSingleMetric(name)!
    .get()
    .then((m) =>
      m.values
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((n, v) => n + v.value, 0),
    );
}

async function send(messages: number): Promise<void> {
  await producer.send(topics.parsed, range(sent, sent + messages).map(gatewayMessage));
  sent += messages;
}

async function drained(what: string): Promise<void> {
  const rows = sent * ROWS_PER_MESSAGE;
  await waitFor(count, (n) => n === rows, { what: `${what}: ${rows} rows`, timeoutMs: 120_000 });
  await waitFor(uncommitted, (n) => n === 0, { what: `${what}: offsets committed`, timeoutMs: 60_000 });
}

beforeAll(async () => {
  await ensurePgRunning(instance);
  db = await createTestPgDatabase('gs_outage', instance);
  await createTestTopics(kafka, [topics.parsed, topics.dlq], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  writer = await startInProcess('timescale-writer', timescaleWriterConfigSchema, startTimescaleWriter, {
    ...db.env,
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_PARSED: topics.parsed,
    KAFKA_TOPIC_DLQ: topics.dlq,
    WRITER_ALARMS: 'false',
    WRITER_GROUP_ID: GROUP,
    WRITER_BATCH_SIZE: '2000',
    PG_CONNECT_TIMEOUT_MS: '2000',
    PG_WRITE_TIMEOUT_MS: '3000',
  });
}, 180_000);

afterAll(async () => {
  await ensurePgRunning(instance).catch(() => undefined);
  await writer?.stop();
  await producer?.disconnect();
  await removeTestTopics(kafka, Object.values(topics));
  await db?.drop().catch(() => undefined);
  await instance.script('stop').catch(() => undefined);
});

describe('timescale-writer through PostgreSQL outages', () => {
  it('pauses while PostgreSQL is stopped, commits nothing meanwhile, and writes everything once it is back', async () => {
    await send(BATCH);
    await drained('before the outage');
    expect(ready()).toBe(true);

    await instance.script('stop');
    await send(BATCH);
    // Retried meanwhile, never dead-lettered, never committed: the new messages stay uncommitted.
    await waitFor(
      () => metric('gridstream_sink_writes_total', { sink: 'postgresql', outcome: 'error' }),
      (n) => n >= 2,
      {
        what: 'failed writes while PostgreSQL is down',
        timeoutMs: 30_000,
      },
    );
    expect(ready()).toBe(false);
    await sleep(3_000);
    expect(await uncommitted()).toBe(BATCH);

    await ensurePgRunning(instance);
    await drained('after the outage');
    expect(ready()).toBe(true);
    const rows = await db.query<Reading>(`SELECT ${READING_COLUMNS} FROM readings ${KEY_ORDER}`);
    expect(rows).toEqual(sortedByKey(expectedReadings(range(0, sent).flatMap(recordsOf))));
    expect(await metric('gridstream_dead_letters_total', { stage: 'timescale-writer' })).toBe(0);
  });

  it('abandons a write held by a lock past PG_WRITE_TIMEOUT_MS, retries it, and lands it once the lock is gone', async () => {
    // A DBA's long maintenance: ACCESS EXCLUSIVE on readings, held for 3 write timeouts.
    const dba = new pg.Client({
      host: '127.0.0.1',
      port: instance.port,
      user: 'gridstream',
      password: instance.password(),
      database: db.name,
    });
    await dba.connect();
    try {
      await dba.query('BEGIN');
      await dba.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE');
      const failedBefore = await metric('gridstream_sink_writes_total', {
        sink: 'postgresql',
        outcome: 'error',
      });
      await send(BATCH);
      await waitFor(
        () => metric('gridstream_sink_writes_total', { sink: 'postgresql', outcome: 'error' }),
        (n) => n >= failedBefore + 2,
        { what: 'writes timed out behind the lock', timeoutMs: 30_000 },
      );
      expect(await uncommitted()).toBe(BATCH);
    } finally {
      await dba.query('COMMIT').catch(() => undefined);
      await dba.end();
    }
    await drained('after the lock');
    const rows = await db.query<Reading>(`SELECT ${READING_COLUMNS} FROM readings ${KEY_ORDER}`);
    expect(rows).toEqual(sortedByKey(expectedReadings(range(0, sent).flatMap(recordsOf))));
    expect(ready()).toBe(true);
  });
});
