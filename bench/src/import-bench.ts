#!/usr/bin/env node
/**
 * File-import benchmark (`make bench` appends its section; runnable alone after `npx tsc -b`):
 *
 *   node bench/dist/import-bench.js [--rows N] [--no-kafka] [--json FILE]
 *
 * One synthetic CSV of the reference shape (36 columns, quoted DTC; BENCH_IMPORT_ROWS or --rows, default
 * 1,000,000 rows), then in the same run, on the same file:
 * 1. baseline: a bare csv-parse read of the file (bytes → records, nothing else) — the ceiling;
 * 2. importFiles with a counting sink: decoding, time parsing, per-row device ids, samples, batching and
 *    the samples.v1 envelope (the source seam's, built by the counting sink too);
 * 3. importFiles into a real Kafka topic (KAFKA_BROKERS, default 127.0.0.1:9092) through the source seam's
 *    direct outbox (acks=all, idempotent producer) — what `gridstream import` does. The topic is deleted
 *    afterwards.
 * Each step reports rows/s, MiB/s and the process's peak RSS while it ran. Prints a Markdown section.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CountingSink,
  type ImportSink,
  importFiles,
  openKafkaImportSink,
  writeSyntheticCsv,
} from '@gridstream/importer';
import { createKafka, deleteTopics, ensureTopics, type KafkaEnv } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { parse } from 'csv-parse';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROWS = Number(opt('--rows') ?? process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const WITH_KAFKA = !args.includes('--no-kafka');
const JSON_OUT = opt('--json');
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const MiB = 1024 * 1024;
const logger = createLogger({ service: 'import-bench', level: 'error' });

interface StepResult {
  step: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  mibPerSecond: number;
  peakRssMiB: number;
}

/** Runs `body`, sampling RSS every 50 ms; rows/s and MiB/s over the file's size. */
async function timed(step: string, bytes: number, body: () => Promise<number>): Promise<StepResult> {
  global.gc?.();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const started = performance.now();
  let rows: number;
  try {
    rows = await body();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage.rss());
  return {
    step,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    mibPerSecond: bytes / MiB / seconds,
    peakRssMiB: peak / MiB,
  };
}

async function bareCsvParse(path: string): Promise<number> {
  let records = 0;
  for await (const _ of createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(parse())) records++;
  return records - 1; // the header
}

async function importInto(path: string, sink: ImportSink): Promise<number> {
  const summary = await importFiles(
    {
      files: [path],
      timeColumn: 'RECORD_TIME',
      valueColumns: 'DRIVE_SPEED|RPM',
      deviceColumn: 'PHONE_NUM',
      site: 'bench',
      equipment: 'vehicle',
    },
    sink,
  );
  if (summary.rowsRejected > 0 || summary.rowsSent !== ROWS) {
    throw new Error(`import sent ${summary.rowsSent} of ${ROWS} rows, rejected ${summary.rowsRejected}`);
  }
  return summary.rowsSent;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-import-bench-'));
  const results: StepResult[] = [];
  let fileBytes = 0;
  try {
    const path = join(dir, 'bench.csv');
    const genStarted = performance.now();
    fileBytes = (await writeSyntheticCsv(path, { rows: ROWS })).bytes;
    const genSeconds = (performance.now() - genStarted) / 1000;
    process.stderr.write(
      `import-bench: ${ROWS} rows, ${(fileBytes / MiB).toFixed(0)} MiB written in ${genSeconds.toFixed(1)} s\n`,
    );

    results.push(await timed('bare csv-parse (baseline)', fileBytes, () => bareCsvParse(path)));
    results.push(
      await timed('importFiles → counting sink', fileBytes, () => importInto(path, new CountingSink())),
    );
    if (WITH_KAFKA) {
      const topic = `bench.import.${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
      const env: KafkaEnv = {
        KAFKA_BROKERS: BROKERS,
        KAFKA_CLIENT_ID: 'import-bench',
        KAFKA_SSL: false,
        KAFKA_TOPIC_RAW: topic,
        KAFKA_TOPIC_PARSED: 'unused',
        KAFKA_TOPIC_DLQ: 'unused',
        KAFKA_TOPIC_PARTITIONS: 1,
        KAFKA_REPLICATION_FACTOR: 1,
        KAFKA_CREATE_TOPICS: true,
      };
      const kafka = createKafka(env, logger);
      // One partition: the importer keys every message by site, so one import fills one partition anyway.
      await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
      const sink = await openKafkaImportSink({ config: env, logger, kafka });
      try {
        results.push(await timed('importFiles → Kafka (acks=all)', fileBytes, () => importInto(path, sink)));
      } finally {
        await sink.close();
        await deleteTopics(kafka, [topic]).catch(() => undefined);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const baseline = results[0]!.rowsPerSecond;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    '## File import',
    '',
    `${fmt(ROWS)} rows of the 36-column vehicle CSV (${(fileBytes / MiB).toFixed(0)} MiB, UTF-8, quoted DTC), ` +
      'time `YYYY-MM-DD HH:MM:SS.fff` in UTC, 2 value columns, device id per row, 500 samples per message. ' +
      'Same file, same process, one step after another.',
    '',
    '| step | rows/s | MiB/s | vs bare csv-parse | seconds | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.step} | ${fmt(r.rowsPerSecond)} | ${r.mibPerSecond.toFixed(1)} | ${((r.rowsPerSecond / baseline) * 100).toFixed(0)}% | ${r.seconds.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} MiB |`,
    ),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (JSON_OUT) await writeFile(JSON_OUT, JSON.stringify({ rows: ROWS, bytes: fileBytes, results }, null, 2));
}

await main();
