import { join } from 'node:path';
import { consumerLag, ReliableProducer } from '@gridstream/kafka';
import {
  createTestTopics,
  REPO_ROOT,
  removeTestTopics,
  ServiceProcess,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedReadings,
  KEY_ORDER,
  READING_COLUMNS,
  type Reading,
  sortedByKey,
} from '../test/expected-rows.js';
import { gatewayMessage, ROWS_PER_MESSAGE, range, recordsOf } from '../test/gateway-messages.js';
import { createTestPgDatabase, ensurePgRunning, type TestPgDatabase } from '../test/test-postgres.js';

// The built service (services/timescale-writer/dist, `npx tsc -b` first) as its own process, killed with
// SIGKILL three times while it writes: every kill loses whatever was between COPY and COMMIT and every
// offset not yet committed, and the restarted writer reads those messages again. The table must end with
// every row exactly once — the upsert turns each re-read into an overwrite of itself.

const logger = testLogger();
const kafka = testKafka(logger);
const topics = { parsed: uniqueName('twc.parsed'), dlq: uniqueName('twc.dlq') };
const GROUP = uniqueName('twc-writer');
const MESSAGES = 600;
const TOTAL = MESSAGES * ROWS_PER_MESSAGE;
const KILLS = 3;

let db: TestPgDatabase;
let writer: ServiceProcess | undefined;

const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM readings'))[0]!.n);
const uncommitted = async () =>
  (await consumerLag(kafka, GROUP, [topics.parsed])).reduce((n, p) => n + p.lag, 0);

beforeAll(async () => {
  await ensurePgRunning();
  db = await createTestPgDatabase('gs_crash');
  await createTestTopics(kafka, [topics.parsed, topics.dlq], 3);
});

afterAll(async () => {
  await writer?.stop(5_000).catch(() => undefined);
  await removeTestTopics(kafka, Object.values(topics));
  await db?.drop();
});

describe('timescale-writer killed with SIGKILL mid-stream', () => {
  it(`ends with exactly ${TOTAL} rows after ${KILLS} kills and restarts, none lost, none twice`, async () => {
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    await producer.send(topics.parsed, range(0, MESSAGES).map(gatewayMessage));
    await producer.disconnect();

    writer = await ServiceProcess.start({
      service: 'timescale-writer',
      env: {
        ...db.env,
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        KAFKA_TOPIC_PARSED: topics.parsed,
        KAFKA_TOPIC_DLQ: topics.dlq,
        WRITER_ALARMS: 'false',
        WRITER_GROUP_ID: GROUP,
        // Small writes, one at a time: a kill lands between a write's COPY and its COMMIT, or between a
        // commit to PostgreSQL and the Kafka offset commit, many times over.
        WRITER_BATCH_SIZE: '500',
        WRITER_WRITES_IN_FLIGHT: '1',
        // A killed member's partitions are held until its session expires: keep it short.
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
        LOG_LEVEL: 'info',
      },
      logDir: join(REPO_ROOT, 'test-artifacts', 'timescale-writer-crash'),
    });
    await writer.ready(90_000);

    const atKill: number[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      // Kill once the table holds a quarter, a half, three quarters of the rows: mid-stream each time.
      const mark = (kill * TOTAL) / (KILLS + 1);
      await waitFor(count, (n) => n >= mark, {
        what: `${mark} rows before kill ${kill}`,
        timeoutMs: 120_000,
        intervalMs: 20,
      });
      await writer.kill('SIGKILL');
      atKill.push(await count());
      await writer.restart();
      await writer.ready(90_000);
    }
    for (const n of atKill) {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(TOTAL);
    }

    await waitFor(count, (n) => n >= TOTAL, { what: `${TOTAL} rows`, timeoutMs: 180_000 });
    await waitFor(uncommitted, (n) => n === 0, { what: 'every offset committed', timeoutMs: 60_000 });
    expect(await count()).toBe(TOTAL);
    // Every message is there whole: 360 rows at each (site, time), one group per message.
    const groups = await db.query<{ n: string; groups: string }>(
      'SELECT n, count(*) AS groups FROM (SELECT count(*) AS n FROM readings GROUP BY site, time) g GROUP BY n',
    );
    expect(groups).toEqual([{ n: String(ROWS_PER_MESSAGE), groups: String(MESSAGES) }]);
    // And with its exact values (every row of a third of the messages, one site of three).
    const siteA = await db.query<Reading>(
      `SELECT ${READING_COLUMNS} FROM readings WHERE site = 'site-a' ${KEY_ORDER}`,
    );
    expect(siteA).toEqual(
      sortedByKey(
        expectedReadings(
          range(0, MESSAGES)
            .filter((k) => k % 3 === 0)
            .flatMap(recordsOf),
        ),
      ),
    );
    expect(await db.query('SELECT count(*)::int AS n FROM readings WHERE quality IS NOT NULL')).toEqual([
      { n: MESSAGES * 2 },
    ]);
    await writer.stop();
    expect(writer.tail(200)).not.toMatch(/"level":(50|60)/);
  });
});
