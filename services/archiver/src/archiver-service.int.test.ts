import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createObjectStore,
  decodeArchiveRecord,
  type ObjectStore,
  parseArchiveObjectKey,
  recordToRows,
} from '@gridstream/archive';
import {
  consumerLag,
  createKafka,
  type InMessage,
  type OutMessage,
  ReliableProducer,
} from '@gridstream/kafka';
import { buildHealthApp } from '@gridstream/runtime';
import { DLQ_HEADER, type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCount, testRecord } from '../../../packages/archive/src/test-records.fixture.js';
import {
  type ComparableRow,
  countByPosition,
  MOTO_URL,
  readParquetWithPyarrow,
  requireMoto,
  sortRows,
  useMotoCredentials,
} from '../../../test/archive-helpers.js';
import {
  asReadIn,
  createTestTopics,
  parsedV2Message,
  readTopic,
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

// Real Kafka and the shared moto server (deploy/local/moto.sh, S3 emulator); pyarrow reads what was
// written. Every test has its own topics, consumer group, bucket or folder.

const logger = testLogger();
const kafkaEnv = testKafkaEnv();
const kafka = createKafka(kafkaEnv, logger);
let producer: ReliableProducer;
let scratch: string;
const topics: string[] = [];

const message = (r: ParsedRecord): OutMessage => ({
  key: parsedRecordKey(r),
  value: JSON.stringify(r),
  headers: { 'gs-schema': r.schema },
});

function archiverEnv(parsed: string, dlq: string, overrides: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: 'gridstream-test-archiver',
    KAFKA_TOPIC_PARSED: parsed,
    KAFKA_TOPIC_DLQ: dlq,
    KAFKA_TOPIC_PARTITIONS: '3',
    ARCHIVER_GROUP_ID: uniqueName('test-archiver'),
    ARCHIVE_SPOOL_DIR: join(scratch, 'spool'),
    ARCHIVE_DUCKDB_MEMORY_LIMIT: '256MB',
    ...overrides,
  };
}

async function freshTopics(): Promise<{ parsed: string; dlq: string }> {
  const parsed = uniqueName('test.parsed.archive');
  const dlq = uniqueName('test.dlq.archive');
  topics.push(parsed, dlq);
  await createTestTopics(kafka, [parsed, dlq], 3);
  return { parsed, dlq };
}

/** What the archive must hold: every record's rows at the partition/offset it was read from. */
function expectedRows(messages: InMessage[]): ComparableRow[] {
  return messages.flatMap((m) => rowsAt(m, [decodeArchiveRecord(m.value)]));
}

/** The rows of `records`, all at the position of message `m` (the rows of one message share its offset). */
function rowsAt(m: InMessage, records: ParsedRecord[]): ComparableRow[] {
  return records.flatMap((record) =>
    recordToRows(record, m.partition, BigInt(m.offset)).map(
      (r): ComparableRow => [
        r.ts,
        r.site,
        r.equipment,
        r.device,
        r.rack,
        r.field,
        r.value,
        r.is_flag,
        r.quality,
        r.kafka_partition,
        Number(r.kafka_offset),
      ],
    ),
  );
}

const rawLineage = (k: number): ParsedRecord['lineage'] => ({
  topic: 'telemetry.raw',
  partition: 0,
  offset: String(k),
});

/** Downloads every object of the store and reads it with pyarrow. */
async function archiveContents(store: ObjectStore) {
  const objects = await store.list('');
  const dir = await mkdtemp(join(scratch, 'download-'));
  const paths: string[] = [];
  for (const [i, o] of objects.entries()) {
    const path = join(dir, `${i}.parquet`);
    await store.getToFile(o.key, path);
    paths.push(path);
  }
  const read = await readParquetWithPyarrow(paths);
  return { objects, ...read };
}

async function uncommitted(group: string, topic: string): Promise<number> {
  const lag = await consumerLag(kafka, group, [topic]);
  return lag.length === 0 ? Number.POSITIVE_INFINITY : lag.reduce((n, p) => n + p.lag, 0);
}

beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  scratch = await mkdtemp(join(tmpdir(), 'gs-archiver-test-'));
  producer = new ReliableProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await removeTestTopics(kafka, topics);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('archiver → S3 (moto)', () => {
  it('5,000 records over 3 partitions and 4 days: every value exactly once, in Parquet pyarrow reads with the right types', async () => {
    const { parsed, dlq } = await freshTopics();
    const bucket = uniqueName('gs-archive').toLowerCase();
    const N = 5_000;
    await producer.send(
      parsed,
      Array.from({ length: N }, (_, i) => message(testRecord(i))),
    );
    // Bad inputs among them: not JSON, JSON that is not a record, a record with a non-numeric value.
    const bad: OutMessage[] = [
      { key: 'bad-1', value: '{"v":1,"site":', headers: { 'gs-schema': 'samples.v1' } },
      { key: 'bad-2', value: '[]', headers: {} },
      { key: 'bad-3', value: JSON.stringify({ ...testRecord(1), fields: { p: 'high' } }), headers: {} },
    ];
    await producer.send(parsed, bad);

    const env = archiverEnv(parsed, dlq, {
      ARCHIVE_S3_BUCKET: bucket,
      ARCHIVE_S3_PREFIX: 'lake/telemetry',
      ARCHIVE_S3_ENDPOINT: MOTO_URL,
      ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_S3_CREATE_BUCKET: 'true',
      // Small files so size rotation happens many times, and a short age for the tail.
      ARCHIVE_TARGET_FILE_BYTES: '20000',
      ARCHIVE_MAX_FILE_AGE_MS: '2000',
    });
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    const health = buildHealthApp({ readiness: archiver.readiness, metrics: archiver.metrics, logger });
    try {
      await waitFor(
        () => uncommitted(env.ARCHIVER_GROUP_ID!, parsed),
        (n) => n === 0,
        { what: 'all offsets committed', timeoutMs: 90_000 },
      );
      expect((await health.inject({ url: '/healthz/ready' })).statusCode).toBe(200);
    } finally {
      await health.close();
      await archiver.stop();
    }

    const store = createObjectStore(loadStoreEnv(env));
    const { objects, files, rows } = await archiveContents(store);
    store.close();
    const consumed = await readTopic(kafka, parsed, N + bad.length);
    const good = consumed.filter((m) => !['bad-1', 'bad-2', 'bad-3'].includes(m.key?.toString() ?? ''));
    const expected = expectedRows(good);

    // No loss, no duplicate: per (partition, offset) exactly the record's number of values...
    const want = countByPosition(expected);
    const got = countByPosition(rows);
    expect(got.size).toBe(want.size);
    for (const [position, n] of want) expect(got.get(position), position).toBe(n);
    // ...and the values themselves, as pyarrow reads them.
    expect(sortRows(rows)).toEqual(sortRows(expected));

    // Names say what is inside: dt = the rows' UTC day, offsets = the first and last record.
    expect(objects.length).toBeGreaterThan(12); // 3 partitions × 4 days, cut by size more than once
    for (const [i, o] of objects.entries()) {
      const name = parseArchiveObjectKey(o.key)!;
      expect(name, o.key).toBeDefined();
      expect(name.topic).toBe(parsed);
      const mine = rows.filter((_, k) => fileOfRow(files, k) === i);
      expect(mine.every((r) => new Date(r[0]).toISOString().slice(0, 10) === name.dt)).toBe(true);
      expect(mine.every((r) => r[9] === name.partition)).toBe(true);
      const offsets = mine.map((r) => r[10]);
      expect(BigInt(Math.min(...offsets))).toBe(name.firstOffset);
      expect(BigInt(Math.max(...offsets))).toBe(name.lastOffset);
    }

    // Column types as an independent reader sees them.
    const schema = Object.fromEntries(files[0]!.schema.map((c) => [c.name, c.type]));
    expect(schema).toEqual({
      ts: 'timestamp[us, tz=UTC]',
      site: 'string',
      equipment: 'string',
      device: 'string',
      rack: 'string',
      field: 'string',
      value: 'double',
      is_flag: 'bool',
      quality: 'string',
      kafka_partition: 'int32',
      kafka_offset: 'int64',
    });
    expect(files[0]!.parquet.find((c) => c.name === 'ts')!.logical).toMatch(
      /Timestamp\(isAdjustedToUTC=true/,
    );
    expect(new Set(files.flatMap((f) => f.parquet.map((c) => c.compression)))).toEqual(new Set(['ZSTD']));

    // The three bad messages are dead letters of the archiver, with their original bytes.
    const letters = await readTopic(kafka, dlq, 3);
    expect(letters).toHaveLength(3);
    for (const letter of letters) {
      expect(letter.headers[DLQ_HEADER.stage]).toBe('archiver');
      expect(letter.headers[DLQ_HEADER.reason]).toBe('invalid_record');
      const original = bad.find((b) => b.key === letter.key?.toString())!;
      expect(letter.value?.toString()).toBe(String(original.value));
    }
  });
});

describe('archiver → S3 (moto), parsed format v2', () => {
  it('archives every record of v2 messages (mixed with v1 ones) exactly once, all rows under their message’s offset, each offset in one file', async () => {
    const { parsed, dlq } = await freshTopics();
    const bucket = uniqueName('gs-archive-v2').toLowerCase();
    // testRecord(i) has site i % 3 and day i % 4: the records with one i % 12 share site, day and schema.
    // Each such group of 50 goes out as v2 messages of at most 7 records (8 messages, the last of one).
    const N = 600;
    const groups: ParsedRecord[][] = [];
    for (let c = 0; c < 12; c++) {
      const same = Array.from({ length: N / 12 }, (_, j) => testRecord(12 * j + c));
      for (let k = 0; k < same.length; k += 7) groups.push(same.slice(k, k + 7));
    }
    expect(groups).toHaveLength(96);
    const sent = new Map<string, ParsedRecord[]>();
    const messages = groups.map((g, k) => {
      const m = parsedV2Message(g, rawLineage(k));
      sent.set(
        String(m.value),
        g.map((r) => asReadIn(r, rawLineage(k))),
      );
      return m;
    });
    // A topic written partly in each format (a parser switched over mid-stream) reads as one.
    const singles = Array.from({ length: 30 }, (_, i) => testRecord(N + i));
    for (const r of singles) sent.set(JSON.stringify(r), [r]);
    await producer.send(parsed, [...messages.slice(0, 48), ...singles.map(message), ...messages.slice(48)]);

    const env = archiverEnv(parsed, dlq, {
      ARCHIVE_S3_BUCKET: bucket,
      ARCHIVE_S3_PREFIX: 'lake/telemetry',
      ARCHIVE_S3_ENDPOINT: MOTO_URL,
      ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_S3_CREATE_BUCKET: 'true',
      ARCHIVE_TARGET_FILE_BYTES: '20000',
      ARCHIVE_MAX_FILE_AGE_MS: '2000',
    });
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    try {
      await waitFor(
        () => uncommitted(env.ARCHIVER_GROUP_ID!, parsed),
        (n) => n === 0,
        { what: 'all offsets committed', timeoutMs: 90_000 },
      );
      const rowsMetric = await archiver.metrics.getSingleMetric('gridstream_archiver_rows_total')?.get();
      const expectedRowCount = [...sent.values()].flat().reduce((n, r) => n + rowCount(r), 0);
      expect(rowsMetric?.values.reduce((n, v) => n + v.value, 0)).toBe(expectedRowCount);
    } finally {
      await archiver.stop();
    }

    const store = createObjectStore(loadStoreEnv(env));
    const { objects, files, rows } = await archiveContents(store);
    store.close();
    const consumed = await readTopic(kafka, parsed, groups.length + singles.length);
    expect(consumed).toHaveLength(126);
    const expected = consumed.flatMap((m) => rowsAt(m, sent.get(m.value!.toString('utf8'))!));

    // Per (partition, offset) exactly the rows of all the message's records: nothing lost, nothing twice.
    const want = countByPosition(expected);
    const got = countByPosition(rows);
    expect(want.size).toBe(126);
    expect(got.size).toBe(want.size);
    for (const [position, n] of want) expect(got.get(position), position).toBe(n);
    expect(sortRows(rows)).toEqual(sortRows(expected));

    // One offset, one file (what `archive verify` counts on), and the file's name says its day and offsets.
    const filesOf = new Map<string, Set<number>>();
    for (const [k, r] of rows.entries()) {
      const position = `${r[9]}:${r[10]}`;
      filesOf.set(position, (filesOf.get(position) ?? new Set()).add(fileOfRow(files, k)));
    }
    for (const [position, inFiles] of filesOf) expect(inFiles.size, position).toBe(1);
    for (const [i, o] of objects.entries()) {
      const name = parseArchiveObjectKey(o.key)!;
      const mine = rows.filter((_, k) => fileOfRow(files, k) === i);
      expect(mine.every((r) => new Date(r[0]).toISOString().slice(0, 10) === name.dt)).toBe(true);
      expect(mine.every((r) => r[9] === name.partition)).toBe(true);
      const offsets = mine.map((r) => r[10]);
      expect(BigInt(Math.min(...offsets))).toBe(name.firstOffset);
      expect(BigInt(Math.max(...offsets))).toBe(name.lastOffset);
    }
    expect(await readTopic(kafka, dlq, 0)).toHaveLength(0);
  });

  it('dead-letters only the bad record of a v2 message (invalid_record, the record alone) and archives the rest under the message’s offset', async () => {
    const { parsed, dlq } = await freshTopics();
    const bucket = uniqueName('gs-archive-v2-bad').toLowerCase();
    // i % 12 === 1: site-b, 2024-02-29, pv (microgrid.v1). testRecord(10): site-b too, but 2024-03-01.
    const pv = (j: number) => testRecord(12 * j + 1);
    const bad = { ...pv(4), fields: { p: 'high' } } as unknown as ParsedRecord;
    const otherDay = testRecord(10);
    expect([bad.site, otherDay.site, otherDay.schema]).toEqual(['site-b', 'site-b', pv(0).schema]);
    expect(otherDay.ts.slice(0, 10)).not.toBe(pv(0).ts.slice(0, 10));
    const allGood = [pv(0), pv(1), pv(2)];
    const withBad = [pv(3), bad, pv(5)];
    const withOtherDay = [pv(6), otherDay, pv(7)];
    const empty =
      '{"v":2,"site":"site-b","schema":"microgrid.v1","lineage":{"topic":"telemetry.raw","partition":0,"offset":"3"},"records":[]}';
    const single = pv(8);
    const out: OutMessage[] = [
      parsedV2Message(allGood, rawLineage(0)),
      parsedV2Message(withBad, rawLineage(1)),
      parsedV2Message(withOtherDay, rawLineage(2)),
      { key: 'site-b', value: empty, headers: { 'gs-schema': 'microgrid.v1' } },
      message(single),
    ];
    // One key: one partition, so the offsets are in this order.
    for (const m of out) m.key = 'site-b';
    await producer.send(parsed, out);

    const env = archiverEnv(parsed, dlq, {
      ARCHIVE_S3_BUCKET: bucket,
      ARCHIVE_S3_ENDPOINT: MOTO_URL,
      ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_S3_CREATE_BUCKET: 'true',
      ARCHIVE_MAX_FILE_AGE_MS: '1500',
    });
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    try {
      await waitFor(
        () => uncommitted(env.ARCHIVER_GROUP_ID!, parsed),
        (n) => n === 0,
        { what: 'all offsets committed', timeoutMs: 60_000 },
      );
    } finally {
      await archiver.stop();
    }

    const consumed = await readTopic(kafka, parsed, out.length);
    expect(consumed).toHaveLength(out.length);
    expect(new Set(consumed.map((m) => m.partition)).size).toBe(1);
    const [m0, m1, m2, m3, m4] = consumed as [InMessage, InMessage, InMessage, InMessage, InMessage];

    // Three letters: the bad record alone, the record of another day alone, the empty v2 message whole.
    const letters = await readTopic(kafka, dlq, 3);
    expect(letters).toHaveLength(3);
    const byOffset = new Map(letters.map((l) => [l.headers[DLQ_HEADER.sourceOffset], l]));
    expect([...byOffset.keys()].sort()).toEqual([m1.offset, m2.offset, m3.offset].sort());
    for (const letter of letters) {
      expect(letter.headers[DLQ_HEADER.stage]).toBe('archiver');
      expect(letter.headers[DLQ_HEADER.reason]).toBe('invalid_record');
      expect(letter.headers[DLQ_HEADER.sourceTopic]).toBe(parsed);
      expect(letter.headers[DLQ_HEADER.sourcePartition]).toBe(String(m0.partition));
      expect(letter.key?.toString()).toBe('site-b');
      expect(letter.headers['gs-schema']).toBe('microgrid.v1');
    }
    expect(JSON.parse(byOffset.get(m1.offset)!.value!.toString('utf8'))).toStrictEqual(
      asReadIn(bad, rawLineage(1)),
    );
    expect(byOffset.get(m1.offset)!.headers[DLQ_HEADER.message]).toMatch(/fields/);
    expect(JSON.parse(byOffset.get(m2.offset)!.value!.toString('utf8'))).toStrictEqual(
      asReadIn(otherDay, rawLineage(2)),
    );
    expect(byOffset.get(m2.offset)!.headers[DLQ_HEADER.message]).toMatch(/share their UTC day/);
    expect(byOffset.get(m3.offset)!.value!.toString('utf8')).toBe(empty);

    // Archived: every good record, each under its message's offset; nothing of the refused records.
    const store = createObjectStore(loadStoreEnv(env));
    const { rows } = await archiveContents(store);
    store.close();
    const expected = [
      ...rowsAt(
        m0,
        allGood.map((r) => asReadIn(r, rawLineage(0))),
      ),
      ...rowsAt(m1, [pv(3), pv(5)]),
      ...rowsAt(m2, [pv(6), pv(7)]),
      ...rowsAt(m4, [single]),
    ];
    expect(expected).toHaveLength(8 * 3); // pv records: 3 fields, no flags
    expect(sortRows(rows)).toEqual(sortRows(expected));
    expect(countByPosition(rows)).toEqual(
      new Map([
        [`${m0.partition}:${m0.offset}`, 9],
        [`${m1.partition}:${m1.offset}`, 6],
        [`${m2.partition}:${m2.offset}`, 6],
        [`${m4.partition}:${m4.offset}`, 3],
      ]),
    );
  });
});

describe('archiver → local directory', () => {
  it('with 2 open files at most, closes the oldest (late data does not stall) and still archives every value once', async () => {
    const { parsed, dlq } = await freshTopics();
    const dir = join(scratch, uniqueName('local'));
    const N = 300;
    await producer.send(
      parsed,
      Array.from({ length: N }, (_, i) => message(testRecord(i))),
    );
    const env = archiverEnv(parsed, dlq, {
      ARCHIVE_DIR: dir,
      ARCHIVE_MAX_OPEN_FILES: '2',
      ARCHIVE_MAX_FILE_AGE_MS: '1500',
    });
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    try {
      await waitFor(
        () => uncommitted(env.ARCHIVER_GROUP_ID!, parsed),
        (n) => n === 0,
        { what: 'all offsets committed', timeoutMs: 60_000 },
      );
      const closed = await archiver.metrics.getSingleMetric('gridstream_archiver_files_total')!.get();
      const evicted = closed.values.find((v) => v.labels.reason === 'evicted')?.value ?? 0;
      expect(evicted).toBeGreaterThan(0);
    } finally {
      await archiver.stop();
    }
    const store = createObjectStore(loadStoreEnv(env));
    const { rows } = await archiveContents(store);
    const expected = expectedRows(await readTopic(kafka, parsed, N));
    expect(sortRows(rows)).toEqual(sortRows(expected));
  });

  it('uploads and commits by age alone when no more data arrives', async () => {
    const { parsed, dlq } = await freshTopics();
    const dir = join(scratch, uniqueName('age'));
    const env = archiverEnv(parsed, dlq, { ARCHIVE_DIR: dir, ARCHIVE_MAX_FILE_AGE_MS: '3000' });
    const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
    try {
      await waitFor(
        async () => (await kafka.admin().describeGroups([env.ARCHIVER_GROUP_ID!])).groups[0]?.state,
        (s) => s === 'Stable',
        { what: 'group stable' },
      ).catch(() => undefined);
      const sentAt = Date.now();
      await producer.send(
        parsed,
        Array.from({ length: 30 }, (_, i) => message(testRecord(i))),
      );
      const store = createObjectStore(loadStoreEnv(env));
      const objects = await waitFor(
        () => store.list(''),
        (o) => o.length > 0,
        { what: 'files closed by age', timeoutMs: 30_000, intervalMs: 100 },
      );
      const waited = Date.now() - sentAt;
      // Not before the age limit (nothing else closes a 30-record file), and not much after it.
      expect(waited).toBeGreaterThanOrEqual(2_500);
      expect(waited).toBeLessThan(15_000);
      expect(objects.every((o) => parseArchiveObjectKey(o.key) !== undefined)).toBe(true);
      await waitFor(
        () => uncommitted(env.ARCHIVER_GROUP_ID!, parsed),
        (n) => n === 0,
        { what: 'committed without new data', timeoutMs: 20_000 },
      );
    } finally {
      await archiver.stop();
    }
  });
});

/** Index of the file a row (by its index in the concatenated rows) came from. */
function fileOfRow(files: { rows: number }[], rowIndex: number): number {
  let seen = 0;
  for (const [i, f] of files.entries()) {
    seen += f.rows;
    if (rowIndex < seen) return i;
  }
  return -1;
}

function loadStoreEnv(env: Record<string, string>) {
  return archiverConfigSchema.parse(env);
}
