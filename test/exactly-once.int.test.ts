import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalObjectStore } from '@gridstream/archive';
import {
  fetchArchiverOffsets,
  kafkaRecordOffsets,
  StoreArchiveSource,
  verifyArchive,
} from '@gridstream/archive-tools';
import { ReliableProducer } from '@gridstream/kafka';
import { parseRaw } from '@gridstream/parsing';
import { type ParsedRecord, RAW_HEADER, recordIdentity } from '@gridstream/schema';
import {
  createTestTopics,
  parsedRecordsOf,
  REPO_ROOT,
  readCommitted,
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
import { createMicrogridSite } from '../services/simulator/src/microgrid-generator.js';

/**
 * The parser's exactly-once promise, as a user relies on it: raw messages keep arriving while parser
 * replicas are killed with SIGKILL over and over — mid-slice, mid-transaction, mid-rebalance — and the
 * parsed topic ends with each raw message's records exactly once (read_committed, as every reader of
 * ours reads), and the archive with each reading exactly once, which `archive verify` confirms (and
 * refuses once a duplicate file is planted).
 */
const artifacts = join(REPO_ROOT, 'test-artifacts', 'exactly-once');
const SITES = 6;
const MESSAGES_PER_SITE = 250;
const KILLS = 20;
const logger = testLogger();
const kafka = testKafka(logger);
const names = {
  raw: uniqueName('eo.raw'),
  parsed: uniqueName('eo.parsed'),
  dlq: uniqueName('eo.dlq'),
  alarms: uniqueName('eo.alarms'),
  parserGroup: uniqueName('eo-parser'),
  archiverGroup: uniqueName('eo-archiver'),
};
const archiveDir = mkdtempSync(join(tmpdir(), 'gs-eo-archive-'));
const processes: ServiceProcess[] = [];
let producer: ReliableProducer;

const common = {
  KAFKA_BROKERS: TEST_BROKERS.join(','),
  KAFKA_TOPIC_RAW: names.raw,
  KAFKA_TOPIC_PARSED: names.parsed,
  KAFKA_TOPIC_DLQ: names.dlq,
  KAFKA_TOPIC_ALARMS: names.alarms,
  KAFKA_TOPIC_PARTITIONS: '3',
  // Short sessions, so that a killed replica's partitions move within seconds and the loop kills often.
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
  LOG_LEVEL: 'info',
};

beforeAll(async () => {
  await createTestTopics(kafka, [names.raw, names.parsed, names.dlq], 3);
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop(5_000).catch(() => undefined)));
  await producer?.disconnect();
  await removeTestTopics(kafka, [
    names.raw,
    names.parsed,
    names.dlq,
    names.alarms,
    `${names.parserGroup}.dedup`,
  ]);
  rmSync(archiveDir, { recursive: true, force: true });
});

describe('exactly once through a parser killed 20 times under load', () => {
  it('leaves every record once on the parsed topic and every reading once in the archive', async () => {
    const parserEnv = {
      ...common,
      PARSER_GROUP_ID: names.parserGroup,
      PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
      // Small slices: a kill lands inside a transaction (between produce and commit) many times over.
      PARSER_MAX_MESSAGES_PER_CALL: '25',
    };
    const parsers = await Promise.all(
      [1, 2].map((n) =>
        ServiceProcess.start({
          service: 'parser',
          instance: `parser-${n}`,
          env: parserEnv,
          logDir: artifacts,
        }),
      ),
    );
    const archiver = await ServiceProcess.start({
      service: 'archiver',
      env: {
        ...common,
        ARCHIVER_GROUP_ID: names.archiverGroup,
        ARCHIVE_DIR: archiveDir,
        ARCHIVE_MAX_FILE_AGE_MS: '1500',
        ARCHIVE_SPOOL_DIR: join(archiveDir, '..', `${names.archiverGroup}-spool`),
      },
      logDir: artifacts,
    });
    processes.push(...parsers, archiver);
    await Promise.all([...parsers, archiver].map((p) => p.ready(90_000)));

    // Raw messages as the bridge writes them, each with its own message id, trickled in for the whole loop.
    const sites = Array.from({ length: SITES }, (_, i) =>
      createMicrogridSite({ siteId: String(700 + i).padStart(6, '0'), seed: 40 + i }),
    );
    const sent: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
    const feeding = (async () => {
      for (let i = 0; i < MESSAGES_PER_SITE; i++) {
        const at = new Date(Date.UTC(2026, 5, 1, 0, 0, 0) + i * 1000);
        const batch = sites.map((site) => ({
          key: site.siteId,
          value: site.next(at, 'Asia/Seoul'),
          headers: {
            [RAW_HEADER.schema]: 'microgrid.v1',
            [RAW_HEADER.source]: 'test://exactly-once',
            [RAW_HEADER.receivedAt]: new Date().toISOString(),
            [RAW_HEADER.messageId]: `${site.siteId}-${i}`,
          },
        }));
        sent.push(...batch);
        await producer.send(names.raw, batch);
        await sleep(200);
      }
    })();

    // The kill loop: a random replica, SIGKILL, back up at once, again and again while data flows.
    let kills = 0;
    while (kills < KILLS) {
      await sleep(1_500 + Math.random() * 2_000);
      const victim = parsers[Math.floor(Math.random() * parsers.length)]!;
      await victim.kill('SIGKILL');
      kills++;
      await victim.restart();
    }
    await feeding;

    // Expected: the records the parser's own decoding gives for every message sent, once.
    const expected = new Map<string, ParsedRecord>();
    let expectedRows = 0;
    for (const [i, m] of sent.entries()) {
      const result = parseRaw(
        { topic: names.raw, partition: 0, offset: String(i), value: m.value, headers: m.headers },
        { maxBytes: 4 * 1024 * 1024, zoneForSite: () => 'Asia/Seoul' },
      );
      expect(result.problems).toEqual([]);
      for (const r of result.records) {
        expected.set(recordIdentity(r), r);
        expectedRows += Object.keys(r.fields).length + Object.keys(r.flags).length;
      }
    }
    expect(expected.size).toBe(SITES * MESSAGES_PER_SITE * 17);

    // Counted in records: a parsed message (format v2) carries all the records of one raw message.
    const parsed = await waitFor(
      async () => parsedRecordsOf(await readCommitted(kafka, names.parsed)).length,
      (n) => n >= expected.size,
      { what: `${expected.size} parsed records`, timeoutMs: 180_000, intervalMs: 3_000 },
    );
    await sleep(3_000);
    const records = parsedRecordsOf(await readCommitted(kafka, names.parsed));
    const identities = records.map(recordIdentity);
    const duplicates = identities.length - new Set(identities).size;
    expect({ records: records.length, duplicates, atFirstCount: parsed >= expected.size }).toEqual({
      records: expected.size,
      duplicates: 0,
      atFirstCount: true,
    });
    for (const id of identities) expect(expected.has(id)).toBe(true);
    expect(await readCommitted(kafka, names.dlq)).toHaveLength(0);

    // The archive: every reading once, nothing else, and verify agrees (gaps checked against Kafka).
    const countRows = async () => {
      const files = listParquet(archiveDir);
      if (files.length === 0) return { rows: 0, distinct: 0 };
      return queryArchive(files);
    };
    const rows = await waitFor(countRows, (r) => r.rows >= expectedRows, {
      what: `${expectedRows} archive rows`,
      timeoutMs: 120_000,
      intervalMs: 2_000,
    });
    await sleep(4_000);
    const final = await countRows();
    expect(final).toEqual({ rows: expectedRows, distinct: expectedRows });
    expect(rows.rows).toBeGreaterThanOrEqual(expectedRows);

    const store = new LocalObjectStore(archiveDir);
    const source = new StoreArchiveSource(store, join(archiveDir, '..', `${names.archiverGroup}-verify`));
    const offsets = await waitFor(
      () => fetchArchiverOffsets(kafka, names.archiverGroup, names.parsed),
      (o) => o.every((p) => p.committed !== null),
      { what: 'archiver commits' },
    );
    const report = await verifyArchive({
      source,
      topic: names.parsed,
      kafka: offsets,
      recordOffsets: kafkaRecordOffsets(kafka, names.parsed),
    });
    expect(report.totals).toMatchObject({ gaps: 0, duplicateRecords: 0, duplicateReadings: 0 });
    expect(report.ok).toBe(true);

    // A planted duplicate — the readings of one file again, as records of other offsets (what a record
    // parsed twice would look like) — is found.
    const [first] = listParquet(archiveDir);
    const planted = first!.replace(/\+(\d{20})\+(\d{20})(\+g\d+)?\.parquet$/, (_m, a: string, b: string) => {
      const shift = (o: string) => (BigInt(o) + 9_000_000n).toString().padStart(20, '0');
      return `+${shift(a)}+${shift(b)}.parquet`;
    });
    await duck(
      `COPY (SELECT * REPLACE (kafka_offset + 9000000 AS kafka_offset) FROM read_parquet('${first}')) TO '${planted}' (FORMAT parquet)`,
    );
    const bad = await verifyArchive({ source, topic: names.parsed, kafka: offsets });
    expect(bad.ok).toBe(false);
    expect(bad.totals.duplicateReadings).toBeGreaterThan(0);
    expect(bad.duplicateReadings[0]!.copies).toBe(2);
    expect(kills).toBe(KILLS);
    await archiver.stop();
  });
});

function listParquet(dir: string): string[] {
  const out: string[] = [];
  for (const day of readdirSync(dir)) {
    if (!day.startsWith('dt=')) continue;
    for (const f of readdirSync(join(dir, day))) if (f.endsWith('.parquet')) out.push(join(dir, day, f));
  }
  return out.sort();
}

async function duck(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    return (await db.runAndReadAll(sql)).getRowsJS();
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

async function queryArchive(files: string[]): Promise<{ rows: number; distinct: number }> {
  const list = `[${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`;
  const [[rows, distinct]] = (await duck(
    `SELECT count(*), count(DISTINCT (site, equipment, device, rack, field, ts)) FROM read_parquet(${list})`,
  )) as [[bigint, bigint]];
  return { rows: Number(rows), distinct: Number(distinct) };
}
