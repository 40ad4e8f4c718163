import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { archiveStoreFromEnv, exportFromInflux, toolsEnvSchema } from '@gridstream/archive-tools';
import {
  createTestDatabase,
  executeInflux,
  influxConfig,
  queryInflux,
  recordToLine,
  type TestDatabase,
  waitForInflux,
} from '@gridstream/influx';
import type { ParsedRecord } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBucket,
  MOTO_REGION,
  MOTO_URL,
  motoS3,
  requireMoto,
  useMotoCredentials,
} from '../../archive-tools/src/moto.fixture.js';
import { EXIT_DESTINATION, runExportCommand } from './export-command.js';
import { runInfluxCommand } from './influx-command.js';

/**
 * `gridstream export` and `gridstream influx retention` against the real InfluxDB 1.6 (deploy/local):
 * points written the way the influx-writer writes them come back as exactly the archive rows, twice
 * the same files, readable by pyarrow with the archive's column types.
 */

const base = influxConfig({ url: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086', timeoutMs: 10_000 });
const VENV_PYTHON = resolve(import.meta.dirname, '../../../.local/venv/bin/python');
let db: TestDatabase;
let work: string;

const records: ParsedRecord[] = [];
function record(
  r: Omit<ParsedRecord, 'v' | 'schema' | 'lineage' | 'flags'> & { flags?: Record<string, boolean> },
) {
  records.push({
    v: 1,
    schema: 'samples.v1',
    lineage: { topic: 'telemetry.raw', partition: 0, offset: String(records.length) },
    flags: {},
    ...r,
  });
}
// 20-minute readings from 22:00 on 03-01 to 01:40 on 03-02 (two UTC days), PV and battery racks.
for (let i = 0; i < 12; i++) {
  const ts = new Date(Date.parse('2024-03-01T22:00:00Z') + i * 20 * 60_000).toISOString();
  for (const device of ['1', '2']) {
    record({
      site: 's1',
      equipment: 'pv',
      device,
      ts,
      fields: { CumulativePowerGeneration: 1000 + i * 2.5, AC_Power: i },
    });
  }
  for (const rack of ['1', '2']) {
    record({
      site: 's1',
      equipment: 'battery',
      device: 'bank',
      rack,
      ts,
      fields: { soc: 50 + i / 4 },
      flags: { fault: i % 5 === 0, run: true },
      quality: i === 3 ? { soc: ['out_of_range', 'uncertain'] } : undefined,
    });
  }
}
record({
  site: 's1',
  equipment: 'battery',
  device: 'bank',
  ts: '2024-03-02T00:30:00.000Z',
  fields: { soc: 61 },
});

interface Row {
  ts: number;
  site: string;
  equipment: string;
  device: string;
  rack: string | null;
  field: string;
  value: number;
  is_flag: boolean;
  quality: string | null;
  kafka_partition: number;
  kafka_offset: number;
}

function expectedRows(filter: (r: ParsedRecord) => boolean = () => true): Row[] {
  const out: Row[] = [];
  for (const r of records.filter(filter)) {
    const base = {
      ts: Date.parse(r.ts),
      site: r.site,
      equipment: r.equipment,
      device: r.device,
      rack: r.rack ?? null,
    };
    const lineage = { kafka_partition: -1, kafka_offset: -1 };
    for (const [field, value] of Object.entries(r.fields)) {
      out.push({
        ...base,
        field,
        value,
        is_flag: false,
        quality: r.quality?.[field]?.join(',') ?? null,
        ...lineage,
      });
    }
    for (const [field, value] of Object.entries(r.flags)) {
      out.push({ ...base, field, value: value ? 1 : 0, is_flag: true, quality: null, ...lineage });
    }
  }
  return sortRows(out);
}

function sortRows(rows: Row[]): Row[] {
  const key = (r: Row) =>
    `${String(r.ts).padStart(15)}|${r.equipment}|${r.device}|${r.rack ?? ''}|${r.field}`;
  return rows.sort((a, b) => key(a).localeCompare(key(b)));
}

async function readArchive(dir: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    const r = await c.runAndReadAll(
      `SELECT epoch_ms(ts) AS ts, site, equipment, device, rack, field, value, is_flag, quality, kafka_partition, kafka_offset
         FROM read_parquet('${dir}/dt=*/*.parquet')`,
    );
    return sortRows(
      r
        .getRowObjectsJS()
        .map((o) => ({ ...o, ts: Number(o.ts), kafka_offset: Number(o.kafka_offset) }) as unknown as Row),
    );
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = (await readFile(p)).toString('base64');
    }
  };
  await walk(dir);
  return out;
}

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
  if (!(await waitForInflux(base, 30_000))) throw new Error(`InfluxDB is not answering on ${base.url}`);
  db = await createTestDatabase(base, 'gs_export');
  const lines = records.map((r) => recordToLine(r)!);
  // A string field (metadata such as a firmware version) is not a reading: the export skips it.
  lines.push('pv,device=1,site=s1 firmware="v2.3.1" 1709330400000');
  const res = await fetch(`${base.url}/write?db=${db.name}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  expect(res.status).toBe(204);
  work = await mkdtemp(join(tmpdir(), 'gs-export-int-'));
});

afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('gridstream export (InfluxDB 1.6)', () => {
  it('writes the points as archive rows, one file per UTC day and measurement, the same files twice', async () => {
    const dir = join(work, 'archive');
    const options = {
      influx: db.config,
      fromMs: Date.parse('2024-03-01T00:00:00Z'),
      toMs: Date.parse('2024-03-03T00:00:00Z'),
      format: 'archive' as const,
      store: archiveStoreFromEnv(toolsEnvSchema.parse({}), dir),
      chunkSize: 7, // many chunks per window: the streamed reader must stitch them
    };
    const first = await exportFromInflux(options);
    expect(first.files).toEqual([
      'dt=2024-03-01/export+battery+20240301T000000Z+20240302T000000Z.parquet',
      'dt=2024-03-01/export+pv+20240301T000000Z+20240302T000000Z.parquet',
      'dt=2024-03-02/export+battery+20240302T000000Z+20240303T000000Z.parquet',
      'dt=2024-03-02/export+pv+20240302T000000Z+20240303T000000Z.parquet',
    ]);
    expect(first.points).toBe(records.length);
    expect(first.skippedStrings).toBe(1);
    const rows = await readArchive(dir);
    expect(rows).toEqual(expectedRows());
    expect(first.rows).toBe(rows.length);

    const before = await snapshot(dir);
    const second = await exportFromInflux(options);
    expect(second.files).toEqual(first.files);
    expect(await snapshot(dir)).toEqual(before);

    // The CLI writes the same files, byte for byte.
    const viaCli = join(work, 'cli-archive');
    const out = capture();
    const err = capture();
    const code = await runExportCommand(
      ['--from', '2024-03-01', '--to', '2024-03-03', '--out', viaCli, '--window', '30m'],
      out,
      { env: { INFLUX_URL: base.url, INFLUX_DATABASE: db.name }, err },
    );
    expect(err.text).not.toMatch(/gridstream export:/);
    expect(code).toBe(0);
    expect(out.text.trim().split('\n')).toEqual(first.files);
    expect(err.text).toMatch(/exported 49 points as \d+ rows into 4 file\(s\)/);
    expect(err.text).not.toContain('\r'); // no progress bar when stderr is not a terminal
    expect(await snapshot(viaCli)).toEqual(before);
  });

  it('is readable by pyarrow with the archive column types', async () => {
    const file = join(
      work,
      'archive',
      'dt=2024-03-02',
      'export+pv+20240302T000000Z+20240303T000000Z.parquet',
    );
    const script = [
      'import sys, json, pyarrow.parquet as pq',
      't = pq.read_table(sys.argv[1])',
      'print(json.dumps({"schema": {f.name: str(f.type) for f in t.schema}, "rows": t.num_rows,',
      '  "first": str(t.column("ts")[0].as_py().isoformat())}))',
    ].join('\n');
    const { stdout } = await promisify(execFile)(VENV_PYTHON, ['-c', script, file]);
    const result = JSON.parse(stdout);
    expect(result.schema).toEqual({
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
    expect(result.rows).toBe(expectedRows((r) => r.equipment === 'pv' && r.ts >= '2024-03-02').length);
    expect(result.first).toBe('2024-03-02T00:00:00+00:00');
  });

  it('a partial day is named after the part it covers; --measurement limits the export', async () => {
    const dir = join(work, 'partial');
    const out = capture();
    const code = await runExportCommand(
      ['--from', '2024-03-01T23:00:00Z', '--to', '2024-03-02T01:00:00Z', '--measurement', 'pv', '--out', dir],
      out,
      { env: { INFLUX_URL: base.url, INFLUX_DATABASE: db.name }, err: capture() },
    );
    expect(code).toBe(0);
    expect(out.text.trim().split('\n')).toEqual([
      'dt=2024-03-01/export+pv+20240301T230000Z+20240302T000000Z.parquet',
      'dt=2024-03-02/export+pv+20240302T000000Z+20240302T010000Z.parquet',
    ]);
    const from = Date.parse('2024-03-01T23:00:00Z');
    const to = Date.parse('2024-03-02T01:00:00Z');
    expect(await readArchive(dir)).toEqual(
      expectedRows((r) => r.equipment === 'pv' && Date.parse(r.ts) >= from && Date.parse(r.ts) < to),
    );
  });

  it('writes daily CSV files per measurement, cut at local midnight with --tz', async () => {
    const dir = join(work, 'csv');
    const out = capture();
    const code = await runExportCommand(
      ['--from', '2024-03-02', '--to', '2024-03-03', '--format', 'csv', '--tz', 'Asia/Seoul', '--out', dir],
      out,
      { env: { INFLUX_URL: base.url, INFLUX_DATABASE: db.name }, err: capture() },
    );
    expect(code).toBe(0);
    // 2024-03-02 in Seoul is 03-01T15:00Z .. 03-02T15:00Z: all of the data.
    expect(out.text.trim().split('\n')).toEqual([
      join(dir, 'battery', '2024-03-02.csv'),
      join(dir, 'pv', '2024-03-02.csv'),
    ]);
    const pv = (await readFile(join(dir, 'pv', '2024-03-02.csv'), 'utf8')).trim().split('\n');
    expect(pv[0]).toBe('time,site,device,rack,AC_Power,CumulativePowerGeneration');
    expect(pv[1]).toBe('2024-03-01T22:00:00.000Z,s1,1,,0,1000');
    expect(pv).toHaveLength(1 + 24);
    const battery = (await readFile(join(dir, 'battery', '2024-03-02.csv'), 'utf8')).trim().split('\n');
    expect(battery[0]).toBe('time,site,device,rack,fault,run,soc,soc__quality');
    expect(battery).toContain('2024-03-01T23:00:00.000Z,s1,bank,1,false,true,50.75,"out_of_range,uncertain"');
    expect(battery).toContain('2024-03-02T00:30:00.000Z,s1,bank,,,,61,');
  });
});

/** Every object under `prefix`: key → bytes, and key → content type. */
async function bucketSnapshot(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ bytes: Record<string, string>; types: Record<string, string | undefined> }> {
  const bytes: Record<string, string> = {};
  const types: Record<string, string | undefined> = {};
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  for (const o of list.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    bytes[o.Key!.slice(prefix.length)] = Buffer.from(await got.Body!.transformToByteArray()).toString(
      'base64',
    );
    types[o.Key!.slice(prefix.length)] = got.ContentType;
  }
  return { bytes, types };
}

/**
 * An S3 endpoint that goes down: forwards to moto until `allowPuts` PUTs went through, then drops every
 * connection (what a dead load balancer or a network cut looks like to the SDK).
 */
async function failingProxy(allowPuts: number): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(MOTO_URL);
  let puts = 0;
  let down = false;
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && ++puts > allowPuts) down = true;
    if (down) {
      req.socket.destroy();
      return;
    }
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe('gridstream export --out s3://… (InfluxDB 1.6, moto S3)', () => {
  const bucket = `gs-export-${Date.now().toString(36)}`;
  let s3: S3Client;
  /** The S3 service settings only: no ARCHIVE_S3_BUCKET, the bucket is --out's. */
  const s3Env = (endpoint = MOTO_URL, extra: Record<string, string> = {}) => ({
    INFLUX_URL: base.url,
    INFLUX_DATABASE: db.name,
    AWS_REGION: MOTO_REGION,
    ARCHIVE_S3_ENDPOINT: endpoint,
    ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
    ...extra,
  });
  const range = ['--from', '2024-03-01', '--to', '2024-03-03'];
  let local: Record<string, string>;

  beforeAll(async () => {
    useMotoCredentials();
    await requireMoto();
    s3 = motoS3();
    await createBucket(s3, bucket);
    // The reference: the same range exported to a local folder.
    const dir = join(work, 'csv-reference');
    const code = await runExportCommand([...range, '--format', 'csv', '--out', dir], capture(), {
      env: { INFLUX_URL: base.url, INFLUX_DATABASE: db.name },
      err: capture(),
    });
    expect(code).toBe(0);
    local = await snapshot(dir);
    expect(Object.keys(local).sort()).toEqual([
      join('battery', '2024-03-01.csv'),
      join('battery', '2024-03-02.csv'),
      join('pv', '2024-03-01.csv'),
      join('pv', '2024-03-02.csv'),
    ]);
  });

  afterAll(async () => {
    if (!s3) return;
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined);
    const objects = (list?.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length > 0)
      await s3
        .send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }))
        .catch(() => {});
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    s3.destroy();
  });

  it('uploads the daily CSV files under the prefix, byte for byte the local files; a re-run replaces them', async () => {
    const args = [...range, '--format', 'csv', '--out', `s3://${bucket}/daily/csv`];
    const out = capture();
    const err = capture();
    const code = await runExportCommand(args, out, { env: s3Env(), err });
    expect(err.text).not.toMatch(/gridstream export:/);
    expect(code).toBe(0);
    // Listed as written: day by day, measurements in order.
    expect(out.text.trim().split('\n')).toEqual(
      ['battery/2024-03-01', 'pv/2024-03-01', 'battery/2024-03-02', 'pv/2024-03-02'].map(
        (name) => `s3://${bucket}/daily/csv/${name}.csv`,
      ),
    );
    expect(err.text).toContain(`into 4 file(s) in s3://${bucket}/daily/csv/ `);
    const first = await bucketSnapshot(s3, bucket, 'daily/csv/');
    expect(first.bytes).toEqual(local);
    expect(new Set(Object.values(first.types))).toEqual(new Set(['text/csv; charset=utf-8']));
    // Nothing outside the prefix.
    const all = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((all.Contents ?? []).every((o) => o.Key!.startsWith('daily/csv/'))).toBe(true);

    // Idempotent: the same objects again, no extra ones.
    const again = capture();
    expect(await runExportCommand(args, again, { env: s3Env(), err: capture() })).toBe(0);
    expect(again.text).toBe(out.text);
    expect((await bucketSnapshot(s3, bucket, 'daily/csv/')).bytes).toEqual(local);
  });

  it('--format archive --out s3://… uploads the same Parquet files as a local --out', async () => {
    const dir = join(work, 'archive-reference');
    const localArgs = [...range, '--measurement', 'pv', '--out', dir];
    expect(
      await runExportCommand(localArgs, capture(), {
        env: { INFLUX_URL: base.url, INFLUX_DATABASE: db.name },
        err: capture(),
      }),
    ).toBe(0);
    const out = capture();
    const code = await runExportCommand(
      [...range, '--measurement', 'pv', '--out', `s3://${bucket}/backfill/`],
      out,
      {
        env: s3Env(),
        err: capture(),
      },
    );
    expect(code).toBe(0);
    expect(out.text.trim().split('\n')).toEqual([
      'dt=2024-03-01/export+pv+20240301T000000Z+20240302T000000Z.parquet',
      'dt=2024-03-02/export+pv+20240302T000000Z+20240303T000000Z.parquet',
    ]);
    const uploaded = (await bucketSnapshot(s3, bucket, 'backfill/')).bytes;
    const expected = Object.fromEntries(
      Object.entries(await snapshot(dir)).map(([k, v]) => [k.split('\\').join('/'), v]),
    );
    expect(uploaded).toEqual(expected);
  });

  it('an S3 outage part way stops with exit 4, naming what was uploaded; the same export again completes', async () => {
    const proxy = await failingProxy(1);
    const args = [...range, '--format', 'csv', '--out', `s3://${bucket}/outage`];
    const out = capture();
    const err = capture();
    let code: number;
    try {
      code = await runExportCommand(args, out, {
        env: s3Env(proxy.url, { ARCHIVE_S3_MAX_ATTEMPTS: '2' }),
        err,
      });
    } finally {
      await proxy.close();
    }
    expect(code).toBe(EXIT_DESTINATION);
    expect(out.text).toBe(`s3://${bucket}/outage/battery/2024-03-01.csv\n`);
    expect(err.text).toContain(`upload of s3://${bucket}/outage/pv/2024-03-01.csv failed: `);
    expect(err.text).toContain('1 file(s) were stored before it (listed on stdout)');
    expect(err.text).toContain('Run the same export again');
    expect(err.text).not.toMatch(/exported \d+ points/); // no success summary
    const partial = (await bucketSnapshot(s3, bucket, 'outage/')).bytes;
    expect(partial).toEqual({ 'battery/2024-03-01.csv': local[join('battery', '2024-03-01.csv')] });

    const rerun = capture();
    expect(await runExportCommand(args, rerun, { env: s3Env(), err: capture() })).toBe(0);
    expect(rerun.text.trim().split('\n')).toHaveLength(4);
    expect((await bucketSnapshot(s3, bucket, 'outage/')).bytes).toEqual(local);
  });

  it('an unreachable endpoint or a missing bucket fails before InfluxDB is read; a bad URL is a usage error', async () => {
    const closed = await new Promise<number>((ok) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => ok(port));
      });
    });
    const cases = [
      { endpoint: `http://127.0.0.1:${closed}`, out: `s3://${bucket}/x`, message: /ECONNREFUSED/ },
      { endpoint: MOTO_URL, out: `s3://${bucket}-missing/x`, message: /does not exist/ },
    ];
    for (const c of cases) {
      const out = capture();
      const err = capture();
      const code = await runExportCommand([...range, '--format', 'csv', '--out', c.out], out, {
        env: s3Env(c.endpoint, { ARCHIVE_S3_MAX_ATTEMPTS: '1' }),
        err,
      });
      expect(code).toBe(EXIT_DESTINATION);
      expect(out.text).toBe('');
      expect(err.text).toContain(`gridstream export: cannot write to ${c.out}/: `);
      expect(err.text).toMatch(c.message);
      expect(err.text).toContain('nothing was exported');
    }
    const usage = capture();
    expect(
      await runExportCommand([...range, '--format', 'csv', '--out', 's3://Bad_Bucket/x'], usage, {
        env: s3Env(),
        err: capture(),
      }),
    ).toBe(2);
    expect(usage.text).toContain('--out: "Bad_Bucket" is not a bucket name');
  });
});

describe('gridstream influx retention (InfluxDB 1.6)', () => {
  it('prints the plan without --yes and alters the default policy with it', async () => {
    const env = { INFLUX_URL: base.url, INFLUX_DATABASE: db.name };
    const dry = capture();
    expect(await runInfluxCommand(['retention', '--days', '30'], dry, { env })).toBe(0);
    expect(dry.text).toContain(
      `ALTER RETENTION POLICY "autogen" ON "${db.name}" DURATION 30d REPLICATION 1 SHARD DURATION 1d DEFAULT`,
    );
    expect(dry.text).toContain('not applied');
    const policies = async () =>
      (await queryInflux(db.config, `SHOW RETENTION POLICIES ON "${db.name}"`))[0]!;
    const before = await policies();
    expect(before.values.find((r) => r[0] === 'autogen')?.[1]).toBe('0s');

    // A point from now: the altered policy keeps it (the 2024 test points are past 30 days and may go).
    const res = await fetch(`${base.url}/write?db=${db.name}&precision=ms`, {
      method: 'POST',
      body: `probe,site=s1,device=x v=1 ${Date.now()}`,
    });
    expect(res.status).toBe(204);
    const applied = capture();
    expect(await runInfluxCommand(['retention', '--days', '30', '--yes'], applied, { env })).toBe(0);
    expect(applied.text).toContain('applied: altered retention policy "autogen"');
    const after = await policies();
    const autogen = after.values.find((r) => r[0] === 'autogen')!;
    expect(autogen[after.columns.indexOf('duration')]).toBe('720h0m0s');
    expect(autogen[after.columns.indexOf('default')]).toBe(true);
    // The same policy was changed, not a new default added: existing points stay visible to queries
    // that name no policy.
    const count = await queryInflux(db.config, 'SELECT count(v) FROM probe');
    expect(count[0]?.values[0]?.[1]).toBe(1);
    await executeInflux(db.config, `ALTER RETENTION POLICY "autogen" ON "${db.name}" DURATION INF`, db.name);
  });
});
