import { join } from 'node:path';
import { consumerLag, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import { type AlarmEvent, alarmKey, DLQ_HEADER, type ParsedRecord } from '@gridstream/schema';
import {
  createTestTopics,
  parsedV2Message,
  REPO_ROOT,
  readTopic,
  removeTestTopics,
  ServiceProcess,
  sleep,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from '@gridstream/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import { samplesOf, seriesKey, VictoriaMetrics } from '../test/victoria-metrics.js';
import { DatapointMapper, DEFAULT_NAMING, type NamingOptions, type OpenTsdbDatapoint } from './datapoints.js';

/**
 * The opentsdb-writer as an operator runs it (`node services/opentsdb-writer/dist/main.js`; run `npx tsc -b`
 * first) between real Kafka and a real VictoriaMetrics (deploy/local/victoriametrics.sh, deduplicating at
 * 1 ms). Each test has its own topics, consumer group and metric prefix; the tests that stop the server or
 * limit its requests get a VictoriaMetrics of their own.
 */
const artifacts = join(REPO_ROOT, 'test-artifacts', 'opentsdb-writer');
const logger = testLogger();
const kafka = testKafka(logger);
const SITES = ['site-a', 'site-b', 'site-c'] as const;
const T0 = Date.parse('2023-06-09T11:34:06.000Z');

let shared: VictoriaMetrics;
let producer: ReliableProducer;
const topics: string[] = [];
const processes: ServiceProcess[] = [];
const privateServers: VictoriaMetrics[] = [];

beforeAll(async () => {
  shared = await VictoriaMetrics.shared();
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop(5_000).catch(() => undefined)));
  await Promise.all(privateServers.splice(0).map((s) => s.destroy()));
});

afterAll(async () => {
  await producer?.disconnect();
  await removeTestTopics(kafka, topics);
});

/** One test's topics, group, metric prefix and the writer's environment. */
async function setup(name: string, vm: VictoriaMetrics, env: Record<string, string> = {}) {
  const t = {
    parsed: uniqueName(`${name}.parsed`),
    dlq: uniqueName(`${name}.dlq`),
    alarms: uniqueName(`${name}.alarms`),
    actions: uniqueName(`${name}.actions`),
    group: uniqueName(`${name}-opentsdb-writer`),
    prefix: uniqueName('w')
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase(),
  };
  topics.push(t.parsed, t.dlq, t.alarms, t.actions);
  await createTestTopics(kafka, [t.parsed, t.dlq, t.alarms, t.actions], 3);
  const naming: NamingOptions = {
    ...DEFAULT_NAMING,
    metricTemplate: `${t.prefix}.{equipment}.{field}`,
    alarmMetric: `${t.prefix}.alarm`,
  };
  const writerEnv = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: `test-${name}`,
    KAFKA_TOPIC_PARSED: t.parsed,
    KAFKA_TOPIC_DLQ: t.dlq,
    KAFKA_TOPIC_ALARMS: t.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: t.actions,
    KAFKA_TOPIC_PARTITIONS: '3',
    // A killed member's partitions move to its successor within seconds.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    WRITER_GROUP_ID: t.group,
    OPENTSDB_URL: vm.opentsdbUrl,
    OPENTSDB_METRIC_TEMPLATE: naming.metricTemplate,
    OPENTSDB_ALARM_METRIC: naming.alarmMetric,
    OPENTSDB_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'info',
    ...env,
  };
  const start = async (instance = name) => {
    const p = await ServiceProcess.start({
      service: 'opentsdb-writer',
      instance,
      env: writerEnv,
      logDir: artifacts,
    });
    processes.push(p);
    await p.ready(60_000);
    return p;
  };
  return { ...t, naming, env: writerEnv, start };
}

/** Message k: the reference message's 17 records at site k % 3, one second later every 3 messages. */
function messageRecords(k: number): ParsedRecord[] {
  const site = SITES[k % SITES.length]!;
  const ts = new Date(T0 + Math.floor(k / SITES.length) * 1_000).toISOString();
  return SAMPLE_RECORDS.map((r) => ({ ...r, site, ts }));
}
const lineage = (k: number): ParsedRecord['lineage'] => ({
  topic: 'telemetry.raw',
  partition: 0,
  offset: String(k),
});
const message = (k: number): OutMessage => parsedV2Message(messageRecords(k), lineage(k));

/** Series key → (timestamp → value) of datapoints, the last one winning, as the server keeps them. */
function seriesOf(points: OpenTsdbDatapoint[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const p of points) {
    const key = seriesKey({ __name__: p.metric, ...p.tags });
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(p.timestamp, p.value);
  }
  return out;
}

function expectedFor(naming: NamingOptions, messages: number[]): Map<string, Map<number, number>> {
  const mapper = new DatapointMapper(naming);
  return seriesOf(messages.flatMap((k) => messageRecords(k).flatMap((r) => mapper.recordPoints(r))));
}

const total = (series: Map<string, Map<number, number>>) =>
  [...series.values()].reduce((n, s) => n + s.size, 0);

/** What the server holds under a prefix; fails on two samples of one series at one time (a duplicate). */
async function stored(vm: VictoriaMetrics, prefix: string): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const s of await vm.export(prefix)) {
    expect(new Set(s.timestamps).size, `duplicate samples in ${seriesKey(s.metric)}`).toBe(
      s.timestamps.length,
    );
    out.set(seriesKey(s.metric), samplesOf(s));
  }
  return out;
}

async function uncommitted(group: string, topic: string): Promise<number> {
  return (await consumerLag(kafka, group, [topic])).reduce((n, p) => n + p.lag, 0);
}

/** VictoriaMetrics' own count of datapoints it took over the OpenTSDB HTTP listener (before dedup). */
async function rowsInserted(vm: VictoriaMetrics): Promise<number> {
  const text = await (await fetch(`${vm.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('vm_rows_inserted_total{type="opentsdbhttp"}'));
  return Number(line?.split(' ')[1] ?? 0);
}

async function waitStored(
  vm: VictoriaMetrics,
  prefix: string,
  count: number,
  what: string,
  timeoutMs = 120_000,
) {
  await waitFor(
    () => vm.count(prefix),
    (n) => n >= count,
    { what: `${what}: ${count} samples`, timeoutMs, intervalMs: 1_000 },
  );
}

async function metricSum(p: ServiceProcess, name: string, labels: string): Promise<number> {
  return (await p.metrics())
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe('opentsdb-writer service (real Kafka and VictoriaMetrics)', () => {
  it('writes every record and alarm as datapoints with exact series and values, commits, dead-letters none', async () => {
    const t = await setup('otsdb-exact', shared);
    const messages = Array.from({ length: 150 }, (_, k) => k);
    await producer.send(t.parsed, messages.map(message));
    const alarm = (over: Partial<AlarmEvent>): AlarmEvent => ({
      v: 1,
      id: 'x',
      site: 'site-a',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      field: 'max_cell_voltage',
      state: 'raised',
      level: 'warning',
      value: 4.2,
      threshold: 4.15,
      raisedAt: new Date(T0).toISOString(),
      ts: new Date(T0).toISOString(),
      message: 'm',
      ...over,
    });
    const alarms = [
      alarm({}),
      alarm({ state: 'escalated', level: 'fault', ts: new Date(T0 + 2_000).toISOString() }),
      alarm({ state: 'cleared', level: 'fault', ts: new Date(T0 + 9_000).toISOString() }),
      alarm({ device: '02', rack: undefined, rule: 'soc_low', ts: new Date(T0 + 1_000).toISOString() }),
    ];
    await producer.send(
      t.alarms,
      alarms.map((a) => ({ key: alarmKey(a), value: JSON.stringify(a) })),
    );
    const expected = expectedFor(t.naming, messages);
    const alarmTags = {
      site: 'site-a',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
    };
    expected.set(
      seriesKey({ __name__: `${t.prefix}.alarm`, ...alarmTags }),
      new Map([
        [T0, 1],
        [T0 + 2_000, 2],
        [T0 + 9_000, 0],
      ]),
    );
    expected.set(
      seriesKey({
        __name__: `${t.prefix}.alarm`,
        site: 'site-a',
        equipment: 'battery',
        device: '02',
        rule: 'soc_low',
      }),
      new Map([[T0 + 1_000, 1]]),
    );

    const writer = await t.start();
    await waitStored(shared, t.prefix, total(expected), 'written');
    await waitFor(
      async () => (await uncommitted(t.group, t.parsed)) + (await uncommitted(t.group, t.alarms)),
      (n) => n === 0,
      { what: 'offsets committed' },
    );
    expect(await stored(shared, t.prefix)).toEqual(expected);
    expect(await metricSum(writer, 'gridstream_sink_points_total', 'sink="opentsdb"')).toBe(total(expected));
    expect(await readTopic(kafka, t.dlq, 0)).toEqual([]);
  });

  it('loses and duplicates nothing when killed with SIGKILL mid-stream, or when the topic is replayed', async () => {
    // Its own server, so that its count of datapoints taken is this test's alone.
    const vm = await VictoriaMetrics.private('otsdb-kill');
    privateServers.push(vm);
    const t = await setup('otsdb-kill', vm, { WRITER_BATCH_SIZE: '500' });
    const messages = Array.from({ length: 600 }, (_, k) => k);
    const expected = expectedFor(t.naming, messages);
    const writer = await t.start();

    // The messages arrive in four slices; in each of the first three the writer is killed as soon as a
    // write of that slice has landed, so it dies with most of the slice unwritten or uncommitted. (A feeder
    // racing the kills, as before, could finish first on a loaded machine — CI — and leave no write to kill.)
    const slices = 4;
    const per = messages.length / slices;
    for (let slice = 0; slice < slices; slice++) {
      const before = await rowsInserted(vm);
      for (let k = slice * per; k < (slice + 1) * per; k += 20)
        await producer.send(t.parsed, messages.slice(k, Math.min(k + 20, (slice + 1) * per)).map(message));
      if (slice === slices - 1) break;
      await waitFor(
        () => rowsInserted(vm),
        (n) => n > before,
        { what: 'a write in progress', timeoutMs: 60_000, intervalMs: 20 },
      );
      await writer.kill('SIGKILL');
      await sleep(500);
      await writer.restart();
      await writer.ready(60_000);
    }
    await waitStored(vm, t.prefix, total(expected), 'written after the kills', 180_000);
    await waitFor(
      () => uncommitted(t.group, t.parsed),
      (n) => n === 0,
      { what: 'offsets committed', timeoutMs: 60_000 },
    );
    expect(await stored(vm, t.prefix)).toEqual(expected);
    expect(writer.starts).toBe(4);

    // A second group reads the whole topic again (an operator's replay): every datapoint is written twice.
    const replay = { ...t.env, WRITER_GROUP_ID: uniqueName('otsdb-replay') };
    const inserted = await rowsInserted(vm);
    const replayer = await ServiceProcess.start({
      service: 'opentsdb-writer',
      instance: 'otsdb-replay',
      env: replay,
      logDir: artifacts,
    });
    processes.push(replayer);
    await waitFor(
      () => uncommitted(replay.WRITER_GROUP_ID, t.parsed),
      (n) => n === 0,
      {
        what: 'replay committed',
        timeoutMs: 120_000,
      },
    );
    expect((await rowsInserted(vm)) - inserted).toBeGreaterThanOrEqual(total(expected));
    expect(await stored(vm, t.prefix)).toEqual(expected);
    expect(await readTopic(kafka, t.dlq, 0)).toEqual([]);
  });

  it('pauses through a VictoriaMetrics outage: unready, nothing committed that was not written, nothing lost', async () => {
    const vm = await VictoriaMetrics.private('otsdb-outage');
    privateServers.push(vm);
    const t = await setup('otsdb-outage', vm);
    const writer = await t.start();
    await producer.send(t.parsed, [0, 1, 2, 3, 4, 5].map(message));
    await waitStored(vm, t.prefix, total(expectedFor(t.naming, [0, 1, 2, 3, 4, 5])), 'before the outage');

    await vm.stop();
    const during = Array.from({ length: 60 }, (_, k) => 6 + k);
    await producer.send(t.parsed, during.map(message));
    const ready = () => fetch(`http://127.0.0.1:${writer.healthPort}/healthz/ready`).then((r) => r.status);
    await waitFor(ready, (s) => s === 503, { what: 'unready while the server is down', timeoutMs: 30_000 });
    await sleep(3_000);
    expect(await uncommitted(t.group, t.parsed)).toBeGreaterThan(0);
    expect(await metricSum(writer, 'gridstream_sink_writes_total', 'outcome="error"')).toBeGreaterThan(0);
    writer.assertAlive();

    await vm.start();
    const all = expectedFor(t.naming, [0, 1, 2, 3, 4, 5, ...during]);
    await waitStored(vm, t.prefix, total(all), 'after the outage');
    await waitFor(
      () => uncommitted(t.group, t.parsed),
      (n) => n === 0,
      { what: 'offsets committed' },
    );
    await waitFor(ready, (s) => s === 200, { what: 'ready again', timeoutMs: 30_000 });
    expect(await stored(vm, t.prefix)).toEqual(all);
    expect(await readTopic(kafka, t.dlq, 0)).toEqual([]);
  });

  it('dead-letters exactly the records refused — by the server, or by the writer itself — and writes the rest', async () => {
    // VictoriaMetrics refuses nothing per datapoint (it drops what it cannot read, silently, with a 204: the
    // writer never sends that). What it does refuse is a request body over -opentsdbhttp.maxInsertRequestSize:
    // with a small limit, one oversized datapoint is refused by the server itself; the seam splits its batch
    // until it is alone. The writer's own refusals: a name OpenTSDB forbids (OPENTSDB_INVALID_CHARS=refuse)
    // and a timestamp OpenTSDB would read as seconds.
    const LIMIT = 500;
    const vm = await VictoriaMetrics.private('otsdb-refused', {
      extraArgs: `-opentsdbhttp.maxInsertRequestSize=${LIMIT}`,
    });
    privateServers.push(vm);
    const t = await setup('otsdb-refused', vm, { WRITER_BATCH_SIZE: '2', OPENTSDB_INVALID_CHARS: 'refuse' });

    const [m0, m1] = [messageRecords(0), messageRecords(3)];
    const oversized: ParsedRecord = {
      ...m0[4]!,
      device: 'd'.repeat(128),
      rack: 'r'.repeat(128),
      fields: { ['x'.repeat(200)]: 1 },
      flags: {},
      quality: undefined,
    };
    const badName: ParsedRecord = { ...m0[5]!, fields: { 'temp (°C)': 20.5 }, flags: {}, quality: undefined };
    const early: ParsedRecord = { ...m1[6]!, ts: '1970-01-01T00:00:01.000Z' };
    const mapper = new DatapointMapper(t.naming);
    const size = JSON.stringify(mapper.recordPoints(oversized)).length;
    expect(size).toBeGreaterThan(LIMIT);
    const good0 = [...m0.slice(0, 3), ...m0.slice(6)];
    await producer.send(t.parsed, [
      parsedV2Message([...m0.slice(0, 3), oversized, badName, ...m0.slice(6)], lineage(0)),
      parsedV2Message([early], lineage(1)),
      parsedV2Message(m1, lineage(2)),
    ]);
    const expected = seriesOf([...good0, ...m1].flatMap((r) => mapper.recordPoints(r)));
    await t.start();
    const letters = await readTopic(kafka, t.dlq, 3, 120_000);
    await waitFor(
      () => uncommitted(t.group, t.parsed),
      (n) => n === 0,
      { what: 'offsets committed', timeoutMs: 120_000 },
    );

    const summary = letters
      .map((l) => ({
        reason: l.headers[DLQ_HEADER.reason],
        stage: l.headers[DLQ_HEADER.stage],
        device: (JSON.parse(l.value!.toString()) as ParsedRecord).device,
        message: l.headers[DLQ_HEADER.message],
      }))
      .sort((a, b) => (a.message ?? '').localeCompare(b.message ?? ''));
    expect(summary).toEqual([
      {
        reason: 'sink_rejected',
        stage: 'opentsdb-writer',
        device: oversized.device,
        message: `cannot decode opentsdb data: too big data size exceeding -opentsdbhttp.maxInsertRequestSize=${LIMIT} bytes`,
      },
      {
        reason: 'invalid_record',
        stage: 'opentsdb-writer',
        device: badName.device,
        message: `fields.temp (°C): "temp (°C)" has characters OpenTSDB refuses in names (" ", "(", "°", ")"); OPENTSDB_INVALID_CHARS=replace would write it as "temp___C_"`,
      },
      {
        reason: 'invalid_record',
        stage: 'opentsdb-writer',
        device: early.device,
        message:
          'ts: 1970-01-01T00:00:01.000Z is before 1970-02-19T17:02:47.296Z: OpenTSDB would read its millisecond timestamp as seconds',
      },
    ]);
    expect(await stored(vm, t.prefix)).toEqual(expected);
  });
});
