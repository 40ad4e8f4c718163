import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { ReliableProducer } from '@gridstream/kafka';
import { createMetricsRegistry, Readiness } from '@gridstream/runtime';
import { type AlarmAction, AlarmActionSchema } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmHistory, AlarmView } from '../services/console/src/alarm-board.js';
import { consoleConfigSchema } from '../services/console/src/config.js';
import { type RunningConsole, startConsole } from '../services/console/src/console-service.js';
import {
  readTopic,
  removeTestTopics,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * Alarm handling against a real Kafka: actions go to the alarm-actions topic before they are confirmed,
 * refusals say why, and a restarted console shows the same acknowledgements and shelves (it keeps no state
 * of its own). Through the JSON API with the bearer token, as a SCADA script or a shift handover tool would.
 */
const TOKEN = 'alarm-handling-token-0123456789';
const SITE = '000321';
const KEY = `${SITE}/battery/bank/2/rack_over_temperature`;
const names = {
  raw: uniqueName('ah.raw'),
  dlq: uniqueName('ah.dlq'),
  replays: uniqueName('ah.replays'),
  alarms: uniqueName('ah.alarms'),
  actions: uniqueName('ah.actions'),
};
const kafka = testKafka();
let work: string;
let producer: ReliableProducer;
let running: RunningConsole | undefined;

async function start(): Promise<RunningConsole> {
  const config = loadConfig(consoleConfigSchema, {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_DLQ_REPLAYS: names.replays,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: names.actions,
    KAFKA_TOPIC_PARTITIONS: '3',
    HEALTH_PORT: '0',
    CONSOLE_PORT: '0',
    CONSOLE_TOKEN: TOKEN,
    CONSOLE_SHELVE_MAX_MINUTES: '480',
    CONSOLE_IMPORT_DIR: join(work, 'imports'),
    CONSOLE_SERVICES: 'parser=http://127.0.0.1:9',
    ARCHIVE_DIR: join(work, 'archive'),
    ARCHIVE_CACHE_DIR: join(work, 'cache'),
  });
  return startConsole({
    config,
    logger: testLogger().child({ service: 'console' }),
    metrics: createMetricsRegistry('console'),
    readiness: new Readiness(),
  });
}

interface Board {
  active: AlarmView[];
  shelved: AlarmView[];
  invalidActions: number;
}
type Answer = AlarmAction & Board & AlarmHistory & { error?: string };

const api = async (path: string, body?: unknown): Promise<{ status: number; json: Answer }> => {
  const res = await fetch(`${running!.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Answer };
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gs-alarm-handling-'));
  producer = new ReliableProducer(kafka, testLogger());
  await producer.connect();
  running = await start();
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await producer?.disconnect();
  await removeTestTopics(kafka, Object.values(names));
  await rm(work, { recursive: true, force: true });
});

describe('alarm handling through the console', () => {
  it('acknowledges and shelves with who and when, refuses what does not apply, and keeps it across a restart', async () => {
    const raisedAt = '2026-03-01T02:00:00.000Z';
    await producer.send(names.alarms, [
      {
        key: KEY,
        value: JSON.stringify({
          v: 1,
          id: `${KEY}@${raisedAt}`,
          site: SITE,
          equipment: 'battery',
          device: 'bank',
          rack: '2',
          rule: 'rack_over_temperature',
          field: 'max_cell_temperature',
          state: 'raised',
          level: 'warning',
          value: 52.5,
          threshold: 50,
          raisedAt,
          ts: raisedAt,
          message: 'max_cell_temperature 52.5 degC above 50',
        }),
      },
    ]);
    await waitFor(
      () => api('/api/alarms'),
      (r) => r.json.active.length === 1,
      { timeoutMs: 30_000, what: 'the raised alarm in the console' },
    );

    const ack = await api('/api/alarms/actions', {
      key: KEY,
      action: 'acknowledged',
      comment: 'crew informed',
      by: 'shift-tool',
    });
    expect(ack.status).toBe(201);
    expect(ack.json).toMatchObject({
      action: 'acknowledged',
      by: 'shift-tool',
      level: 'warning',
      comment: 'crew informed',
    });

    // Refusals, each with its reason and nothing published.
    expect(await api('/api/alarms/actions', { key: KEY, action: 'acknowledged' })).toEqual({
      status: 409,
      json: { error: `Already acknowledged by shift-tool at ${ack.json.at}.` },
    });
    expect(await api('/api/alarms/actions', { key: KEY, action: 'shelved', minutes: 30 })).toEqual({
      status: 400,
      json: { error: 'Say why the alarm is shelved (the comment).' },
    });
    expect(
      await api('/api/alarms/actions', { key: KEY, action: 'shelved', minutes: 481, comment: 'long job' }),
    ).toEqual({ status: 400, json: { error: 'Choose how long to shelve the alarm: 1 to 480 minutes.' } });
    expect(
      (await api('/api/alarms/actions', { key: 'x/y/z//w', action: 'commented', comment: 'c' })).status,
    ).toBe(404);
    expect(await api('/api/alarms/actions', { key: KEY, action: 'deleted' })).toEqual({
      status: 400,
      json: { error: 'Unknown action "deleted": one of acknowledged, shelved, unshelved, commented.' },
    });
    expect(
      (await api('/api/alarms/actions', { key: KEY, action: 'commented', comment: 'x', by: 'a\nb' })).status,
    ).toBe(400);

    const before = Date.now();
    const shelf = await api('/api/alarms/actions', {
      key: KEY,
      action: 'shelved',
      minutes: 30,
      comment: 'fan replaced at 03:00',
    });
    expect(shelf.status).toBe(201);
    const until = Date.parse(shelf.json.shelvedUntil!);
    expect(until - Date.parse(shelf.json.at)).toBe(30 * 60_000);
    expect(Date.parse(shelf.json.at)).toBeGreaterThanOrEqual(before - 1);

    const board = (await api('/api/alarms')).json;
    expect(board.active).toEqual([]);
    expect(board.shelved).toHaveLength(1);
    expect(board.shelved[0]).toMatchObject({
      key: KEY,
      acknowledged: { by: 'shift-tool', comment: 'crew informed' },
      shelved: { by: 'api', comment: 'fan replaced at 03:00', until: shelf.json.shelvedUntil },
    });

    // Exactly the two accepted actions are on the topic, keyed by the alarm, valid per the schema.
    const onTopic = await readTopic(kafka, names.actions, 2, 10_000);
    expect(onTopic.map((m) => m.key?.toString())).toEqual([KEY, KEY]);
    const actions = onTopic.map((m) => AlarmActionSchema.parse(JSON.parse(m.value!.toString())));
    expect(actions.map((a) => [a.action, a.by, a.episode, a.rack])).toEqual([
      ['acknowledged', 'shift-tool', `${KEY}@${raisedAt}`, '2'],
      ['shelved', 'api', `${KEY}@${raisedAt}`, '2'], // no `by`: a token caller is recorded as api
    ]);

    // Something unreadable on the actions topic is counted, not fatal.
    await producer.send(names.actions, [{ key: KEY, value: '{"v":1,"action":"acknowledged"}' }]);

    // A new console process: the same handling, read back from the two topics.
    await running!.stop();
    running = undefined;
    running = await start();
    const again = await waitFor(
      () => api('/api/alarms'),
      (r) => r.json.shelved.length === 1 && r.json.invalidActions === 1,
      { timeoutMs: 30_000, what: 'the shelf after a restart' },
    );
    expect(again.json.shelved[0]).toEqual(board.shelved[0]);
    const history = await api(`/api/alarms/history?key=${encodeURIComponent(KEY)}`);
    expect(history.json.actions.map((a) => a.action)).toEqual(['shelved', 'acknowledged']);
    expect(history.json.events).toHaveLength(1);

    // Unshelved early: active again, still acknowledged (same episode, same level).
    expect((await api('/api/alarms/actions', { key: KEY, action: 'unshelved' })).status).toBe(201);
    const after = (await api('/api/alarms')).json;
    expect(after.shelved).toEqual([]);
    expect(after.active.map((a) => [a.key, a.acknowledged?.by])).toEqual([[KEY, 'shift-tool']]);
  });
});
