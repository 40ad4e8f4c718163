/**
 * PostgreSQL writer benchmark (runnable after `npx tsc -b`, PostgreSQL from deploy/local/postgresql.sh):
 *
 *   node services/timescale-writer/dist/bench/pg-bench.js [--rows 360000] [--batch 5000] [--runs 3] [--json FILE]
 *
 * Rows per second into the same `readings` table (primary key and BRIN index, emptied before each run)
 *   1. raw COPY: the same COPY text lines straight into `readings`, one transaction per batch — the floor
 *      of what PostgreSQL itself costs for these rows with this table's indexes and commit per batch;
 *      and one COPY of everything in one transaction (the ceiling, no commits);
 *   2. the writer's target (`write()`: dedupe, COPY into staging, upsert in key order, commit), one batch
 *      at a time, then with 3 writes in flight (the service's default);
 *   3. the target again over rows already there (a replay after a crash: nothing changes).
 * Mapping records to rows (recordPoints) is timed apart: it runs in the seam's intake, not in write().
 * Connection: PG_* variables, else the local test cluster (127.0.0.1:55432, role gridstream, password
 * in .local/postgresql/gridstream.password). A database of its own is created and dropped.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '@gridstream/config';
import { createLogger } from '@gridstream/runtime';
import type { ParsedRecord } from '@gridstream/schema';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { timescaleWriterConfigSchema } from '../config.js';
import type { PgRow } from '../pg-rows.js';
import { TABLES } from '../pg-schema.js';
import { createPostgresTarget, poolConfig } from '../postgres-target.js';

const REPO = resolve(import.meta.dirname, '../../../..'); // services/timescale-writer/dist/bench → repo
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '360000' },
    batch: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const BATCH = Number(args.batch);
const RUNS = Number(args.runs);
const logger = createLogger({ service: 'pg-bench', level: 'warn' });
const fmt = (x: number) => Math.round(x).toLocaleString('en');

/** A battery-like record: 12 readings and 5 flags (17 rows), a quality flag on one reading in ten. */
function record(i: number): ParsedRecord {
  const fields: Record<string, number> = {};
  for (let f = 0; f < 12; f++) fields[`reading_${f}`] = Math.round(Math.sin(i + f) * 100_000) / 100;
  const flags: Record<string, boolean> = {};
  for (let f = 0; f < 5; f++) flags[`flag_${f}`] = (i + f) % 3 === 0;
  return {
    v: 1,
    site: `site-${i % 10}`,
    equipment: 'battery',
    device: String(Math.floor(i / 10) % 20),
    ...(i % 2 === 0 ? { rack: String(i % 4) } : {}),
    ts: new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 200) * 1_000).toISOString(),
    fields,
    flags,
    ...(i % 10 === 0 ? { quality: { reading_0: ['out_of_range' as const] } } : {}),
    schema: 'microgrid.v1',
    lineage: { topic: 'telemetry.raw', partition: 0, offset: String(i) },
  };
}

const env = {
  PG_HOST: '127.0.0.1',
  PG_PORT: '55432',
  PG_USER: 'gridstream',
  PG_PASSWORD_FILE: join(REPO, '.local', 'postgresql', 'gridstream.password'),
  ...process.env,
};
const base = loadConfig(timescaleWriterConfigSchema, env);
const database = `gs_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client(poolConfig(base));
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const config = { ...base, PG_DATABASE: database, WRITER_WRITES_IN_FLIGHT: 3 };

try {
  const target = await createPostgresTarget(config, logger);
  const records = Array.from({ length: Math.ceil(ROWS / 17) }, (_, i) => record(i));
  // The mapping's best of 3 (the first pass also compiles it).
  let t0 = 0;
  let rows: PgRow[] = [];
  let mapSeconds = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 3; pass++) {
    t0 = performance.now();
    rows = records.flatMap((r) => target.recordPoints(r)).slice(0, ROWS);
    mapSeconds = Math.min(mapSeconds, (performance.now() - t0) / 1000);
  }
  const batches: PgRow[][] = [];
  for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));

  const client = new pg.Client({ ...poolConfig(config), query_timeout: undefined });
  await client.connect();
  const empty = async () => {
    await client.query('TRUNCATE readings');
    await client.query('VACUUM ANALYZE readings');
  };
  const columns = TABLES.readings.columns.map((c) => `"${c.name}"`).join(', ');
  const copy = async (lines: PgRow[]) => {
    const data = Buffer.from(`${lines.map((r) => r.line).join('\n')}\n`);
    await pipeline(Readable.from([data]), client.query(copyFrom(`COPY readings (${columns}) FROM STDIN`)));
  };

  /** One timed run of `body` on an empty table (or a full one: `prefill`); rows/s. */
  async function once(name: string, body: () => Promise<void>, prefill: boolean): Promise<number> {
    await empty();
    if (prefill) for (const b of batches) await target.write(b);
    t0 = performance.now();
    await body();
    const rate = rows.length / ((performance.now() - t0) / 1000);
    const { rows: n } = await client.query<{ n: string }>('SELECT count(*) AS n FROM readings');
    if (Number(n[0]!.n) !== rows.length) throw new Error(`${name}: ${n[0]!.n} rows, not ${rows.length}`);
    return rate;
  }

  const methods: { name: string; body: () => Promise<void>; prefill?: boolean }[] = [
    {
      name: 'raw COPY, a transaction per batch',
      body: async () => {
        for (const b of batches) {
          await client.query('BEGIN');
          await copy(b);
          await client.query('COMMIT');
        }
      },
    },
    { name: 'raw COPY, all in one', body: () => copy(rows) },
    {
      name: 'target, 1 write at a time',
      body: async () => {
        for (const b of batches) await target.write(b);
      },
    },
    {
      name: 'target, 3 writes in flight',
      body: async () => {
        let next = 0;
        const lane = async () => {
          while (next < batches.length) await target.write(batches[next++]!);
        };
        await Promise.all([lane(), lane(), lane()]);
      },
    },
    {
      name: 'target over rows already stored (replay)',
      prefill: true,
      body: async () => {
        for (const b of batches) await target.write(b);
      },
    },
  ];
  // Interleaved (every method once per round): a machine busy with something else for a while slows
  // every method alike, instead of whichever happened to run then.
  const rates = methods.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++)
    for (const [i, m] of methods.entries()) rates[i]!.push(await once(m.name, m.body, m.prefill ?? false));
  const medians = rates.map((r, i) => {
    const sorted = [...r].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    process.stderr.write(`${methods[i]!.name}: ${r.map(fmt).join(', ')} rows/s (median ${fmt(median)})\n`);
    return median;
  });
  // The target against raw COPY round by round (same moment, same machine load), then the median.
  const ratio = (i: number) => {
    const r = rates[i]!.map((rate, run) => rate / rates[0]![run]!).sort((a, b) => a - b);
    return Number(r[Math.floor(r.length / 2)]!.toFixed(2));
  };
  const [copyPerBatch, copyOnce, targetSerial, targetParallel, replay] = medians as [
    number,
    number,
    number,
    number,
    number,
  ];
  await client.end();
  await target.close();

  const { rows: version } = await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  const result = {
    rows: rows.length,
    batch: BATCH,
    runs: RUNS,
    postgres: version[0]!.v,
    cpu: `${cpus()[0]?.model ?? '?'} × ${availableParallelism()}`,
    mapRowsPerSecond: Math.round(rows.length / mapSeconds),
    rawCopyPerBatch: Math.round(copyPerBatch),
    rawCopyOneTransaction: Math.round(copyOnce),
    targetSerial: Math.round(targetSerial),
    targetThreeInFlight: Math.round(targetParallel),
    targetReplay: Math.round(replay),
    targetVsRawCopyPerBatch: ratio(2),
    targetInFlightVsRawCopyPerBatch: ratio(3),
    replayVsRawCopyPerBatch: ratio(4),
    rawCopyOneTransactionVsPerBatch: ratio(1),
  };
  if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    [
      '## PostgreSQL writer',
      '',
      `${fmt(rows.length)} rows (17 per record), batches of ${fmt(BATCH)}, ${RUNS} interleaved rounds (median); PostgreSQL ${result.postgres}, ${result.cpu}.`,
      '',
      "| what | rows/s | vs raw COPY per batch (median of the rounds' ratios) |",
      '| --- | ---: | ---: |',
      `| raw COPY into \`readings\`, one transaction per batch | ${fmt(copyPerBatch)} | 1.00 |`,
      `| raw COPY into \`readings\`, one transaction for all | ${fmt(copyOnce)} | ${result.rawCopyOneTransactionVsPerBatch.toFixed(2)} |`,
      `| target \`write()\`, one at a time | ${fmt(targetSerial)} | ${result.targetVsRawCopyPerBatch.toFixed(2)} |`,
      `| target \`write()\`, 3 in flight | ${fmt(targetParallel)} | ${result.targetInFlightVsRawCopyPerBatch.toFixed(2)} |`,
      `| target over rows already stored (replay) | ${fmt(replay)} | ${result.replayVsRawCopyPerBatch.toFixed(2)} |`,
      `| records → rows (\`recordPoints\`, in the seam's intake, not in the figures above) | ${fmt(result.mapRowsPerSecond)} | |`,
      '',
    ].join('\n'),
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
