import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  countPoints,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
  waitForInflux,
} from '@gridstream/influx';
import { consumerLag, createKafka, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import {
  type AlarmEvent,
  type AlarmLevel,
  type AlarmState,
  alarmKey,
  DLQ_HEADER,
  type ParsedRecord,
  parsedRecordKey,
} from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
} from '../../../test/helpers.js';
import { writerConfigSchema } from './config.js';
import { startWriter } from './writer-service.js';

// Real Kafka and InfluxDB 1.6 (deploy/local). InfluxDB outages are made with a TCP relay in front of it
// that the test switches off, so the shared server is never stopped by this file.

const base = influxConfig({ url: TEST_INFLUX_URL, timeoutMs: 10_000 });
const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const PARSED = kafkaEnv.KAFKA_TOPIC_PARSED;
const DLQ = kafkaEnv.KAFKA_TOPIC_DLQ;
const ALARMS = uniqueName('test.alarms');
const ACTIONS = uniqueName('test.alarm-actions');
const GROUP = uniqueName('test-writer-alarms');
const T0 = Date.parse('2026-11-23T01:00:00.000Z');

/** A loopback relay to InfluxDB that can refuse connections and cut the open ones (an outage). */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  up = true;
  port = 0;

  async start(target: URL): Promise<void> {
    this.server = createServer((client) => {
      if (!this.up) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(target.port || 80), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  setUp(up: boolean): void {
    this.up = up;
    if (!up) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.setUp(false);
    await new Promise((r) => this.server?.close(r));
  }
}

const KEYS = 50;
const STEPS: { state: AlarmState; level: AlarmLevel; threshold: number | null }[] = [
  { state: 'raised', level: 'warning', threshold: 50 },
  { state: 'escalated', level: 'fault', threshold: 55 },
  { state: 'deescalated', level: 'warning', threshold: 53 },
  { state: 'cleared', level: 'warning', threshold: 48 },
];

/**
 * Event #i of a deterministic stream: 50 alarm keys (2 sites × 5 racks × 5 rules, every 5th key a
 * device-level alarm without a rack), each going through raised → escalated → deescalated → cleared
 * episodes, one event per key and second. Every 7th event has no value and every 11th no threshold, to
 * check that nulls are left out rather than written as 0.
 */
function alarm(i: number, offset = 0): AlarmEvent {
  const k = i % KEYS;
  const j = Math.floor(i / KEYS) + offset;
  const step = STEPS[j % 4]!;
  const raisedAt = new Date(T0 + (j - (j % 4)) * 1_000).toISOString();
  const key = {
    site: k < 25 ? 'sionyu' : 'site b',
    equipment: 'battery',
    device: 'bank',
    rack: k % 5 === 4 ? undefined : String((k % 5) + 1),
    rule: ['rack_over_temperature', 'cell_over_voltage', 'cell_under_voltage', 'soc_low', 'soc_high'][
      Math.floor(k / 5) % 5
    ]!,
  };
  return {
    v: 1,
    id: `${alarmKey(key)}@${raisedAt}`,
    ...key,
    ...(key.rack === undefined ? {} : { rack: key.rack }),
    field: 'max_cell_temperature',
    state: step.state,
    level: step.level,
    value: i % 7 === 3 ? null : 40 + ((i * 37) % 200) / 10,
    threshold: i % 11 === 5 ? null : step.threshold,
    raisedAt,
    ts: new Date(T0 + j * 1_000).toISOString(),
    message: `rule ${key.rule}: "${step.state}" at step ${j}, \\ done\nsecond line`,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const alarmMessage = (a: AlarmEvent): OutMessage => ({ key: alarmKey(a), value: JSON.stringify(a) });

/** What InfluxDB must hold for an event: tags and fields exactly per the contract. */
function expectedRow(a: AlarmEvent): Record<string, unknown> {
  return {
    time: Date.parse(a.ts),
    tags: {
      device: a.device,
      equipment: a.equipment,
      level: a.level,
      rack: a.rack ?? '',
      rule: a.rule,
      site: a.site,
      state: a.state,
    },
    value: a.value,
    threshold: a.threshold,
    active: a.state !== 'cleared',
    message: a.message,
    id: a.id,
    raised_at_ms: Date.parse(a.raisedAt),
  };
}

let db: TestDatabase;
let relay: Relay;
let producer: ReliableProducer;
let writer: Awaited<ReturnType<typeof startInProcess>>;
let expectedAlarms = 0;
let expectedLetters = 0;
const extraTopics: string[] = [];

async function storedRows(where = 'true'): Promise<Record<string, unknown>[]> {
  const series = await queryInflux(
    db.config,
    `SELECT * FROM alarms WHERE ${where === 'true' ? 'time > 0' : where} GROUP BY *`,
  );
  return series.flatMap((s) =>
    s.values.map((row) => {
      const o = Object.fromEntries(s.columns.map((c, k) => [c, row[k]]));
      const tags = { rack: '', ...s.tags };
      return {
        time: o.time,
        tags,
        value: o.value,
        threshold: o.threshold,
        active: o.active,
        message: o.message,
        id: o.id,
        raised_at_ms: o.raised_at_ms,
      };
    }),
  );
}

const uncommitted = async (group: string, topic: string) =>
  (await consumerLag(kafka, group, [topic])).reduce((n, p) => n + p.lag, 0);
const alarmPoints = () => countPoints(db.config, db.name, 'alarms');

async function waitUntilDrained(what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(alarmPoints, (n) => n === expectedAlarms, { what: `${what}: ${expectedAlarms}`, timeoutMs });
  await waitFor(
    () => uncommitted(GROUP, ALARMS),
    (n) => n === 0,
    { what: `${what}: committed`, timeoutMs },
  );
}

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_PARSED: PARSED,
    KAFKA_TOPIC_DLQ: DLQ,
    KAFKA_TOPIC_ALARMS: ALARMS,
    KAFKA_TOPIC_ALARM_ACTIONS: ACTIONS,
    KAFKA_TOPIC_PARTITIONS: '3',
    WRITER_GROUP_ID: GROUP,
    INFLUX_URL: `http://127.0.0.1:${relay.port}`,
    INFLUX_DATABASE: db.name,
    INFLUX_TIMEOUT_MS: '3000',
    ...overrides,
  };
}

function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
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
  if (!(await waitForInflux(base, 60_000))) throw new Error(`InfluxDB is not answering on ${base.url}`);
  db = await createTestDatabase(base, 'gs_test_alarms');
  relay = new Relay();
  await relay.start(new URL(TEST_INFLUX_URL));
  await createTestTopics(kafka, [PARSED, DLQ, ALARMS, ACTIONS], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  writer = await startInProcess('influx-writer', writerConfigSchema, startWriter, env());
});

afterAll(async () => {
  await writer?.stop();
  await producer?.disconnect();
  await relay?.stop();
  await removeTestTopics(kafka, [PARSED, DLQ, ALARMS, ACTIONS, ...extraTopics]);
  await db?.drop().catch(() => undefined);
});

describe('influx-writer: telemetry.alarms → the alarms measurement (real Kafka and InfluxDB)', () => {
  const N = 600;

  it(`writes ${N} alarm events as exactly ${N} points with the contract's tags, fields and times`, async () => {
    const events = range(0, N).map((i) => alarm(i));
    await producer.send(ALARMS, events.map(alarmMessage));
    expectedAlarms += N;
    await waitUntilDrained('first events');

    const byKey = (r: Record<string, unknown>) => `${r.id}@${r.time}`;
    const stored = (await storedRows()).sort((a, b) => byKey(a).localeCompare(byKey(b)));
    const expected = events.map(expectedRow).sort((a, b) => byKey(a).localeCompare(byKey(b)));
    expect(stored).toHaveLength(N);
    // null value/threshold come back as null: the field was left out, not written as 0.
    expect(stored).toEqual(expected);
    expect(stored.filter((r) => r.value === null)).toHaveLength(
      events.filter((e) => e.value === null).length,
    );

    const types = new Map<string, string>();
    for (const s of await queryInflux(db.config, 'SHOW FIELD KEYS FROM alarms'))
      for (const [key, type] of s.values) types.set(String(key), String(type));
    expect(Object.fromEntries(types)).toEqual({
      active: 'boolean',
      id: 'string',
      message: 'string',
      raised_at_ms: 'integer',
      threshold: 'float',
      value: 'float',
    });
    const tagKeys = (await queryInflux(db.config, 'SHOW TAG KEYS FROM alarms'))[0]!.values.map((v) => v[0]);
    expect(tagKeys).toEqual(['device', 'equipment', 'level', 'rack', 'rule', 'site', 'state']);
    expect(await metricValue('gridstream_sink_points_total', { measurement: 'alarms' })).toBe(N);
    expect(await readTopic(kafka, DLQ, 0)).toHaveLength(0);
  });

  it('dead-letters invalid alarm messages (not_json, invalid_record) with their bytes, and writes the good ones around them', async () => {
    const good = range(0, 40).map((i) => alarm(i, 100));
    const key = 'sionyu/battery/bank/1/rack_over_temperature';
    const bad = [
      { at: 3, value: Buffer.from('{"v":1,"id":'), reason: 'not_json' },
      {
        at: 10,
        value: Buffer.from(JSON.stringify({ ...alarm(0), level: 'critical' })),
        reason: 'invalid_record',
      },
      {
        at: 11,
        value: Buffer.from(JSON.stringify(SAMPLE_RECORDS[0])),
        reason: 'invalid_record',
      },
      {
        at: 30,
        value: Buffer.from(JSON.stringify({ ...alarm(1), ts: 'yesterday' })),
        reason: 'invalid_record',
      },
    ];
    const left = [...good];
    const messages: OutMessage[] = range(0, good.length + bad.length).map((at) => {
      const b = bad.find((x) => x.at === at);
      return b ? { key, value: b.value } : { ...alarmMessage(left.shift()!), key };
    });
    const before = await kafka.admin();
    await before.connect();
    const offsetsBefore = await before.fetchTopicOffsets(ALARMS);
    await before.disconnect();

    await producer.send(ALARMS, messages);
    // A tombstone (compaction deletes the key): skipped and counted, not dead-lettered. Produced with the
    // plain client: ours only sends values.
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: ALARMS, messages: [{ key, value: null }] });
    await plain.disconnect();
    expectedAlarms += good.length;
    expectedLetters += bad.length;
    await waitUntilDrained('mixed');

    const letters = await readTopic(kafka, DLQ, bad.length);
    expect(letters).toHaveLength(bad.length);
    const partition = Number(letters[0]!.headers[DLQ_HEADER.sourcePartition]);
    const first = BigInt(offsetsBefore.find((p) => p.partition === partition)!.high);
    const byOffset = new Map(letters.map((l) => [l.headers[DLQ_HEADER.sourceOffset], l]));
    for (const b of bad) {
      const letter = byOffset.get((first + BigInt(b.at)).toString());
      expect(letter, `letter at ${b.at}`).toBeDefined();
      expect(letter!.headers[DLQ_HEADER.stage]).toBe('influx-writer');
      expect(letter!.headers[DLQ_HEADER.reason]).toBe(b.reason);
      expect(letter!.headers[DLQ_HEADER.sourceTopic]).toBe(ALARMS);
      expect(letter!.value!.equals(b.value)).toBe(true);
    }
    for (const a of [good[0]!, good[39]!]) {
      const rows = await storedRows(
        `time = ${Date.parse(a.ts)}ms AND state = '${a.state}' AND site = '${a.site}'`,
      );
      expect(rows).toContainEqual(expectedRow(a));
    }
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'not_json' })).toBe(1);
    expect(await metricValue('gridstream_dead_letters_total', { reason: 'invalid_record' })).toBe(3);
    expect(await metricValue('gridstream_sink_alarm_tombstones_total')).toBe(1);
  });

  it('holds alarm offsets while InfluxDB is unreachable, retries, then writes every event once it is back', async () => {
    const retriesBefore = await metricValue('gridstream_sink_writes_total', { outcome: 'error' });
    const committedBefore = await uncommitted(GROUP, ALARMS);
    expect(committedBefore).toBe(0);
    relay.setUp(false);
    try {
      await producer.send(
        ALARMS,
        range(0, 100).map((i) => alarmMessage(alarm(i, 200))),
      );
      expectedAlarms += 100;
      await waitFor(
        () => writer.readiness.report().checks.influxdb?.ok,
        (ok) => ok === false,
        { what: 'influxdb check failing', timeoutMs: 15_000 },
      );
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await metricValue('gridstream_sink_writes_total', { outcome: 'error' })).toBeGreaterThan(
        retriesBefore + 1,
      );
      expect(await uncommitted(GROUP, ALARMS)).toBe(100);
      expect(await alarmPoints()).toBe(expectedAlarms - 100);
    } finally {
      relay.setUp(true);
    }
    await waitUntilDrained('after the outage', 45_000);
    const letters = await readTopic(kafka, DLQ, expectedLetters);
    expect(letters).toHaveLength(expectedLetters);
  });

  it('is idempotent: the same events delivered again overwrite themselves', async () => {
    await producer.send(
      ALARMS,
      range(0, N).map((i) => alarmMessage(alarm(i))),
    );
    await waitFor(
      () => uncommitted(GROUP, ALARMS),
      (n) => n === 0,
      { what: 'redelivery committed' },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await alarmPoints()).toBe(expectedAlarms);
  });

  it("writes operators' alarm actions to alarm_actions and dead-letters one that is not an action", async () => {
    const action = {
      v: 1,
      id: 'a-1',
      action: 'shelved',
      episode: alarm(0).id,
      site: alarm(0).site,
      equipment: alarm(0).equipment,
      device: alarm(0).device,
      rack: alarm(0).rack,
      rule: alarm(0).rule,
      by: 'Kim',
      at: '2026-11-23T02:00:00.000Z',
      comment: 'fan swap',
      shelvedUntil: '2026-11-23T03:00:00.000Z',
    };
    const notAnAction = Buffer.from(JSON.stringify({ ...action, id: 'a-2', action: 'deleted' }));
    await producer.send(ACTIONS, [
      { key: 'k', value: JSON.stringify(action) },
      { key: 'k', value: notAnAction },
    ]);
    expectedLetters += 1;
    const [series] = await waitFor(
      () =>
        queryInflux(db.config, 'SELECT "by", "comment", "shelved_until_ms" FROM alarm_actions GROUP BY *'),
      (r) => r.length === 1,
      { what: 'the action in alarm_actions' },
    );
    expect(series!.tags).toMatchObject({
      action: 'shelved',
      site: action.site,
      rule: action.rule,
      rack: action.rack,
    });
    expect(series!.values).toEqual([
      [Date.parse(action.at), 'Kim', 'fan swap', Date.parse(action.shelvedUntil)],
    ]);
    const letters = await waitFor(
      async () =>
        (await readTopic(kafka, DLQ, expectedLetters)).filter(
          (l) => l.headers[DLQ_HEADER.sourceTopic] === ACTIONS,
        ),
      (l) => l.length === 1,
      { what: 'the letter of the bad action' },
    );
    expect(letters[0]!.headers[DLQ_HEADER.reason]).toBe('invalid_record');
    expect(letters[0]!.value!.equals(notAnAction)).toBe(true);
  });

  it('with WRITER_ALARMS=false leaves the alarms topic alone and still writes records', async () => {
    const parsed = uniqueName('test.parsed.noalarms');
    const alarms = uniqueName('test.alarms.noalarms');
    extraTopics.push(parsed, alarms);
    await createTestTopics(kafka, [parsed, alarms], 3);
    const group = uniqueName('test-writer-noalarms');
    const other = await createTestDatabase(base, 'gs_test_noalarms');
    const off = await startInProcess(
      'influx-writer',
      writerConfigSchema,
      startWriter,
      env({
        KAFKA_TOPIC_PARSED: parsed,
        KAFKA_TOPIC_ALARMS: alarms,
        WRITER_GROUP_ID: group,
        WRITER_ALARMS: 'false',
        INFLUX_URL: TEST_INFLUX_URL,
        INFLUX_DATABASE: other.name,
      }),
    );
    try {
      const records: ParsedRecord[] = SAMPLE_RECORDS.slice(0, 5);
      await producer.send(
        parsed,
        records.map((r) => ({ key: parsedRecordKey(r), value: JSON.stringify(r) })),
      );
      await producer.send(
        alarms,
        range(0, 10).map((i) => alarmMessage(alarm(i))),
      );
      await waitFor(
        () => countPoints(other.config, other.name),
        (n) => n === 5,
        { what: '5 record points' },
      );
      await waitFor(
        () => uncommitted(group, parsed),
        (n) => n === 0,
        { what: 'records committed' },
      );
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await countPoints(other.config, other.name, 'alarms')).toBe(0);
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [alarms] });
      await admin.disconnect();
      // Never subscribed: no committed position at all on the alarms topic.
      expect(offsets[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);
    } finally {
      await off.stop();
      await other.drop().catch(() => undefined);
    }
  });
});
