import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalObjectStore } from '@gridstream/archive';
import { consumerLag, createKafka, type OutMessage, ReliableProducer } from '@gridstream/kafka';
import { type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRecord } from '../../../packages/archive/src/test-records.fixture.js';
import { readParquetWithPyarrow, sortRows } from '../../../test/archive-helpers.js';
import {
  createTestTopics,
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

// The hard case of idempotent naming: the archiver is killed (SIGKILL) after it uploaded files but before
// it committed their offsets, and restarted. It reads those records again; the object set must be the same
// as that of an archiver that was never killed. Cut points here come from the age limit (timing), so
// rebuilding the files would NOT reproduce the names: phase 2 records of the same days are already in
// Kafka when the restarted archiver re-reads phase 1, and a careless archiver would put both phases into
// one file. Runs the real service binary (services/archiver/dist/main.js: build with `npx tsc -b`).

const MAIN = resolve(import.meta.dirname, '../dist/main.js');
const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
const PARSED = kafkaEnv.KAFKA_TOPIC_PARSED;
const DLQ = kafkaEnv.KAFKA_TOPIC_DLQ;
const AGE_MS = 8_000;
const PHASE = 600;
let producer: ReliableProducer;
let scratch: string;
const children: ChildProcess[] = [];

const message = (r: ParsedRecord): OutMessage => ({ key: parsedRecordKey(r), value: JSON.stringify(r) });
const phase = (from: number) => Array.from({ length: PHASE }, (_, i) => message(testRecord(from + i)));

function env(group: string, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: 'gridstream-test-archiver',
    KAFKA_TOPIC_PARSED: PARSED,
    KAFKA_TOPIC_DLQ: DLQ,
    ARCHIVER_GROUP_ID: group,
    ARCHIVE_DIR: dir,
    ARCHIVE_SPOOL_DIR: join(scratch, 'spool'),
    ARCHIVE_MAX_FILE_AGE_MS: String(AGE_MS),
    ARCHIVE_DUCKDB_MEMORY_LIMIT: '256MB',
    ...extra,
  };
}

/** The archiver as its own process (what kill -9 hits), logging JSON lines to `log`. */
function spawnArchiver(vars: Record<string, string>, log: string[]): ChildProcess {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...vars, HEALTH_PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child
    .stdout!.setEncoding('utf8')
    .on('data', (chunk: string) => log.push(...chunk.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, signal) => r(signal ?? code));
  });

async function committedTotal(group: string): Promise<number> {
  const lag = await consumerLag(kafka, group, [PARSED]);
  return lag.reduce((n, p) => n + (p.committed === '-1' ? 0 : Number(p.committed)), 0);
}

async function lagOf(group: string): Promise<number> {
  const lag = await consumerLag(kafka, group, [PARSED]);
  return lag.length === 0 ? Number.POSITIVE_INFINITY : lag.reduce((n, p) => n + p.lag, 0);
}

/**
 * name → the object's rows as pyarrow reads them (sorted), for comparing two archives. The writer's group
 * generation (`+g<n>`) is left out of the name: two groups count their generations apart.
 */
async function contents(dir: string): Promise<Map<string, unknown[]>> {
  const store = new LocalObjectStore(dir);
  const out = new Map<string, unknown[]>();
  for (const object of await store.list('')) {
    const { rows } = await readParquetWithPyarrow([store.pathOf(object.key)]);
    out.set(object.key.replace(/\+g\d+\.parquet$/, '.parquet'), sortRows(rows));
  }
  return out;
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -b)`);
  scratch = await mkdtemp(join(tmpdir(), 'gs-archiver-kill-'));
  await createTestTopics(kafka, [PARSED, DLQ], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await producer?.disconnect();
  await removeTestTopics(kafka, [PARSED, DLQ]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('archiver killed between upload and commit', () => {
  it('restarts into exactly the object set of an archiver that was never killed', async () => {
    const dirA = join(scratch, 'reference');
    const dirB = join(scratch, 'killed');
    const groupA = uniqueName('test-archiver-ref');
    const groupB = uniqueName('test-archiver-kill');
    let phase1Count = 0;

    // Phase 1: 600 records over 3 partitions and 4 days.
    await producer.send(PARSED, phase(0));

    // Reference: never killed. Phase 1 closes by age and is committed.
    const reference = await startInProcess(
      'archiver',
      archiverConfigSchema,
      startArchiver,
      env(groupA, dirA),
    );
    try {
      await waitFor(
        () => lagOf(groupA),
        (n) => n === 0,
        { what: 'reference: phase 1 committed', timeoutMs: 60_000 },
      );
      const phase1Objects = (await new LocalObjectStore(dirA).list('')).length;
      // One file per partition and day that has records (keys decide which partitions hold which days).
      expect(phase1Objects).toBeGreaterThanOrEqual(4);
      phase1Count = phase1Objects;

      // The one to kill: uploads phase 1, but (test hook) commits nothing for 10 minutes.
      const logB1: string[] = [];
      const b1 = spawnArchiver(env(groupB, dirB, { ARCHIVER_TEST_PAUSE_AFTER_UPLOAD_MS: '600000' }), logB1);
      await waitFor(
        async () => (await new LocalObjectStore(dirB).list('')).length,
        (n) => n === phase1Objects,
        { what: `killed archiver: ${phase1Objects} objects uploaded`, timeoutMs: 60_000 },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${logB1.slice(-20).join('\n')}`);
      });
      expect(logB1.filter((l) => l.includes('"msg":"uploaded"'))).toHaveLength(phase1Objects);
      expect(await committedTotal(groupB)).toBe(0);
      b1.kill('SIGKILL');
      expect(await exited(b1)).toBe('SIGKILL');
      expect(await committedTotal(groupB)).toBe(0); // uploaded, never committed

      // Phase 2, on the same days, while the killed one is down.
      await producer.send(PARSED, phase(PHASE));
      await waitFor(
        () => lagOf(groupA),
        (n) => n === 0,
        { what: 'reference: phase 2 committed', timeoutMs: 60_000 },
      );
    } finally {
      await reference.stop();
    }

    // Restart: re-reads phase 1 (nothing was committed) and phase 2.
    const logB2: string[] = [];
    const b2 = spawnArchiver(env(groupB, dirB), logB2);
    try {
      await waitFor(
        () => lagOf(groupB),
        (n) => n === 0,
        { what: 'restarted: all committed', timeoutMs: 90_000 },
      );
      // It recognised the uploaded objects instead of cutting phase 1 again.
      expect(logB2.some((l) => l.includes('found objects archived before this assignment'))).toBe(true);
    } finally {
      b2.kill('SIGTERM');
      expect(await exited(b2)).toBe(0);
    }

    const a = await contents(dirA);
    const b = await contents(dirB);
    expect([...b.keys()]).toEqual([...a.keys()]);
    // Phase 2 has the same keys and days as phase 1, and went to files of its own in both runs.
    expect(a.size).toBe(2 * phase1Count);
    for (const [key, rows] of a) expect(b.get(key), key).toEqual(rows);
    const rows = [...a.values()].reduce((n, r) => n + r.length, 0);
    const expected = Array.from({ length: 2 * PHASE }, (_, i) => testRecord(i)).reduce(
      (n, r) => n + Object.keys(r.fields).length + Object.keys(r.flags).length,
      0,
    );
    expect(rows).toBe(expected);
  });
});
