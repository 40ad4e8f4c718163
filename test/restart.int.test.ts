import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { countPoints, createTestDatabase, influxConfig, type TestDatabase } from '@gridstream/influx';
import { ReliableProducer } from '@gridstream/kafka';
import { RAW_HEADER } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMicrogridSite,
  expectedRecordCount,
  REFERENCE_SITE_SHAPE,
} from '../services/simulator/src/microgrid-generator.js';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * kill -9 the parser and the writer mid-stream, start them again: InfluxDB ends with exactly the expected
 * points. Offsets committed only after the outputs were acknowledged means a killed process redelivers
 * (never loses), and a redelivered point overwrites itself (never duplicates). Runs the built services as
 * real processes, as an operator would (`make build` first; `make test` does it).
 */
const root = join(import.meta.dirname, '..');
const artifacts = join(root, 'test-artifacts', 'restart');
const SITES = 6;
const MESSAGES_PER_SITE = 250;
const EXPECTED = SITES * MESSAGES_PER_SITE * expectedRecordCount(REFERENCE_SITE_SHAPE); // 25,500

const names = {
  raw: uniqueName('restart.raw'),
  parsed: uniqueName('restart.parsed'),
  dlq: uniqueName('restart.dlq'),
  // Own alarms topic: the writer also reads alarms, and the shared default topic may hold a demo's events.
  alarms: uniqueName('restart.alarms'),
};
const logger = testLogger();
const kafka = testKafka(logger);
let db: TestDatabase;
let env: Record<string, string>;
const running = new Map<string, ChildProcess>();

function startService(name: 'parser' | 'influx-writer', generation: number): ChildProcess {
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(join(artifacts, `${name}-${generation}.log`));
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  running.set(name, child);
  return child;
}

function kill9(name: string): Promise<void> {
  const child = running.get(name)!;
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_restart');
  await createTestTopics(kafka, [names.raw, names.parsed, names.dlq], 3);
  env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    PARSER_GROUP_ID: uniqueName('restart-parser'),
    PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
    WRITER_GROUP_ID: uniqueName('restart-writer'),
    // Small slices and batches, so that a kill lands between produce/write and commit many times over.
    PARSER_MAX_MESSAGES_PER_CALL: '20',
    WRITER_BATCH_SIZE: '300',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
  };
});

afterAll(async () => {
  for (const child of running.values()) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
  await removeTestTopics(kafka, [names.raw, names.parsed, names.dlq, names.alarms]);
});

describe('kill -9 mid-stream', () => {
  it('loses nothing and duplicates nothing when the parser and the writer are killed and restarted', async () => {
    startService('parser', 1);
    startService('influx-writer', 1);

    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    const sites = Array.from({ length: SITES }, (_, i) =>
      createMicrogridSite({ siteId: String(500 + i).padStart(6, '0'), seed: i }),
    );
    // Raw messages as the bridge would write them, trickled in so the kill lands mid-stream.
    const feeding = (async () => {
      for (let i = 0; i < MESSAGES_PER_SITE; i++) {
        const at = new Date(Date.UTC(2026, 2, 1, 0, 0, 0) + i * 1000);
        await producer.send(
          names.raw,
          sites.map((site) => ({
            key: site.siteId,
            value: site.next(at, 'Asia/Seoul'),
            headers: {
              [RAW_HEADER.schema]: 'microgrid.v1',
              [RAW_HEADER.source]: 'test://restart',
              [RAW_HEADER.receivedAt]: new Date().toISOString(),
            },
          })),
        );
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await waitFor(
      () => countPoints(db.config, db.name),
      (n) => n >= EXPECTED / 5,
      {
        what: 'a fifth of the points before the kill',
        timeoutMs: 90_000,
      },
    );
    await Promise.all([kill9('parser'), kill9('influx-writer')]);
    const atKill = await countPoints(db.config, db.name);
    expect(atKill).toBeLessThan(EXPECTED);

    startService('parser', 2);
    startService('influx-writer', 2);
    await feeding;
    await producer.disconnect();

    // The killed members' sessions must time out before the group rebalances (30 s), hence the long wait.
    await waitFor(
      () => countPoints(db.config, db.name),
      (n) => n >= EXPECTED,
      {
        what: `${EXPECTED} points after restart`,
        timeoutMs: 150_000,
        intervalMs: 1_000,
      },
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await countPoints(db.config, db.name)).toBe(EXPECTED);
    expect(await readTopic(kafka, names.dlq, 0)).toHaveLength(0);
  });
});
