import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '@gridstream/config';
import {
  countPoints,
  createTestDatabase,
  influxConfig,
  queryInflux,
  type TestDatabase,
} from '@gridstream/influx';
import { deadLetter, type InMessage, ReliableProducer } from '@gridstream/kafka';
import {
  createLogger,
  createMetricsRegistry,
  type HealthServer,
  Readiness,
  startHealthServer,
} from '@gridstream/runtime';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBridge } from '../services/bridge/src/bridge-service.js';
import { bridgeConfigSchema } from '../services/bridge/src/config.js';
import { consoleConfigSchema } from '../services/console/src/config.js';
import { type RunningConsole, startConsole } from '../services/console/src/console-service.js';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { startWriter } from '../services/influx-writer/src/writer-service.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { startParser } from '../services/parser/src/parser-service.js';
import {
  readTopic,
  removeTestTopics,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
  writeSocArchiveFile,
} from './helpers.js';

/** The page's DOM, inside page.evaluate/waitForFunction callbacks (they run in the browser, not here). */
interface PageElement {
  textContent: string | null;
  scrollWidth: number;
  clientWidth: number;
  closest(selector: string): PageElement | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getElementById(id: string): PageElement | null;
};

/**
 * The console in a real browser (headless Chromium via playwright-core) against real services: bridge,
 * parser and influx-writer running in this process on Kafka, RabbitMQ and InfluxDB, each with its real
 * health server, and the console polling them. Screenshots go to test-artifacts/console/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-artifacts', 'console');
const PASSWORD = 'console-test-password';
const SITE = '000777';

const names = {
  raw: uniqueName('con.raw'),
  parsed: uniqueName('con.parsed'),
  dlq: uniqueName('con.dlq'),
  replays: uniqueName('con.replays'),
  alarms: uniqueName('con.alarms'),
  actions: uniqueName('con.alarm-actions'),
  exchange: uniqueName('con.ex'),
  queue: uniqueName('con.q'),
};
const kafka = testKafka();
let db: TestDatabase;
let work: string;
let browser: Browser;
let page: Page;
let consoleApp: RunningConsole;
let producer: ReliableProducer;
const stops: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];

/** A service's start function plus its health server, as runService would run it. */
async function startWithHealth<C>(
  name: string,
  schema: import('zod').ZodType<C>,
  start: (ctx: import('@gridstream/runtime').ServiceContext<C>) => Promise<{ stop(): Promise<void> }>,
  env: Record<string, string>,
): Promise<string> {
  const config = loadConfig(schema, env);
  const readiness = new Readiness();
  const metrics = createMetricsRegistry(name);
  const logger = testLogger().child({ service: name });
  const health: HealthServer = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    readiness,
    metrics,
    logger,
  });
  const running = await start({ config, logger, metrics, readiness });
  readiness.state = 'running';
  stops.push(async () => {
    readiness.state = 'stopping';
    await running.stop();
    await health.close();
  });
  return health.url;
}

function samplesMessage(i: number): { key: string; value: string; headers: Record<string, string> } {
  return {
    key: SITE,
    value: JSON.stringify({
      v: 1,
      samples: [
        {
          site: SITE,
          equipment: 'feed',
          device: 'meter1',
          ts: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          fields: { p: i },
        },
      ],
    }),
    headers: {
      'gs-schema': 'samples.v1',
      'gs-source': 'test://console',
      'gs-received-at': new Date().toISOString(),
    },
  };
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  work = await mkdtemp(join(tmpdir(), 'gs-console-browser-'));
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_console');
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_PARTITIONS: '3',
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.queue,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: names.actions,
    PARSER_GROUP_ID: uniqueName('con-parser'),
    WRITER_GROUP_ID: uniqueName('con-writer'),
    ARCHIVER_GROUP_ID: uniqueName('con-archiver'),
  };
  const writerUrl = await startWithHealth('influx-writer', writerConfigSchema, startWriter, env);
  const parserUrl = await startWithHealth('parser', parserConfigSchema, startParser, env);
  const bridgeUrl = await startWithHealth('bridge', bridgeConfigSchema, startBridge, env);

  // A small archive for the query page: 10 rows, written with the archiver's own Parquet writer.
  const archiveDir = join(work, 'archive');
  await mkdir(join(archiveDir, 'dt=2026-01-01'), { recursive: true });
  await writeSocArchiveFile(
    join(
      archiveDir,
      'dt=2026-01-01',
      `${names.parsed}+0+${'0'.padStart(20, '0')}+${'9'.padStart(20, '0')}.parquet`,
    ),
    { site: SITE, count: 10 },
  );

  const config = loadConfig(consoleConfigSchema, {
    ...env,
    HEALTH_PORT: '0',
    CONSOLE_PORT: '0',
    CONSOLE_PASSWORD: PASSWORD,
    CONSOLE_POLL_INTERVAL_MS: '1000',
    CONSOLE_IMPORT_DIR: join(work, 'imports'),
    // The writer once more under a name that says nothing: the page must know it for a sink by its metrics.
    CONSOLE_SERVICES: `bridge=${bridgeUrl},parser=${parserUrl},influx-writer=${writerUrl},points-store=${writerUrl},archiver=http://127.0.0.1:9`,
    KAFKA_TOPIC_DLQ_REPLAYS: names.replays,
    KAFKA_TOPIC_ALARMS: names.alarms,
    ARCHIVE_DIR: archiveDir,
    ARCHIVE_CACHE_DIR: join(work, 'cache'),
  });
  consoleApp = await startConsole({
    config,
    logger: createLogger({ service: 'console', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' }),
    metrics: createMetricsRegistry('console'),
    readiness: new Readiness(),
  });
  stops.unshift(() => consoleApp.stop());

  producer = new ReliableProducer(kafka, testLogger());
  await producer.connect();

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // A script error in the page fails the test that caused it, instead of a mysterious timeout.
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await producer?.disconnect();
  for (const stop of stops) await stop().catch(() => undefined);
  await db?.drop().catch(() => undefined);
  await removeTestTopics(
    kafka,
    Object.values(names).filter((n) => !n.startsWith('con.ex') && !n.startsWith('con.q')),
  );
  await rm(work, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe('console in a browser', () => {
  afterEach(() => {
    expect(pageErrors, 'script errors in the page').toEqual([]);
  });

  it('refuses a wrong password and logs in with the right one', async () => {
    await page.goto(`${consoleApp.url}/pipeline`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#password', 'wrong password');
    await page.click('#login');
    await page.waitForSelector('#login-error');
    expect(await page.textContent('#login-error')).toContain('Wrong password');
    await shot('01-login-refused');
    await page.fill('#operator', 'Kim');
    await page.fill('#password', PASSWORD);
    await page.click('#login');
    await page.waitForURL(/\/pipeline$/);
  });

  it('shows the live services, a non-zero rate, and a down service as down', async () => {
    let i = 0;
    const feeding = setInterval(() => {
      const batch = Array.from({ length: 20 }, () => samplesMessage(i++));
      void producer.send(names.raw, batch).catch(() => undefined);
    }, 250);
    try {
      await page.waitForFunction(
        () => {
          const cell = document.querySelector('tr[data-service="parser"] .in-rate');
          return cell !== null && Number(cell.textContent) > 0;
        },
        undefined,
        { timeout: 60_000 },
      );
      await page.waitForFunction(
        () =>
          Number(
            document.querySelector('tr[data-service="influx-writer"] .out-rate')?.textContent?.split(' ')[0],
          ) > 0,
        undefined,
        { timeout: 60_000 },
      );
    } finally {
      clearInterval(feeding);
    }
    expect(await page.textContent('tr[data-service="parser"] .state')).toContain('ready');
    expect(await page.textContent('tr[data-service="bridge"] .state')).toContain('ready');
    expect(await page.textContent('tr[data-service="archiver"] .state')).toContain('down');
    expect(await page.locator('#lag tbody tr').count()).toBeGreaterThan(0);
    await page.waitForSelector('#chart .uplot', { timeout: 15_000 });
    // A writer is charted as a sink because its /metrics has gridstream_sink_points_total, whatever it is
    // called; the parser, a stage, only with its input.
    await page.waitForFunction(
      () => document.querySelector('#chart .u-legend')?.textContent?.includes('points-store points/s'),
      undefined,
      { timeout: 15_000 },
    );
    const legend = await page.textContent('#chart .u-legend');
    expect(legend).toContain('influx-writer points/s');
    expect(legend).toContain('points-store points/s');
    expect(await page.textContent('tr[data-service="points-store"] .out-rate')).toContain('points/s');
    expect(legend).toContain('parser in/s');
    expect(legend).not.toMatch(/parser (points|msg|records)\/s/);
    await shot('02-pipeline');
  });

  it('imports a CSV through the page with live progress; the points are in InfluxDB and the bad row is reported', async () => {
    const lines = ['time,meter,voltage,current'];
    for (let r = 0; r < 20; r++) {
      lines.push(`2026-02-01 00:00:${String(r).padStart(2, '0')},m${r % 2},${230 + r / 10},${r}`);
      if (r === 9) lines.push('not a time,m1,231,5'); // physical line 12
    }
    const csv = join(work, 'meters.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);

    await page.goto(`${consoleApp.url}/import`);
    await page.setInputFiles('#upload-file', csv);
    await page.click('#upload');
    await page.waitForURL(/\/import\/file\?name=/);
    // Just uploaded: the form is filled from the file and says what it found; no list of what is "missing".
    expect(await page.textContent('#mapping-hint')).toBe(
      'Detected time column time (format YYYY-MM-DD HH:mm:ss), 2 numeric value columns, device column meter ' +
        'and measurement meters from the file name — check and Preview.',
    );
    expect(await page.locator('#mapping-problems').count()).toBe(0);
    expect(await page.inputValue('#timeColumn')).toBe('time');
    expect(await page.inputValue('#timeFormat')).toBe('YYYY-MM-DD HH:mm:ss');
    const ticked = await page.locator('input[name="valueColumn"]:checked').all();
    expect(await Promise.all(ticked.map((box) => box.getAttribute('value')))).toEqual(['voltage', 'current']);
    expect(await page.inputValue('#deviceColumn')).toBe('meter');
    expect(await page.inputValue('#equipment')).toBe('meters');
    await shot('03-import-prefilled');
    await page.fill('#site', SITE); // the one thing a file cannot tell
    await page.click('#preview');
    await page.waitForSelector('.preview-samples');
    expect(await page.locator('#mapping-problems').count()).toBe(0);
    expect(await page.textContent('body')).not.toContain('Invalid input');
    await shot('03-import-preview');
    await page.click('#run');
    await page.waitForURL(/\/import\/jobs\//);
    await page.waitForFunction(
      () => document.getElementById('job-state')?.textContent === 'done',
      undefined,
      {
        timeout: 60_000,
      },
    );
    expect(await page.getAttribute('#bar', 'data-pct')).toBe('100');
    expect(await page.textContent('#summary-text')).toContain('20 row(s) sent');
    const reject = page.locator('#rejects tbody tr');
    expect(await reject.count()).toBe(1);
    expect(await reject.locator('td.line').textContent()).toBe('12');
    expect(await reject.textContent()).toContain('bad_time');
    await shot('04-import-done');

    await waitFor(
      () => countPoints(db.config, db.name, 'meters'),
      (n) => n >= 20,
      { timeoutMs: 60_000, what: '20 imported points' },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await countPoints(db.config, db.name, 'meters')).toBe(20);
  });

  it('lists a dead letter and replays it to the raw topic, exactly once, with the replay header', async () => {
    const bad = Buffer.from('{"header": {"site_id": "000777", <script>alert(1)</script>');
    await producer.send(names.raw, [
      {
        key: SITE,
        value: bad,
        headers: {
          'gs-schema': 'microgrid.v1',
          'gs-source': 'test://console-dlq',
          'gs-received-at': new Date().toISOString(),
        },
      },
    ]);
    await waitFor(
      async () => {
        await page.goto(`${consoleApp.url}/dead-letters`);
        return page.locator('#letters tbody tr[data-id]').count();
      },
      (n) => n >= 1,
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'a dead letter on the page' },
    );
    const row = page.locator('#letters tbody tr[data-id]').first();
    expect(await row.textContent()).toContain('not_json');
    // The payload is shown as text, not run: no script element came from it.
    expect(await row.locator('code.excerpt').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('#letters script').count()).toBe(0);
    const id = (await row.getAttribute('data-id'))!;
    await shot('05-dead-letters');

    await row.locator('input[type="checkbox"]').check();
    await page.click('#replay');
    await page.waitForSelector('#flash');
    expect(await page.textContent('#flash')).toContain('Replayed 1 letter(s)');
    expect(await page.locator(`tr[data-id="${id}"] .badge`).textContent()).toBe('replayed');
    await shot('06-dead-letters-replayed');

    const raw = await readTopic(kafka, names.raw, 10_000, 8_000);
    const replayed = raw.filter((m: InMessage) => m.headers['gs-replayed-from'] !== undefined);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.headers['gs-replayed-from']).toBe(`dlq/${id}`);
    expect(replayed[0]!.value?.equals(bad)).toBe(true);
    expect(replayed[0]!.headers['gs-source']).toBe('test://console-dlq');
    expect(Object.keys(replayed[0]!.headers).filter((h) => h.startsWith('gs-dlq-'))).toEqual([]);

    // The mark survives a console restart: it is read back from the compacted replays topic.
    const marks = await readTopic(kafka, names.replays, 1, 10_000);
    expect(marks.map((m) => m.key?.toString())).toEqual([id]);

    // A sink's letter holds a parsed record: replaying it to the raw topic would only make a new letter.
    const record = { v: 1, site: SITE, equipment: 'battery', device: '01', ts: new Date().toISOString() };
    await producer.send(names.dlq, [
      deadLetter({
        stage: 'influx-writer',
        reason: 'sink_rejected',
        message: 'field type conflict',
        payload: Buffer.from(JSON.stringify(record)),
        key: SITE,
      }),
    ]);
    const sinkId = await waitFor(
      async () => {
        await page.goto(`${consoleApp.url}/dead-letters`);
        const rows = page.locator('#letters tbody tr[data-id]', { hasText: 'sink_rejected' });
        return (await rows.count()) === 1 ? await rows.first().getAttribute('data-id') : null;
      },
      (found) => found !== null,
      { timeoutMs: 60_000, intervalMs: 1_000, what: "the writer's letter on the page" },
    );
    const answer = await page.evaluate(async (letter) => {
      const response = await fetch('/api/dead-letters/replay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [letter] }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { replayed: string[]; refused: { id: string; reason: string }[] },
      };
    }, sinkId!);
    expect(answer.status).toBe(200);
    expect(answer.body.replayed).toEqual([]);
    expect(answer.body.refused).toEqual([
      {
        id: sinkId,
        reason:
          'a letter of the influx-writer holds a parsed record, not a raw message; fix the cause and replay the raw message of its lineage',
      },
    ]);
    const rawAfter = await readTopic(kafka, names.raw, 10_000, 3_000);
    expect(rawAfter.filter((m: InMessage) => m.headers['gs-replayed-from'] !== undefined)).toHaveLength(1);
  });

  it('lists active alarms from the alarms topic', async () => {
    const event = {
      v: 1,
      id: `${SITE}/battery/bank//soc_low@2026-01-01T00:00:00.000Z`,
      site: SITE,
      equipment: 'battery',
      device: 'bank',
      rule: 'soc_low',
      field: 'soc',
      state: 'raised',
      level: 'fault',
      value: 4.5,
      threshold: 5,
      raisedAt: '2026-01-01T00:00:00.000Z',
      ts: '2026-01-01T00:00:00.000Z',
      message: 'SoC below 5 %',
    };
    await producer.send(names.alarms, [
      { key: `${SITE}/battery/bank//soc_low`, value: JSON.stringify(event) },
    ]);
    await waitFor(
      async () => {
        await page.goto(`${consoleApp.url}/alarms`);
        return page.locator('#alarms tbody tr').count();
      },
      (n) => n === 1,
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'the alarm on the page' },
    );
    expect(await page.textContent('#alarms tbody tr')).toContain('SoC below 5 %');
    await shot('07-alarms');
    // On the pipeline page the alarms' ten columns stay inside their card (they scroll there).
    await page.goto(`${consoleApp.url}/pipeline`);
    await page.waitForSelector('#alarms-box #alarms', { timeout: 30_000 });
    const overflow = await page.evaluate(() => {
      const card = document.getElementById('alarms-box')?.closest('.card');
      return card ? card.scrollWidth - card.clientWidth : Number.NaN;
    });
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('acknowledges, shelves and clears an alarm: who and when kept in its history and in InfluxDB', async () => {
    const key = `${SITE}/battery/bank//soc_low`;
    const row = page.locator(`#alarms tbody tr[data-key="${key}"]`);
    await page.goto(`${consoleApp.url}/alarms`);
    expect(await row.locator('.badge.unacked').textContent()).toBe('unacknowledged');
    await row.locator('button.ack').click();
    await page.waitForSelector('#alarm-notice');
    expect(await page.textContent('#alarm-notice')).toBe('Acknowledged.');
    expect(await row.locator('.acked').textContent()).toMatch(/^acknowledged by Kim at 20\d\d-/);
    expect(await row.locator('button.ack').count()).toBe(0);
    await shot('08-alarm-acknowledged');

    // Shelving needs a reason: the browser keeps the form until one is given (required field).
    await row.locator('select[name="minutes"]').selectOption('60');
    await row.locator('input[name="comment"]').fill('sensor being replaced');
    await row.locator('button.shelve').click();
    await page.waitForSelector('#alarm-notice');
    expect(await page.textContent('#alarm-notice')).toBe('Shelved.');
    expect(await page.locator('#alarms tbody tr').count()).toBe(0);
    const shelved = page.locator(`#shelved tbody tr[data-key="${key}"]`);
    expect(await shelved.textContent()).toContain('sensor being replaced');
    expect(await shelved.textContent()).toContain('Kim at');
    await shot('09-alarm-shelved');

    // The process returns to normal: the episode clears (on the shelf, it stays listed there as cleared).
    await producer.send(names.alarms, [
      {
        key,
        value: JSON.stringify({
          v: 1,
          id: `${key}@2026-01-01T00:00:00.000Z`,
          site: SITE,
          equipment: 'battery',
          device: 'bank',
          rule: 'soc_low',
          field: 'soc',
          state: 'cleared',
          level: 'fault',
          value: 12,
          threshold: 10,
          raisedAt: '2026-01-01T00:00:00.000Z',
          ts: '2026-01-01T00:20:00.000Z',
          message: 'SoC back above 10 %',
        }),
      },
    ]);
    await waitFor(
      async () => {
        await page.goto(`${consoleApp.url}/alarms`);
        return (await shelved.locator('td').nth(4).textContent()) ?? '';
      },
      (state) => state === 'cleared',
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'the cleared state on the shelf' },
    );
    expect(await page.locator('#no-alarms').count()).toBe(1);
    await shot('10-alarm-cleared');

    await shelved.locator('a.history').click();
    await page.waitForURL(/\/alarms\/history\?key=/);
    await page.fill('#comment', 'closed: new sensor reads right');
    await page.click('#add-comment');
    await page.waitForSelector('#actions');
    expect(await page.textContent('#history-state')).toBe('cleared');
    const actions = await page.locator('#actions tbody tr').allTextContents();
    expect(actions.map((t) => /(acknowledged|shelved|commented)/.exec(t)?.[1])).toEqual([
      'commented',
      'shelved',
      'acknowledged',
    ]);
    expect(actions.every((t) => t.includes('Kim'))).toBe(true);
    expect(await page.locator('#events tbody tr').count()).toBe(2);
    await shot('11-alarm-history');

    // The influx-writer took the three actions into `alarm_actions`, by whom, for Grafana.
    const byAction = await waitFor(
      async () =>
        (
          await queryInflux(
            db.config,
            'SELECT "by", "comment" FROM "alarm_actions" GROUP BY "action"',
            db.name,
          )
        ).map((series) => [series.tags.action, series.values.map((v) => [v[1], v[2]])]),
      (r) => r.length === 3,
      { timeoutMs: 30_000, what: 'three alarm actions in InfluxDB' },
    );
    expect(Object.fromEntries(byAction)).toEqual({
      acknowledged: [['Kim', '']],
      commented: [['Kim', 'closed: new sensor reads right']],
      shelved: [['Kim', 'sensor being replaced']],
    });
  });

  it('runs a query over the local archive and shows the table and the chart', async () => {
    await page.goto(`${consoleApp.url}/query`);
    await page.fill('#sql', `SELECT ts, value FROM telemetry WHERE field = 'soc' ORDER BY ts`);
    await page.click('#run-query');
    await page.waitForSelector('#results');
    expect(await page.locator('#results tbody tr').count()).toBe(10);
    expect(await page.textContent('#results tbody tr:first-child')).toContain('2026-01-01 00:00:00.000');
    expect(await page.textContent('#results tbody tr:last-child')).toContain('59');
    await page.waitForSelector('#query-chart .uplot');
    await shot('08-query');

    // A query that matches nothing says so, instead of an empty page.
    await page.fill('#sql', `SELECT ts, value FROM telemetry WHERE field = 'no_such_field'`);
    await page.click('#run-query');
    await page.waitForSelector('#query-empty');
    expect(await page.textContent('#query-empty')).toContain('No rows');
    expect(await page.locator('#results tbody tr').count()).toBe(0);

    // The SQL box cannot read the console's own files.
    await page.fill('#sql', `SELECT * FROM read_csv('/etc/passwd')`);
    await page.click('#run-query');
    await page.waitForSelector('#query-error');
    expect(await page.textContent('#query-error')).toMatch(/Permission Error|disabled/);
  });
});
