/**
 * Archive benchmark (`make bench` calls it; runnable alone after `npx tsc -b`):
 *
 *   node services/archiver/dist/bench/archive-bench.js [--records N] [--json FILE] [--no-kafka] [--no-s3]
 *
 * 1. Parquet writers on the same rows: DuckDB (what the archiver uses) vs parquetjs-lite (the card's pick).
 * 2. The archiver through Kafka (in this process, local-directory store) vs the raw DuckDB rate (target ≥ 50%).
 * 3. Upload MB/s to the local S3 server (moto, MOTO_URL, default http://127.0.0.1:5055).
 * 4. RSS of an archiver process (the built service) holding 100 partitions' files open at once.
 * Prints a Markdown section for docs/benchmarks.md; --json writes the figures for bench/run-all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type ArchiveRow, ParquetEngine, recordToRows, S3ObjectStore } from '@gridstream/archive';
import { loadConfig } from '@gridstream/config';
import {
  consumerLag,
  createKafka,
  deleteTopics,
  ensureTopics,
  type Kafka,
  type OutMessage,
  ReliableProducer,
} from '@gridstream/kafka';
import { createLogger, createMetricsRegistry, Readiness } from '@gridstream/runtime';
import { type ParsedRecord, parsedRecordKey } from '@gridstream/schema';
import parquetjs from 'parquetjs-lite';
import { startArchiver } from '../archiver-service.js';
import { archiverConfigSchema } from '../config.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RECORDS = Number(opt('--records') ?? 100_000);
const JSON_OUT = opt('--json');
const WITH_KAFKA = !args.includes('--no-kafka');
const WITH_S3 = !args.includes('--no-s3');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MOTO_URL = process.env.MOTO_URL ?? 'http://127.0.0.1:5055';
const MAIN = resolve(import.meta.dirname, '../main.js');
const logger = createLogger({ service: 'archive-bench', level: 'warn' });
const MiB = 1024 * 1024;
// CommonJS: its classes hang off the default export.
const { ParquetSchema, ParquetWriter } = parquetjs;

/** A battery-rack / PV / meter mix like the demo's: 8 values per record on average, one UTC day. */
function benchRecord(i: number): ParsedRecord {
  const ts = new Date(Date.parse('2024-03-01T00:00:00.000Z') + Math.floor(i / 200) * 1_000).toISOString();
  const site = `site-${i % 20}`;
  const lineage = { topic: 'telemetry.raw', partition: 0, offset: String(i) };
  switch (i % 3) {
    case 0:
      return {
        v: 1,
        site,
        equipment: 'battery',
        device: `bank-${i % 4}`,
        rack: String((i % 8) + 1),
        ts,
        fields: {
          soc: 20 + ((i * 7) % 800) / 10,
          dc_voltage: 700 + ((i * 13) % 600) / 10,
          dc_current: ((i * 17) % 400) / 10 - 20,
          max_cell_voltage: 3.3 + ((i * 3) % 100) / 1000,
          min_cell_voltage: 3.2 + ((i * 5) % 100) / 1000,
          max_module_temperature: 25 + ((i * 11) % 150) / 10,
        },
        flags: { run: i % 5 !== 0, fault: i % 97 === 0, warning: i % 31 === 0 },
        quality: i % 50 === 0 ? { soc: ['out_of_range'] } : undefined,
        schema: 'microgrid.v1',
        lineage,
      };
    case 1:
      return {
        v: 1,
        site,
        equipment: 'pv',
        device: `inv-${i % 6}`,
        ts,
        fields: {
          ac_power_kw: ((i * 19) % 5000) / 10,
          dc_voltage: 600 + ((i * 7) % 200) / 10,
          daily_kwh: i / 100,
        },
        flags: { run: true },
        schema: 'microgrid.v1',
        lineage,
      };
    default:
      return {
        v: 1,
        site,
        equipment: 'meter',
        device: 'main',
        ts,
        fields: {
          active_power_kw: ((i * 23) % 10000) / 10,
          reactive_power_kvar: ((i * 29) % 3000) / 10,
          frequency_hz: 59.9 + ((i * 3) % 20) / 100,
          energy_kwh: 1e6 + i / 7,
        },
        flags: {},
        schema: 'samples.v1',
        lineage,
      };
  }
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function bestOf<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let best: { ms: number; value: T } | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const value = await fn();
    const ms = performance.now() - started;
    if (!best || ms < best.ms) best = { ms, value };
  }
  return best!;
}

async function writers(dir: string, rows: ArchiveRow[]) {
  const engine = await ParquetEngine.create({ tempDirectory: join(dir, 'spill') });
  const duck = await bestOf(3, () => engine.writeRows(rows, join(dir, 'duckdb.parquet')));
  // parquetjs-lite is ~30× slower: the same rows' first 100k are enough for a rate; sizes are compared
  // on exactly those rows.
  const subset = rows.slice(0, 100_000);
  const duckSubset = await engine.writeRows(subset, join(dir, 'duckdb-subset.parquet'));
  engine.close();
  // parquetjs-lite takes the codec per column; it has no zstd (gzip and snappy are its best).
  const schemaWith = (compression: string) =>
    new ParquetSchema({
      ts: { type: 'TIMESTAMP_MILLIS', compression },
      site: { type: 'UTF8', compression },
      equipment: { type: 'UTF8', compression },
      device: { type: 'UTF8', compression },
      rack: { type: 'UTF8', optional: true, compression },
      field: { type: 'UTF8', compression },
      value: { type: 'DOUBLE', compression },
      is_flag: { type: 'BOOLEAN', compression },
      quality: { type: 'UTF8', optional: true, compression },
      kafka_partition: { type: 'INT32', compression },
      kafka_offset: { type: 'INT64', compression },
    });
  const lite: Record<string, { rowsPerSec: number; bytesPerRow: number }> = {};
  for (const compression of ['GZIP', 'SNAPPY']) {
    const path = join(dir, `parquetjs-${compression}.parquet`);
    const run = await bestOf(1, async () => {
      await rm(path, { force: true });
      const writer = await ParquetWriter.openFile(schemaWith(compression), path);
      for (const r of subset) {
        await writer.appendRow({
          ...r,
          ts: new Date(r.ts),
          rack: r.rack ?? undefined,
          quality: r.quality ?? undefined,
          kafka_offset: Number(r.kafka_offset),
        });
      }
      await writer.close();
    });
    lite[compression] = {
      rowsPerSec: round(subset.length / (run.ms / 1000)),
      bytesPerRow: round((await stat(path)).size / subset.length, 2),
    };
  }
  return {
    rows: rows.length,
    duckdb: {
      rowsPerSec: round(rows.length / (duck.ms / 1000)),
      bytesPerRow: round(duck.value.bytes / rows.length, 2),
      subsetBytesPerRow: round(duckSubset.bytes / subset.length, 2),
      compression: 'ZSTD',
    },
    parquetjsLite: { rows: subset.length, ...lite },
  };
}

async function archiverThroughKafka(kafka: Kafka, dir: string, records: ParsedRecord[], rowCount: number) {
  const topic = `bench.archive.${Date.now().toString(36)}`;
  const dlq = `${topic}.dlq`;
  await ensureTopics(kafka, [
    { topic, partitions: 6, replicationFactor: 1 },
    { topic: dlq, partitions: 1, replicationFactor: 1 },
  ]);
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  try {
    const messages: OutMessage[] = records.map((r) => ({
      key: parsedRecordKey(r),
      value: JSON.stringify(r),
    }));
    for (let i = 0; i < messages.length; i += 20_000)
      await producer.send(topic, messages.slice(i, i + 20_000));
    const group = `bench-archiver-${Date.now().toString(36)}`;
    const config = loadConfig(archiverConfigSchema, {
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC_PARSED: topic,
      KAFKA_TOPIC_DLQ: dlq,
      ARCHIVER_GROUP_ID: group,
      ARCHIVE_DIR: join(dir, 'archive'),
      ARCHIVE_SPOOL_DIR: join(dir, 'spool'),
      ARCHIVE_MAX_FILE_ROWS: '200000',
      ARCHIVE_MAX_FILE_AGE_MS: '1000',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'warn',
    });
    const metrics = createMetricsRegistry('archiver');
    const rowsAppended = async () =>
      (await metrics.getSingleMetric('gridstream_archiver_rows_total')?.get())?.values[0]?.value ?? 0;
    const running = await startArchiver({ config, logger, metrics, readiness: new Readiness() });
    try {
      let first = 0;
      while ((await rowsAppended()) === 0) await new Promise((r) => setTimeout(r, 5));
      first = performance.now();
      while ((await rowsAppended()) < rowCount) await new Promise((r) => setTimeout(r, 5));
      const appended = performance.now();
      for (;;) {
        const lag = await consumerLag(kafka, group, [topic]);
        if (lag.length > 0 && lag.every((p) => p.lag === 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const committed = performance.now();
      return {
        records: records.length,
        rows: rowCount,
        rowsPerSec: round(rowCount / ((appended - first) / 1000)),
        endToEndRowsPerSec: round(rowCount / ((committed - first) / 1000)),
        note: 'rows/s from the first row read to the last row in a Parquet file (files cut every 200k rows); end-to-end adds the 1 s age limit, the last upload and the commit',
      };
    } finally {
      await running.stop();
    }
  } finally {
    await producer.disconnect();
    await deleteTopics(kafka, [topic, dlq]).catch(() => undefined);
  }
}

async function uploads(dir: string) {
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const client = new S3Client({ region: 'us-east-1', endpoint: MOTO_URL, forcePathStyle: true });
  const store = new S3ObjectStore({ client, bucket: `bench-${Date.now().toString(36)}`, createBucket: true });
  try {
    await store.ensureReady();
    const out: Record<string, { mbPerSec: number; fileMiB: number }> = {};
    for (const [label, size] of [
      ['single PUT (8 MiB)', 8 * MiB],
      ['multipart (64 MiB, 16 MiB parts)', 64 * MiB],
    ] as const) {
      const path = join(dir, `upload-${size}.bin`);
      await writeFile(path, randomBytes(size));
      const run = await bestOf(3, () => store.putFile(`bench/${size}.bin`, path));
      out[label] = { mbPerSec: round(size / MiB / (run.ms / 1000), 1), fileMiB: size / MiB };
    }
    return { endpoint: MOTO_URL, ...out };
  } finally {
    store.close();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, 1);
}

async function openPartitionsRss(kafka: Kafka, dir: string) {
  const PARTITIONS = 100;
  const topic = `bench.archive.rss.${Date.now().toString(36)}`;
  const dlq = `${topic}.dlq`;
  await ensureTopics(kafka, [
    { topic, partitions: PARTITIONS, replicationFactor: 1 },
    { topic: dlq, partitions: 1, replicationFactor: 1 },
  ]);
  const port = await freePort();
  let child: ChildProcess | undefined;
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();
  try {
    child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        KAFKA_BROKERS: BROKERS,
        KAFKA_TOPIC_PARSED: topic,
        KAFKA_TOPIC_DLQ: dlq,
        ARCHIVER_GROUP_ID: `bench-rss-${Date.now().toString(36)}`,
        ARCHIVE_DIR: join(dir, 'rss-archive'),
        ARCHIVE_SPOOL_DIR: join(dir, 'rss-spool'),
        ARCHIVE_MAX_FILE_AGE_MS: '600000',
        HEALTH_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const ready = async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz/ready`).catch(() => undefined))?.ok;
    for (let i = 0; !(await ready()); i++) {
      if (i > 600) throw new Error('archiver did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = await rssMiB(child.pid!);
    // Many device keys so that every partition gets records; all one day, so one file per partition.
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      ...benchRecord(i),
      device: `dev-${i % 5_000}`,
    }));
    await producer.send(
      topic,
      records.map((r) => ({ key: parsedRecordKey(r), value: JSON.stringify(r) })),
    );
    const rows = records.reduce((n, r) => n + Object.keys(r.fields).length + Object.keys(r.flags).length, 0);
    for (let i = 0; (await metric('gridstream_archiver_rows_total')) < rows; i++) {
      if (i > 1200) throw new Error('archiver did not read the records');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const openFiles = await metric('gridstream_archiver_open_files');
    return { partitions: PARTITIONS, openFiles, rows, idleRssMiB: idle, rssMiB: await rssMiB(child.pid!) };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      // Graceful stop (flush, commit, leave the group), then make sure it is gone before the bench exits.
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 35_000);
      await gone;
      clearTimeout(timer);
    }
    await producer.disconnect();
    await deleteTopics(kafka, [topic, dlq]).catch(() => undefined);
  }
}

function markdown(results: Record<string, unknown>): string {
  const r = results as {
    writers: Awaited<ReturnType<typeof writers>>;
    archiver?: Awaited<ReturnType<typeof archiverThroughKafka>>;
    upload?: Record<string, unknown>;
    rss?: Awaited<ReturnType<typeof openPartitionsRss>>;
  };
  const w = r.writers;
  const lines = [
    '## Archive',
    '',
    `Same ${w.rows.toLocaleString('en')} rows (archive layout), one file, best of 3 (parquetjs-lite: first ${w.parquetjsLite.rows.toLocaleString('en')} rows, one run):`,
    '',
    `| writer | rows/s | bytes/row (first ${w.parquetjsLite.rows.toLocaleString('en')} rows) |`,
    '| --- | ---: | ---: |',
    `| DuckDB (@duckdb/node-api), zstd | ${w.duckdb.rowsPerSec.toLocaleString('en')} | ${w.duckdb.subsetBytesPerRow} |`,
  ];
  for (const [c, v] of Object.entries(w.parquetjsLite).filter(([k]) => k !== 'rows')) {
    const x = v as unknown as { rowsPerSec: number; bytesPerRow: number };
    lines.push(
      `| parquetjs-lite, ${c.toLowerCase()} | ${x.rowsPerSec.toLocaleString('en')} | ${x.bytesPerRow} |`,
    );
  }
  if (r.archiver) {
    const pct = round((100 * r.archiver.rowsPerSec) / w.duckdb.rowsPerSec);
    lines.push(
      '',
      `Archiver through Kafka (6 partitions, ${r.archiver.records.toLocaleString('en')} records = ${r.archiver.rows.toLocaleString('en')} rows): ` +
        `**${r.archiver.rowsPerSec.toLocaleString('en')} rows/s** = ${pct}% of the raw DuckDB rate (target ≥ 50%); ` +
        `end to end including the last upload and commit ${r.archiver.endToEndRowsPerSec.toLocaleString('en')} rows/s.`,
    );
  }
  if (r.upload) {
    const u = Object.entries(r.upload).filter(([k]) => k !== 'endpoint') as [string, { mbPerSec: number }][];
    lines.push(
      '',
      `Upload to the local S3 server (moto): ${u.map(([k, v]) => `${k} ${v.mbPerSec} MB/s`).join(', ')}.`,
    );
  }
  if (r.rss) {
    lines.push(
      '',
      `Archiver RSS with ${r.rss.openFiles} files open (${r.rss.partitions} partitions): ${r.rss.rssMiB} MiB (idle, partitions assigned: ${r.rss.idleRssMiB} MiB).`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'gs-archive-bench-'));
  try {
    const records = Array.from({ length: RECORDS }, (_, i) => benchRecord(i));
    const rows = records.flatMap((r, i) => recordToRows(r, i % 6, BigInt(i)));
    const results: Record<string, unknown> = { writers: await writers(dir, rows) };
    if (WITH_KAFKA) {
      const kafka = createKafka(loadConfig(archiverConfigSchema, { KAFKA_BROKERS: BROKERS }), logger);
      results.archiver = await archiverThroughKafka(kafka, dir, records, rows.length);
      results.rss = await openPartitionsRss(kafka, dir);
    }
    if (WITH_S3) results.upload = await uploads(dir);
    process.stdout.write(`${markdown(results)}\n`);
    if (JSON_OUT) await writeFile(JSON_OUT, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
