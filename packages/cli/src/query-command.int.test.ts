import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AthenaClient, CreateWorkGroupCommand, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { archiverKey, archiveSourceFromEnv, formatTable, toolsEnvSchema } from '@gridstream/archive-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBucket,
  MOTO_REGION,
  MOTO_URL,
  motoEnv,
  motoS3,
  queueAthenaResult,
  requireMoto,
  useMotoCredentials,
} from '../../archive-tools/src/moto.fixture.js';
import { type FixtureRow, writeFixtureFile } from '../../archive-tools/src/test-archive.fixture.js';
import { runQueryCommand } from './query-command.js';

/**
 * `gridstream query` against the moto server (deploy/local/moto.sh). moto's Athena runs no SQL: it hands
 * out results queued through its API, records the request, and writes the result CSV to the output
 * location. So the test checks the request as moto recorded it and that the printed table is exactly
 * the queued result; the offline engine is checked on objects pulled from moto's S3.
 */

const QUERY_FILE = resolve(import.meta.dirname, '../../../docs/queries/daily-energy-per-site.sql');
const bucket = `gs-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const workgroup = `gs-wg-${randomBytes(4).toString('hex')}`;
let s3: S3Client;
let work: string;

function capture() {
  let text = '';
  return {
    write: (s: string) => (text += s),
    get text() {
      return text;
    },
  };
}

beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  s3 = motoS3();
  await createBucket(s3, bucket);
  const athena = new AthenaClient({ region: MOTO_REGION, endpoint: MOTO_URL });
  await athena.send(new CreateWorkGroupCommand({ Name: workgroup }));
  work = await mkdtemp(join(tmpdir(), 'gs-query-int-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('gridstream query --engine athena (moto)', () => {
  it('sends a well-formed request and prints exactly the result the server returned', async () => {
    const columns = [
      { Name: 'site', Type: 'varchar' },
      { Name: 'utc_day', Type: 'varchar' },
      { Name: 'energy_kwh', Type: 'double' },
    ];
    // Athena repeats the column labels as the first row of a SELECT's result.
    const data: (string | null)[][] = [
      ['alpha', '2024-03-01', '132.5'],
      ['beta', '2024-03-01', null],
      ['감마, "quoted"', '2024-03-02', '7.0'],
    ];
    await queueAthenaResult(columns, [['site', 'utc_day', 'energy_kwh'], ...data]);
    const out = capture();
    const err = capture();
    const csv = join(work, 'result.csv');
    const env = motoEnv({
      // The result CSV is fetched with the archive bucket's client (same account and endpoint).
      ARCHIVE_S3_BUCKET: bucket,
      ATHENA_WORKGROUP: workgroup,
      ATHENA_OUTPUT_LOCATION: `s3://${bucket}/athena-results`,
      GLUE_DATABASE: 'gridstream_it',
    });
    // No --engine: Athena is the default once it is configured.
    const code = await runQueryCommand(['--file', QUERY_FILE, '--out', csv], out, { env, err });
    expect(err.text).not.toMatch(/gridstream query:/);
    expect(code).toBe(0);
    expect(out.text).toBe(`${formatTable(['site', 'utc_day', 'energy_kwh'], data)}\n`);

    // The request as moto recorded it.
    const m = /athena query (\S+): (\S+)/.exec(err.text);
    expect(m).not.toBeNull();
    const id = m![1]!;
    const athena = new AthenaClient({ region: MOTO_REGION, endpoint: MOTO_URL });
    const recorded = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })))
      .QueryExecution!;
    expect(recorded.Query).toBe(await readFile(QUERY_FILE, 'utf8'));
    expect(recorded.QueryExecutionContext).toEqual({ Database: 'gridstream_it', Catalog: 'AwsDataCatalog' });
    expect(recorded.WorkGroup).toBe(workgroup);
    expect(recorded.ResultConfiguration?.OutputLocation).toBe(`s3://${bucket}/athena-results/${id}.csv`);
    expect(recorded.Status?.State).toBe('SUCCEEDED');
    expect(m![2]).toBe(`s3://${bucket}/athena-results/${id}.csv`);

    // --out is Athena's own CSV of the result (every value quoted, NULL empty), downloaded from S3.
    expect(await readFile(csv, 'utf8')).toBe(
      '"site","utc_day","energy_kwh"\n"alpha","2024-03-01","132.5"\n"beta","2024-03-01",\n"감마, "quoted"","2024-03-02","7.0"\n',
    );
  });
});

describe('gridstream query --engine athena --json (moto)', () => {
  it('prints the result as one JSON document, cells typed by the column types Athena reports', async () => {
    const columns = [
      { Name: 'site', Type: 'varchar' },
      { Name: 'utc_day', Type: 'varchar' },
      { Name: 'energy_kwh', Type: 'double' },
      { Name: 'readings', Type: 'bigint' },
      { Name: 'first_ts', Type: 'timestamp' },
    ];
    await queueAthenaResult(columns, [
      ['site', 'utc_day', 'energy_kwh', 'readings', 'first_ts'],
      ['alpha', '2024-03-01', '132.5', '9007199254740993', '2024-03-01 00:00:05.000'],
      ['beta', '2024-03-01', null, '0', null],
      ['감마, "quoted"', '2024-03-02', '7.0', '12', '2024-03-02 23:59:59.999'],
    ]);
    const out = capture();
    const err = capture();
    const env = motoEnv({
      ARCHIVE_S3_BUCKET: bucket,
      ATHENA_WORKGROUP: workgroup,
      ATHENA_OUTPUT_LOCATION: `s3://${bucket}/athena-results`,
      GLUE_DATABASE: 'gridstream_it',
    });
    const code = await runQueryCommand(['--file', QUERY_FILE, '--json'], out, { env, err });
    expect(err.text).not.toMatch(/gridstream query:/);
    expect(code).toBe(0);
    // The rows of the table test above, typed: double a number, bigint an exact string, timestamp ISO UTC.
    expect(JSON.parse(out.text)).toEqual({
      columns: ['site', 'utc_day', 'energy_kwh', 'readings', 'first_ts'],
      rows: [
        ['alpha', '2024-03-01', 132.5, '9007199254740993', '2024-03-01T00:00:05.000Z'],
        ['beta', '2024-03-01', null, '0', null],
        ['감마, "quoted"', '2024-03-02', 7, '12', '2024-03-02T23:59:59.999Z'],
      ],
    });
    // stdout is the document and nothing else; the execution id went to stderr.
    expect(out.text.split('\n')).toHaveLength(2);
    expect(err.text).toMatch(/athena query \S+: s3:\/\//);
  });
});

describe('gridstream query --engine duckdb on an S3 archive (moto)', () => {
  it('pulls only new or changed objects into the cache and answers the same SQL', async () => {
    const prefix = 'archive/telemetry/';
    const local = join(work, 'src');
    const cache = join(work, 'cache');
    const rows = (day: string, partition: number, n: number, base: number): FixtureRow[] =>
      Array.from({ length: n }, (_, i) => ({
        ts: `${day}T0${i % 10}:00:00.000Z`,
        site: 'alpha',
        equipment: 'pcs',
        device: 'pcs',
        field: 'power',
        value: base + i,
        partition,
        offset: i,
      }));
    const keys = [
      [archiverKey('2024-03-01', 'telemetry.parsed', 0, 0n, 4n), rows('2024-03-01', 0, 5, 0)],
      [archiverKey('2024-03-02', 'telemetry.parsed', 0, 5n, 9n), rows('2024-03-02', 0, 5, 100)],
      [archiverKey('2024-03-02', 'telemetry.parsed', 1, 0n, 2n), rows('2024-03-02', 1, 3, 1000)],
    ] as const;
    for (const [key, list] of keys) {
      const path = await writeFixtureFile(local, key, list);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: await readFile(path) }));
    }
    const env = motoEnv({ ARCHIVE_S3_BUCKET: bucket, ARCHIVE_S3_PREFIX: prefix, ARCHIVE_CACHE_DIR: cache });
    const sql = `SELECT dt, count(*) AS n, sum(value) AS total FROM telemetry WHERE dt >= '2024-03-01' GROUP BY dt ORDER BY dt`;
    const expected = `${formatTable(
      ['dt', 'n', 'total'],
      [
        ['2024-03-01', '5', '10'],
        ['2024-03-02', '8', '3513'],
      ],
    )}\n`;

    const first = capture();
    const err = capture();
    expect(await runQueryCommand([sql, '--engine', 'duckdb'], first, { env, err })).toBe(0);
    expect(first.text).toBe(expected);
    expect(err.text).toContain(`3 file(s) from s3://${bucket}/${prefix}`);

    const source = archiveSourceFromEnv(toolsEnvSchema.parse(env));
    const listed = await source.list();
    expect(await source.staleCount(listed)).toBe(0);

    // A replaced object (same name, new content: a re-upload) is fetched again; the others are not.
    const replaced = rows('2024-03-01', 0, 5, 10);
    const path = await writeFixtureFile(local, keys[0][0], replaced);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: prefix + keys[0][0], Body: await readFile(path) }),
    );
    expect(await source.staleCount(await source.list())).toBe(1);
    const second = capture();
    expect(await runQueryCommand([sql, '--engine', 'duckdb', '-q'], second, { env })).toBe(0);
    expect(second.text).toBe(
      `${formatTable(
        ['dt', 'n', 'total'],
        [
          ['2024-03-01', '5', '60'],
          ['2024-03-02', '8', '3513'],
        ],
      )}\n`,
    );
    expect(await source.staleCount(await source.list())).toBe(0);

    // --from/--to narrow what is listed and pulled.
    const narrow = capture();
    const narrowErr = capture();
    expect(
      await runQueryCommand(
        [sql, '--engine', 'duckdb', '--from', '2024-03-02', '--to', '2024-03-02'],
        narrow,
        {
          env,
          err: narrowErr,
        },
      ),
    ).toBe(0);
    expect(narrowErr.text).toContain('2 file(s)');
    expect(narrow.text).toBe(`${formatTable(['dt', 'n', 'total'], [['2024-03-02', '8', '3513']])}\n`);
  });
});
