import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DeleteDatabaseCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { archiveObjectKey, ParquetEngine } from '@gridstream/archive';
import {
  ensureGlueTable,
  type GlueTableSpec,
  type QueryResult,
  runQuery,
  toolsEnvSchema,
} from '@gridstream/archive-tools';
import { consumerLag, ReliableProducer } from '@gridstream/kafka';
import { parseRaw } from '@gridstream/parsing';
import { encodeParsedMessages, type ParsedRecord, RAW_HEADER } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_REGION, motoEnv, motoS3 } from '../packages/archive-tools/src/moto.fixture.js';
import { startArchiver } from '../services/archiver/src/archiver-service.js';
import { archiverConfigSchema } from '../services/archiver/src/config.js';
import { createMicrogridSite } from '../services/simulator/src/microgrid-generator.js';
import { MOTO_URL, requireMoto, useMotoCredentials } from './archive-helpers.js';
import {
  createTestTopics,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * "The same SQL runs on Athena and on DuckDB" (docs/archive.md), checked on Athena engine v3's engine:
 * Trino 476 (deploy/local/trino.sh), its Hive connector reading the table definition from Glue and the
 * Parquet files from S3 — both the moto server's — the way Athena reads AwsDataCatalog. The archive is
 * made the production way: simulated gateway messages, the parser's parseRaw and format-v2 encoder, Kafka,
 * the archiver service (its Parquet writer, dt= folders, file names, S3 uploads), and the table from
 * ensureGlueTable (`gridstream glue create-table`: columns, SerDe, partition projection on dt). Every file
 * of docs/queries/ then runs on Trino and on the offline engine (`gridstream query --engine duckdb`: the
 * S3 objects mirrored, DuckDB over them), and the two results must be the same row for row: column names,
 * column types (up to the engines' names for them) and every cell, timestamps included.
 *
 * The test starts Trino itself when it is not running (and stops it afterwards): ~10 s on 2 cores, then
 * ~1 GB of memory while the file runs. `deploy/local/infra.sh up test` installs it (~820 MB download once).
 */

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const TRINO_SH = resolve(ROOT, 'deploy/local/trino.sh');
const QUERIES = resolve(ROOT, 'docs/queries');
const TRINO_URL = `http://127.0.0.1:${process.env.TRINO_PORT ?? '8093'}`;

const logger = testLogger();
const kafka = testKafka(logger);
const topics: string[] = [];
const database = uniqueName('gs_athena').replace(/-/g, '_');
const bucket = uniqueName('gs-athena-engine').toLowerCase();
const PREFIX = 'lake/telemetry/';
let scratch: string;
let glue: GlueClient;
let startedTrino = false;
let archivedRows = 0;

// ---------------------------------------------------------------------------------------------------------
// Trino over its REST API (POST /v1/statement, then follow nextUri), as a client of Athena sees it.

interface EngineResult {
  columns: string[];
  types: string[];
  /** Cells as text, null for SQL NULL. */
  rows: (string | null)[][];
}

/**
 * JSON.parse, except that numbers keep the exact text Trino sent (a bigint above 2^53 would otherwise
 * lose digits, and a double its identity). Node 22's reviver gets each primitive's source text.
 */
function parseKeepingNumbers(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? context.source : value,
  );
}

interface TrinoPage {
  nextUri?: string;
  columns?: { name: string; type: string }[];
  data?: unknown[][];
  error?: { message: string; errorName?: string };
}

async function trinoFetch(url: string, init: RequestInit): Promise<TrinoPage> {
  // The protocol: 502/503/504 mean "ask again shortly".
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
    if ([502, 503, 504].includes(res.status) && attempt < 20) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`Trino answered HTTP ${res.status}: ${text.slice(0, 500)}`);
    return parseKeepingNumbers(text) as TrinoPage;
  }
}

/**
 * A query, asked again while Trino answers NO_NODES_AVAILABLE: on a starved machine (CI, load 10+) the
 * single node's own announcement lapses for a moment and the coordinator has no worker to schedule on.
 * That is the cluster's state, not the query's answer; any other error is thrown at once.
 */
async function trinoQuery(sql: string): Promise<EngineResult> {
  for (let waited = 0; ; waited += 1_000) {
    try {
      return await trinoQueryOnce(sql);
    } catch (error) {
      if (!/NO_NODES_AVAILABLE/.test((error as Error).message) || waited >= 90_000) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function trinoQueryOnce(sql: string): Promise<EngineResult> {
  const headers = {
    'X-Trino-User': 'gridstream-test',
    'X-Trino-Source': 'athena-engine.int.test',
    'X-Trino-Catalog': 'hive',
    'X-Trino-Schema': database,
    // Athena's session zone is UTC (it only matters for zoned types; the archive's ts has none).
    'X-Trino-Time-Zone': 'UTC',
  };
  let page = await trinoFetch(`${TRINO_URL}/v1/statement`, { method: 'POST', headers, body: sql });
  let columns: { name: string; type: string }[] | undefined;
  const rows: (string | null)[][] = [];
  for (;;) {
    if (page.error) throw new Error(`Trino: ${page.error.errorName ?? 'error'}: ${page.error.message}`);
    columns ??= page.columns;
    for (const row of page.data ?? []) rows.push(row.map(trinoCellText));
    if (page.nextUri === undefined) break;
    page = await trinoFetch(page.nextUri, { headers: { 'X-Trino-User': headers['X-Trino-User'] } });
  }
  if (columns === undefined) throw new Error('Trino finished the query without naming its columns');
  return { columns: columns.map((c) => c.name), types: columns.map((c) => c.type), rows };
}

function trinoCellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v; // numbers arrive here as their source text (parseKeepingNumbers)
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------------------
// Comparing the two engines. Only representation is normalized, never a value:
// - type names: DuckDB's upper-case names → Trino's (BIGINT → bigint, DOUBLE → double, FLOAT → real);
//   length and precision arguments are dropped except a decimal's (varchar(5) → varchar, timestamp(3) →
//   timestamp: the offline engine's ts is DuckDB's microsecond TIMESTAMP, Athena's is timestamp(3), and
//   the archive holds whole milliseconds, which the cells below compare digit for digit). A type one
//   engine has and the other does not (DuckDB's HUGEINT) stays itself, and differs;
// - integers: decimal digits as BigInt prints them (exact, any size);
// - doubles: the shortest text that reads back as the same double (JavaScript's String(Number(text))):
//   two cells are equal exactly when they hold the same IEEE-754 value — no tolerance, no rounding;
// - timestamps: both engines print `YYYY-MM-DD HH:MM:SS.mmm` for the archive's zone-less UTC `ts`
//   (Trino without the parametric-datetime client capability, as Athena; the offline engine by design);
//   the text is compared as it is, only checked to be that shape;
// - everything else (varchar, date, boolean): the text as it is.

function typeName(type: string): string {
  const t = type.toLowerCase().replace(/\s+/g, ' ').trim();
  if (t.startsWith('decimal')) return t.replace(/\s/g, '');
  const base = t
    .replace(/\(.*?\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return base === 'float' ? 'real' : base;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'hugeint']);

const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

function canonicalCell(text: string | null, kind: string, where: string): string | null {
  if (text === null) return null;
  if (INTEGER_TYPES.has(kind)) return BigInt(text).toString();
  switch (kind) {
    case 'double':
    case 'real':
      return String(Number(text));
    case 'timestamp':
      if (!TIMESTAMP_TEXT.test(text))
        throw new Error(`${where}: timestamp printed as ${JSON.stringify(text)}`);
      return text;
    default:
      return text;
  }
}

function canonical(result: EngineResult, engine: string) {
  const kinds = result.types.map(typeName);
  return {
    columns: result.columns,
    types: kinds,
    rows: result.rows.map((row, r) =>
      row.map((cell, c) => canonicalCell(cell, kinds[c]!, `${engine} row ${r} ${result.columns[c]}`)),
    ),
  };
}

/** The first rows where the two results differ, for a failure message a person can read. */
function firstDifferences(a: ReturnType<typeof canonical>, b: ReturnType<typeof canonical>): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.rows.length, b.rows.length) && out.length < 5; i++) {
    const x = JSON.stringify(a.rows[i] ?? null);
    const y = JSON.stringify(b.rows[i] ?? null);
    if (x !== y) out.push(`row ${i}: trino ${x} / duckdb ${y}`);
  }
  return out;
}

async function duckdbQuery(sql: string): Promise<EngineResult> {
  const env = toolsEnvSchema.parse(
    motoEnv({
      ARCHIVE_S3_BUCKET: bucket,
      ARCHIVE_S3_PREFIX: PREFIX,
      ARCHIVE_S3_REGION: MOTO_REGION,
      ARCHIVE_CACHE_DIR: join(scratch, 'cache'),
    }),
  );
  const { result }: { result: QueryResult } = await runQuery(env, { sql, engine: 'duckdb' });
  return result;
}

async function bothEngines(sql: string) {
  const [trino, duckdb] = [await trinoQuery(sql), await duckdbQuery(sql)];
  return { trino: canonical(trino, 'trino'), duckdb: canonical(duckdb, 'duckdb'), raw: { trino, duckdb } };
}

// ---------------------------------------------------------------------------------------------------------
// The archive: two simulated microgrid sites — the reference gateway layout (batteries with racks, PV,
// converters, EV chargers…) and a bigger one (2 racks per battery, 4 PV inverters) whose gateway stamps
// milliseconds — every 15 minutes from 2024-02-29 18:00 to 2024-03-03 06:00 UTC and around the end of
// March (2024-03-31 20:00 – 2024-04-01 04:00), so the queries' dt range cuts real data on both sides and
// days change under the readings. A PV meter glitch now and then is flagged out_of_range, as the parser's
// quality stage does, and now and then an instant is sent again with its fault flag changed.

const SITES = [
  { id: '000801', seed: 801, precision: 's' as const, shape: {} },
  { id: '000802', seed: 802, precision: 'ms' as const, shape: { racksPerBattery: 2, pvs: 4 } },
];
const SPANS: [string, string][] = [
  ['2024-02-29T18:00:00Z', '2024-03-03T06:00:00Z'],
  ['2024-03-31T20:00:00Z', '2024-04-01T04:00:00Z'],
];
const STEP_MS = 15 * 60_000;
const ZONE = 'Asia/Seoul';

function simulatedRecords(): { records: ParsedRecord[]; resent: ParsedRecord[] } {
  const records: ParsedRecord[] = [];
  let offset = 0;
  let pvReadings = 0;
  let faultReadings = 0;
  const resent: ParsedRecord[] = [];
  for (const s of SITES) {
    const site = createMicrogridSite({
      siteId: s.id,
      seed: s.seed,
      timestampPrecision: s.precision,
      ...s.shape,
    });
    for (const [from, to] of SPANS) {
      for (let t = Date.parse(from), i = 0; t <= Date.parse(to); t += STEP_MS, i++) {
        const at = new Date(t + (s.precision === 'ms' ? ((i * 137) % 1000) + 1 : 0));
        const result = parseRaw(
          {
            topic: 'telemetry.raw',
            partition: 0,
            offset: String(offset++),
            value: site.next(at, ZONE),
            headers: { [RAW_HEADER.schema]: 'microgrid.v1', [RAW_HEADER.messageId]: `${s.id}-${t}` },
          },
          { maxBytes: 4 * 1024 * 1024, zoneForSite: () => ZONE },
        );
        if (result.problems.length > 0) throw new Error(`parseRaw: ${JSON.stringify(result.problems)}`);
        for (const r of result.records) {
          if (r.equipment === 'pv' && 'CumulativePowerGeneration' in r.fields && ++pvReadings % 29 === 0) {
            r.fields.CumulativePowerGeneration = 0;
            r.quality = { ...r.quality, CumulativePowerGeneration: ['out_of_range'] };
          }
          records.push(r);
          // Now and then the gateway sends the same instant again with the fault flag changed (its clock
          // has whole seconds): two readings of one flag at one ts, where lag()'s ORDER BY ts ties.
          if ('fault' in r.flags && ++faultReadings % 23 === 0) {
            resent.push({
              ...r,
              fields: {},
              flags: { fault: !r.flags.fault },
              quality: undefined,
              lineage: { ...r.lineage, offset: String(1_000_000 + resent.length) },
            });
          }
        }
      }
    }
  }
  return { records, resent };
}

async function writeArchive(): Promise<void> {
  const parsed = uniqueName('test.parsed.athena');
  const dlq = uniqueName('test.dlq.athena');
  topics.push(parsed, dlq);
  await createTestTopics(kafka, [parsed, dlq], 3);
  const { records, resent } = simulatedRecords();
  archivedRows = [...records, ...resent].reduce(
    (n, r) => n + Object.keys(r.fields).length + Object.keys(r.flags).length,
    0,
  );
  // The parser's own encoder (format v2, its default): one message per raw message, site and UTC day.
  const encode = (list: ParsedRecord[]) =>
    encodeParsedMessages(list, 'v2').map((m) => ({ ...m, headers: { 'gs-schema': 'microgrid.v1' } }));
  const messages = encode(records);
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  try {
    // The last tenth first: late data lands in files of its own beside the days' others. The re-sent
    // instants come last, after the readings they repeat.
    const late = Math.floor(messages.length * 0.9);
    await producer.send(parsed, messages.slice(late));
    await producer.send(parsed, messages.slice(0, late));
    await producer.send(parsed, encode(resent));
  } finally {
    await producer.disconnect();
  }
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: 'gridstream-test-archiver',
    KAFKA_TOPIC_PARSED: parsed,
    KAFKA_TOPIC_DLQ: dlq,
    KAFKA_TOPIC_PARTITIONS: '3',
    ARCHIVER_GROUP_ID: uniqueName('test-archiver-athena'),
    ARCHIVE_SPOOL_DIR: join(scratch, 'spool'),
    ARCHIVE_DUCKDB_MEMORY_LIMIT: '256MB',
    ARCHIVE_S3_BUCKET: bucket,
    ARCHIVE_S3_PREFIX: PREFIX,
    ARCHIVE_S3_ENDPOINT: MOTO_URL,
    ARCHIVE_S3_REGION: MOTO_REGION,
    ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
    ARCHIVE_S3_CREATE_BUCKET: 'true',
    // Several files per partition and day.
    ARCHIVE_TARGET_FILE_BYTES: '150000',
    ARCHIVE_MAX_FILE_AGE_MS: '2000',
  };
  const archiver = await startInProcess('archiver', archiverConfigSchema, startArchiver, env);
  try {
    await waitFor(
      async () => {
        const lag = await consumerLag(kafka, env.ARCHIVER_GROUP_ID, [parsed]);
        return lag.length === 0 ? Number.POSITIVE_INFINITY : lag.reduce((n, p) => n + p.lag, 0);
      },
      (n) => n === 0,
      { what: 'the archiver to commit every message', timeoutMs: 150_000, intervalMs: 500 },
    );
  } finally {
    await archiver.stop();
  }
}

async function emptyAndDeleteBucket(): Promise<void> {
  const s3 = motoS3();
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
}

async function trinoSh(command: 'status' | 'start' | 'wait' | 'stop', timeoutMs = 60_000): Promise<void> {
  await run(TRINO_SH, [command], { timeout: timeoutMs });
}

beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  scratch = await mkdtemp(join(tmpdir(), 'gs-athena-engine-'));
  glue = new GlueClient({ region: MOTO_REGION, endpoint: MOTO_URL });
  // Trino boots (JVM, plugin) while the archive is written; an already running one is used as it is.
  const trinoUp = trinoSh('status').then(
    () => undefined,
    async () => {
      startedTrino = true;
      // start installs first when needed (a download of ~820 MB: infra.sh up test does it beforehand).
      await trinoSh('start', 900_000);
      await trinoSh('wait', 300_000);
    },
  );
  try {
    await writeArchive();
    const spec: GlueTableSpec = { database, table: 'telemetry', bucket, prefix: PREFIX };
    expect((await ensureGlueTable(glue, spec)).table).toBe('created');
  } finally {
    await trinoUp;
  }
}, 900_000);

afterAll(async () => {
  if (startedTrino) await trinoSh('stop').catch(() => undefined);
  await glue?.send(new DeleteDatabaseCommand({ Name: database })).catch(() => undefined);
  await emptyAndDeleteBucket().catch(() => undefined); // moto keeps every object in memory
  await removeTestTopics(kafka, topics);
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

const queryFiles = readdirSync(QUERIES)
  .filter((f) => f.endsWith('.sql'))
  .sort();

describe('docs/queries on Athena engine v3 (Trino 476) and on DuckDB', () => {
  it('reads the whole archive the same way: every row, every column, every timestamp', async () => {
    const { trino, duckdb } = await bothEngines(
      `SELECT ts, site, equipment, device, rack, field, value, is_flag, quality, kafka_partition,
              kafka_offset, dt
       FROM telemetry
       WHERE dt BETWEEN '2024-02-29' AND '2024-04-01'
       ORDER BY kafka_partition, kafka_offset, equipment, device, rack, field`,
    );
    expect(duckdb.rows).toHaveLength(archivedRows);
    expect(trino.types).toEqual(duckdb.types);
    expect(firstDifferences(trino, duckdb)).toEqual([]);
    expect(trino.rows.length).toBe(duckdb.rows.length);
  });

  it('finds the example queries (each one below is a test of its own)', () => {
    expect(queryFiles.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of queryFiles) {
    it(`${file}: Trino returns row for row what DuckDB returns`, async () => {
      const sql = await readFile(join(QUERIES, file), 'utf8');
      const { trino, duckdb, raw } = await bothEngines(sql);
      expect(trino.columns).toEqual(duckdb.columns);
      expect(
        trino.types,
        `trino ${raw.trino.types.join(', ')} / duckdb ${raw.duckdb.types.join(', ')}`,
      ).toEqual(duckdb.types);
      expect(duckdb.rows.length).toBeGreaterThan(3);
      expect(firstDifferences(trino, duckdb)).toEqual([]);
      expect(trino.rows).toEqual(duckdb.rows);
    });
  }

  it("docs/archive.md's local-day variant of the daily energy (CAST(ts + INTERVAL '9' HOUR AS date))", async () => {
    const { trino, duckdb } = await bothEngines(
      `SELECT site, local_day, round(sum(energy_kwh), 3) AS energy_kwh, count(*) AS inverters
       FROM (
         SELECT site, device, CAST(ts + INTERVAL '9' HOUR AS date) AS local_day,
                max(value) - min(value) AS energy_kwh
         FROM telemetry
         WHERE equipment = 'pv' AND field = 'CumulativePowerGeneration' AND quality IS NULL
           AND dt BETWEEN '2024-02-29' AND '2024-03-31'
         GROUP BY site, device, CAST(ts + INTERVAL '9' HOUR AS date)
       ) per_inverter
       GROUP BY site, local_day
       ORDER BY site, local_day`,
    );
    expect(trino.types).toEqual(['varchar', 'date', 'double', 'bigint']);
    expect(duckdb.types).toEqual(trino.types);
    expect(duckdb.rows.length).toBeGreaterThan(3);
    expect(firstDifferences(trino, duckdb)).toEqual([]);
    expect(trino.rows).toEqual(duckdb.rows);
  });

  it('partition projection: Athena sees the days from GLUE_PROJECTION_START to today, DuckDB every dt folder', async () => {
    // docs/archive.md: days before GLUE_PROJECTION_START (2020-01-01) are invisible to Athena, and so are
    // days after today (the range ends at NOW): a device whose clock runs ahead is archived under a
    // future dt that Athena reads only once that day has come. The offline engine reads every folder.
    const day = (offsetDays: number) =>
      new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
    const days = ['2019-12-31', day(0), day(2)];
    const engine = await ParquetEngine.create();
    const s3 = motoS3();
    try {
      for (const [i, dt] of days.entries()) {
        const file = join(scratch, `projection-${i}.parquet`);
        await engine.writeRows(
          [
            {
              ts: Date.parse(`${dt}T12:00:00.000Z`),
              site: 'projection-probe',
              equipment: 'battery',
              device: '01',
              rack: null,
              field: 'soc',
              value: 50,
              is_flag: false,
              quality: null,
              kafka_partition: 0,
              kafka_offset: BigInt(i),
            },
          ],
          file,
        );
        const key = archiveObjectKey({
          dt,
          topic: 'projection.probe',
          partition: 0,
          firstOffset: BigInt(i),
          lastOffset: BigInt(i),
        });
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: `${PREFIX}${key}`, Body: await readFile(file) }),
        );
      }
    } finally {
      engine.close();
      s3.destroy();
    }
    const sql = `SELECT dt, count(*) AS n FROM telemetry
      WHERE site = 'projection-probe' AND dt IN (${days.map((d) => `'${d}'`).join(', ')})
      GROUP BY dt ORDER BY dt`;
    const { trino, duckdb } = await bothEngines(sql);
    expect(trino.rows).toEqual([[days[1], '1']]);
    expect(duckdb.rows).toEqual(days.map((d) => [d, '1']));
  });
});
