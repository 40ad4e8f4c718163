import { consumerLag, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import {
  type AlarmAction,
  type AlarmEvent,
  alarmKey,
  DLQ_HEADER,
  type ParsedRecord,
} from '@gridstream/schema';
import {
  createTestTopics,
  parsedV2Message,
  readTopic,
  removeTestTopics,
  startInProcess,
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
import { timescaleWriterConfigSchema } from './config.js';
import { startTimescaleWriter } from './writer-service.js';

// The service in this process on the sink seam, against the real Kafka and PostgreSQL 15 of deploy/local:
// records and alarms in, exact rows out, refused rows dead-lettered with PostgreSQL's own message.
// kill -9: writer-crash.int.test.ts; a PostgreSQL outage: writer-outage.int.test.ts.

const logger = testLogger();
const kafka = testKafka(logger);
const topics = {
  parsed: uniqueName('tw.parsed'),
  dlq: uniqueName('tw.dlq'),
  alarms: uniqueName('tw.alarms'),
  actions: uniqueName('tw.actions'),
};
const GROUP = uniqueName('tw-writer');
const N = 200;

let db: TestPgDatabase;
let producer: ReliableProducer;
let writer: Awaited<ReturnType<typeof startInProcess>>;

const count = async (table: string) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
const uncommitted = async () =>
  (await consumerLag(kafka, GROUP, [topics.parsed])).reduce((n, p) => n + p.lag, 0);

async function drained(what: string, rows: number): Promise<void> {
  await waitFor(
    () => count('readings'),
    (n) => n === rows,
    { what: `${what}: ${rows} rows`, timeoutMs: 90_000 },
  );
  await waitFor(uncommitted, (n) => n === 0, { what: `${what}: offsets committed`, timeoutMs: 60_000 });
}

function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return writer.metrics
    .getSingleMetric(name)!
    .get()
    .then((m) =>
      m.values
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((n, v) => n + v.value, 0),
    );
}

beforeAll(async () => {
  await ensurePgRunning();
  db = await createTestPgDatabase('gs_writer');
  await createTestTopics(kafka, [topics.parsed, topics.dlq, topics.alarms, topics.actions], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  writer = await startInProcess('timescale-writer', timescaleWriterConfigSchema, startTimescaleWriter, {
    ...db.env,
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_PARSED: topics.parsed,
    KAFKA_TOPIC_DLQ: topics.dlq,
    KAFKA_TOPIC_ALARMS: topics.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: topics.actions,
    KAFKA_TOPIC_PARTITIONS: '3',
    WRITER_GROUP_ID: GROUP,
    WRITER_BATCH_SIZE: '2000',
  });
});

afterAll(async () => {
  await writer?.stop();
  await producer?.disconnect();
  await removeTestTopics(kafka, Object.values(topics));
  await db?.drop();
});

describe('timescale-writer service (real Kafka and PostgreSQL)', () => {
  it(`writes ${N} gateway messages (${N * 17} records) as exactly one row per reading and flag, with exact values`, async () => {
    await producer.send(topics.parsed, range(0, N).map(gatewayMessage));
    await drained('first messages', N * ROWS_PER_MESSAGE);

    const rows = await db.query<Reading>(`SELECT ${READING_COLUMNS} FROM readings ${KEY_ORDER}`);
    expect(rows).toEqual(sortedByKey(expectedReadings(range(0, N).flatMap(recordsOf))));
    expect(await metric('gridstream_sink_points_total', { sink: 'postgresql' })).toBe(N * ROWS_PER_MESSAGE);
    expect(writer.readiness.report().ready).toBe(true);
  });

  it('writes alarm events and operator actions into alarms and alarm_actions, each once', async () => {
    const events: AlarmEvent[] = [
      ['raised', 'warning', 3.71, '2024-03-01T00:00:10.000Z'],
      ['escalated', 'fault', 3.9, '2024-03-01T00:00:20.000Z'],
      ['cleared', 'fault', null, '2024-03-01T00:01:00.000Z'],
    ].map(([state, level, value, ts]) => ({
      v: 1,
      id: 'site-a/battery/01/1/cell_over_voltage@2024-03-01T00:00:10.000Z',
      site: 'site-a',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      field: 'max_cell_voltage',
      state: state as AlarmEvent['state'],
      level: level as AlarmEvent['level'],
      value: value as number | null,
      threshold: 3.65,
      raisedAt: '2024-03-01T00:00:10.000Z',
      ts: ts as string,
      message: `cell voltage ${state}`,
    }));
    const action: AlarmAction = {
      v: 1,
      id: '0d7c1a52-3a1b-4f7e-8c2d-5b9e6f4a3c21',
      action: 'acknowledged',
      episode: events[0]!.id,
      site: 'site-a',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      level: 'fault',
      by: 'lee',
      at: '2024-03-01T00:00:30.000Z',
      comment: 'crew on site',
    };
    const asMessage = (value: object, key: string): OutMessage => ({ key, value: JSON.stringify(value) });
    // The raised event twice (a redelivery upstream): still one row.
    await producer.send(
      topics.alarms,
      [...events, events[0]!].map((e) => asMessage(e, alarmKey(e))),
    );
    await producer.send(topics.actions, [asMessage(action, alarmKey(action))]);
    await waitFor(
      () => count('alarms'),
      (n) => n >= 3,
      { what: 'alarm rows' },
    );
    await waitFor(
      () => count('alarm_actions'),
      (n) => n >= 1,
      { what: 'alarm action rows' },
    );
    expect(
      await db.query(
        'SELECT state, level, value, threshold, active, message, time FROM alarms ORDER BY time',
      ),
    ).toEqual(
      events.map((e) => ({
        state: e.state,
        level: e.level,
        value: e.value,
        threshold: 3.65,
        active: e.state !== 'cleared',
        message: e.message,
        time: new Date(e.ts),
      })),
    );
    expect(
      await db.query('SELECT id, action, done_by, comment, level, episode, time FROM alarm_actions'),
    ).toEqual([
      {
        id: action.id,
        action: 'acknowledged',
        done_by: 'lee',
        comment: 'crew on site',
        level: 'fault',
        episode: events[0]!.id,
        time: new Date(action.at),
      },
    ]);
    expect(await count('readings')).toBe(N * ROWS_PER_MESSAGE);
  });

  it("dead-letters a record PostgreSQL refuses (a DBA's CHECK) with the server's message, and writes the rest of its batch", async () => {
    await db.query(
      "ALTER TABLE readings ADD CONSTRAINT soc_range CHECK (field <> 'soc' OR value BETWEEN 0 AND 100)",
    );
    // Message N (site-c): the reference message with battery 01's soc at 150 %; around it good messages of
    // the same site, and one v1 record with a local timestamp (refused by the writer itself: invalid_record).
    // One key: one partition, so they arrive in one slice and share a batch.
    const refused = recordsOf(N);
    refused[0] = { ...refused[0]!, fields: { ...refused[0]!.fields, soc: 150 } };
    const bad: ParsedRecord = { ...recordsOf(N + 1)[3]!, device: 'local-time', ts: '2024-03-01 09:00:00' };
    const messages: OutMessage[] = [
      gatewayMessage(N + 3),
      parsedV2Message(refused, refused[0]!.lineage),
      { key: bad.site, value: JSON.stringify(bad), headers: { 'gs-schema': 'microgrid.v1' } },
      gatewayMessage(N + 6),
    ].map((m) => ({ ...m, key: 'site-c' }));
    await producer.send(topics.parsed, messages);

    const letters = await readTopic(kafka, topics.dlq, 2, 90_000);
    expect(letters).toHaveLength(2);
    const byReason = Object.fromEntries(letters.map((l) => [l.headers[DLQ_HEADER.reason]!, l]));
    const rejected = byReason.sink_rejected!;
    expect(rejected.headers[DLQ_HEADER.stage]).toBe('timescale-writer');
    expect(rejected.headers[DLQ_HEADER.message]).toMatch(
      /^new row for relation "readings" violates check constraint "soc_range" \(Failing row contains \(2024-03-01 00:01:06\+00, site-c, battery, 01, , soc, 150, f, out_of_range\)\.\)$/,
    );
    // The letter is the refused record alone, not its whole message.
    expect(JSON.parse(rejected.value!.toString())).toMatchObject({
      site: 'site-c',
      equipment: 'battery',
      device: '01',
      fields: { soc: 150 },
    });
    expect(byReason.invalid_record!.headers[DLQ_HEADER.message]).toMatch(/^ts: must be a UTC timestamp/);
    expect(byReason.invalid_record!.headers[DLQ_HEADER.stage]).toBe('timescale-writer');

    // Everything else is written: both good messages whole, and every row of the refused message but the
    // one refused (its record's other readings are stored; the letter lets it be replayed after a fix).
    const total = N * ROWS_PER_MESSAGE + 3 * ROWS_PER_MESSAGE - 1;
    await drained('refusals', total);
    const stored = await db.query<Reading>(
      `SELECT ${READING_COLUMNS} FROM readings WHERE site = 'site-c' AND time >= '2024-03-01T00:01:06Z' ${KEY_ORDER}`,
    );
    // Only battery 01's own soc is 150 (its rack's soc is 31.5).
    const expected = expectedReadings([...recordsOf(N + 3), ...refused, ...recordsOf(N + 6)]).filter(
      (r) => !(r.field === 'soc' && r.value === 150),
    );
    expect(expected).toHaveLength(3 * ROWS_PER_MESSAGE - 1);
    expect(stored).toEqual(sortedByKey(expected));
    expect(
      await metric('gridstream_dead_letters_total', { stage: 'timescale-writer', reason: 'sink_rejected' }),
    ).toBe(1);
    expect(
      await metric('gridstream_dead_letters_total', { stage: 'timescale-writer', reason: 'invalid_record' }),
    ).toBe(1);
    await db.query('ALTER TABLE readings DROP CONSTRAINT soc_range');
  });
});
