#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { influxConfig } from '@gridstream/influx';
import { createKafka, type OutMessage } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { amqpFor, bridgeStep } from './bridge-step.js';
import { cleanupMark, installExitHandlers, runCleanup, runCleanupSince } from './cleanup.js';
import { clientStep } from './client-step.js';
import type { BenchContext, ResultRow } from './context.js';
import { serverProcesses } from './cpu-meter.js';
import { generateMessages, siteIds } from './generator.js';
import { jsonParseRate, referenceSampleText } from './json-baseline.js';
import { latencyStep } from './latency-step.js';
import { load1, machineFacts } from './machine-facts.js';
import { type JsonBaselines, parserStep } from './parser-step.js';
import { REPO_ROOT, RESULTS_DIR } from './paths.js';
import { profileMarkdown, readProfile, summariseProfile } from './profile-summary.js';
import { qualityStep } from './quality-step.js';
import { markdownReport, memoryRows, textTable } from './report.js';
import { formatNumber } from './stats.js';
import { writerStep } from './writer-step.js';

/**
 * `make bench`: every measurement in one run on one set of generated messages, services as real processes
 * against the real Kafka, RabbitMQ and InfluxDB. Prints the table and writes bench/results/latest.md.
 *
 * BENCH_MESSAGES (25000)          messages of the throughput steps (17 records each)
 * BENCH_STEPS (all)               json,parser,writer,client,quality,bridge,e2e (writer and client need parser's output)
 * BENCH_QUALITY_MESSAGES (20000) / BENCH_QUALITY_ROUNDS (3)   ESS polls for the quality step, alone/with pairs
 * BENCH_E2E_RATE (1000) / BENCH_E2E_SECONDS (30) / BENCH_E2E_SITES (100) / BENCH_E2E_SAMPLE_EVERY (20)
 * BENCH_E2E_SWEEP (1) / BENCH_E2E_SWEEP_STEP (100) / BENCH_E2E_SWEEP_SECONDS (15)   highest rate with p99 ≤ 1 s
 * BENCH_CPU_PROF=1                services run with --cpu-prof; hotspots go into the report
 * BENCH_SERVICE_NODE_OPTIONS      NODE_OPTIONS for the service processes only (e.g. --max-old-space-size=96)
 * KAFKA_BROKERS, AMQP_URL, INFLUX_URL   servers (local defaults)
 * Service tuning variables (PARSER_*, WRITER_*, BRIDGE_*, KAFKA_TOPIC_PARTITIONS, AMQP_PREFETCH, …) are
 * passed to the services as set, and listed in the report; unset, the figures are the defaults'.
 */

const env = process.env;
const int = (name: string, fallback: number) => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};

const TUNING =
  /^(PARSER|WRITER|BRIDGE)_|^(BENCH_SERVICE_NODE_OPTIONS|KAFKA_TOPIC_PARTITIONS|KAFKA_REPLICATION_FACTOR|AMQP_PREFETCH|AMQP_QUEUE_TYPE|INFLUX_GZIP|INFLUX_API|LOG_LEVEL)$/;
const MEMORY_LIMIT_MIB = 150;

async function main(): Promise<number> {
  installExitHandlers();
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36)}-${randomBytes(2).toString('hex')}`;
  const steps = new Set(
    (env.BENCH_STEPS ?? 'json,parser,writer,client,quality,bridge,e2e').split(',').map((s) => s.trim()),
  );
  if (steps.has('writer') || steps.has('client')) steps.add('parser');
  // 25,000 keeps the parser's timed window over 10 s here (it parses ~1,300–1,900 messages/s).
  const total = int('BENCH_MESSAGES', 25_000);
  const partitions = int('KAFKA_TOPIC_PARTITIONS', 6);
  const e2e = {
    step: 'e2e',
    withTarget: true,
    rate: int('BENCH_E2E_RATE', 1_000),
    seconds: int('BENCH_E2E_SECONDS', 30),
    warmupSeconds: int('BENCH_E2E_WARMUP_SECONDS', 5),
    sites: int('BENCH_E2E_SITES', 100),
    sampleEvery: int('BENCH_E2E_SAMPLE_EVERY', 20),
    pollMs: int('BENCH_E2E_POLL_MS', 25),
  };
  // The same at a rate this machine sustains: the pipeline's own latency, without a backlog in it.
  const lowRate = env.BENCH_E2E_LOW_RATE === '0' ? 0 : int('BENCH_E2E_LOW_RATE', 200);
  const e2eLow = {
    ...e2e,
    step: 'e2e-low',
    withTarget: false,
    rate: lowRate,
    seconds: int('BENCH_E2E_LOW_SECONDS', 20),
    sites: 20,
    sampleEvery: 4,
  };
  const brokers = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const amqpUrl = env.AMQP_URL ?? 'amqp://127.0.0.1:5672';
  const influx = influxConfig({ url: (env.INFLUX_URL ?? 'http://127.0.0.1:8086').replace(/\/+$/, '') });
  const logger = createLogger({ service: 'bench', level: 'error' });
  const kafka = createKafka(
    {
      KAFKA_BROKERS: brokers.split(','),
      KAFKA_CLIENT_ID: 'gridstream-bench',
      KAFKA_SSL: false,
      KAFKA_TOPIC_RAW: 'unused',
      KAFKA_TOPIC_PARSED: 'unused',
      KAFKA_TOPIC_DLQ: 'unused',
      KAFKA_TOPIC_PARTITIONS: partitions,
      KAFKA_REPLICATION_FACTOR: 1,
      KAFKA_CREATE_TOPICS: true,
    },
    logger,
  );
  const logDir = join(RESULTS_DIR, 'logs', runId);
  const profileDir = env.BENCH_CPU_PROF === '1' ? join(RESULTS_DIR, 'profiles', runId) : undefined;
  mkdirSync(logDir, { recursive: true });
  const overrides = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => TUNING.test(k) && v !== undefined),
  ) as Record<string, string>;

  const facts = await machineFacts(amqpFor(amqpUrl, 'unused'), influx.url);
  const loadBefore = load1();
  const say = (text: string) => process.stdout.write(`${text}\n`);
  say(
    `gridstream bench ${runId}: ${facts.cores} cores, Node ${facts.node}, Kafka ${facts.kafka}, RabbitMQ ${facts.rabbitmq}, InfluxDB ${facts.influxdb}; load ${formatNumber(loadBefore)}`,
  );
  if (loadBefore >= 1) {
    say(
      `warning: 1-minute load average is ${formatNumber(loadBefore)}; other work on this machine will lower the figures`,
    );
  }

  const generatedAt = Date.now();
  const { messages, recordsPerMessage } = await generateMessages(
    total,
    siteIds(20),
    Date.UTC(2026, 0, 1),
    1_000,
  );
  const ctx: BenchContext = {
    runId,
    kafka,
    logger,
    influx,
    amqpUrl,
    partitions,
    messages,
    recordsPerMessage,
    serviceEnv: {
      KAFKA_BROKERS: brokers,
      AMQP_URL: amqpUrl,
      INFLUX_URL: influx.url,
      // The generated sites are in Korea, like the reference gateway: their wall-clock stamps are KST.
      PARSER_DEFAULT_TIMEZONE: env.PARSER_DEFAULT_TIMEZONE ?? 'Asia/Seoul',
      KAFKA_TOPIC_PARTITIONS: String(partitions),
      // Node flags for the services only (heap caps, say); the bench itself holds every record in memory.
      ...(env.BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: env.BENCH_SERVICE_NODE_OPTIONS } : {}),
    },
    logDir,
    profileDir,
    memory: [],
    details: [],
    cores: facts.cores,
    servers: serverProcesses(),
  };
  ctx.details.push(
    `generated ${total} messages (${recordsPerMessage} records each, 20 sites, ms timestamps) in ${formatNumber((Date.now() - generatedAt) / 1000)} s`,
  );

  const rows: ResultRow[] = [];
  const errors: string[] = [];
  const step = async <T>(name: string, metric: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!steps.has(name)) return undefined;
    const t0 = Date.now();
    say(`- ${name}…`);
    try {
      const result = await run();
      say(`  ${name} done in ${formatNumber((Date.now() - t0) / 1000)} s`);
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors.push(`${name}: ${message}`);
      rows.push({ metric, unit: '', error: message });
      say(`  ${name} FAILED: ${message}`);
      return undefined;
    }
  };

  // 1. Bare JSON.parse, one core, nothing else running.
  const baselines = await step('json', 'bare JSON.parse', async (): Promise<JsonBaselines> => {
    const samplePath =
      env.BENCH_SAMPLE_JSON ?? join(REPO_ROOT, '..', 'shared', 'reference', 'microgrid', 'sample.json');
    const sampleText = referenceSampleText(samplePath);
    const texts = messages.slice(0, 200).map((m) => m.body.toString('utf8'));
    const generated = jsonParseRate(texts);
    const sample = sampleText === undefined ? undefined : jsonParseRate([sampleText]);
    if (sample !== undefined) {
      rows.push({
        metric: 'bare JSON.parse, reference sample.json (0x08 stripped)',
        unit: 'msg/s',
        value: sample,
      });
    } else {
      ctx.details.push(
        `json: ${samplePath} not found; the parser is compared with the generated messages only`,
      );
    }
    rows.push({ metric: 'bare JSON.parse, the generated messages', unit: 'msg/s', value: generated });
    ctx.details.push(
      `json: one core, 3 s after 1 s warm-up; sample.json is ${sampleText?.length ?? '?'} chars (pretty-printed), generated messages ~${texts[0]?.length} chars (compact)`,
    );
    return sample === undefined ? { generated } : { sample, generated };
  });

  // 2. Parser, then 3. the writer on exactly the records the parser produced.
  let parsed: { topic: string; records: OutMessage[] } | undefined;
  const parserMark = cleanupMark();
  await step('parser', 'parser throughput', async () => {
    const result = await parserStep(
      ctx,
      baselines ?? { generated: jsonParseRate(messages.slice(0, 200).map((m) => m.body.toString('utf8'))) },
    );
    rows.push(...result.rows);
    parsed = { topic: result.parsedTopic, records: result.parsed };
  });
  await step('writer', 'influx-writer throughput', async () => {
    if (!parsed) throw new Error('needs the parser step’s output, which failed');
    rows.push(...(await writerStep(ctx, parsed.topic, parsed.records)));
  });
  // 3a. The Kafka client on the same records: kafkajs against @platformatic/kafka.
  await step('client', 'Kafka client comparison', async () => {
    if (!parsed) throw new Error('needs the parser step’s output, which failed');
    rows.push(...(await clientStep(ctx, parsed.records)));
  });
  parsed = undefined;
  await runCleanupSince(parserMark);

  // 3b. The parser's quality stage on ESS samples: with vs without, same messages, same run.
  await step('quality', 'parser + quality stage', async () =>
    rows.push(
      ...(await qualityStep(ctx, int('BENCH_QUALITY_MESSAGES', 20_000), int('BENCH_QUALITY_ROUNDS', 3))),
    ),
  );

  // 4. Bridge, 5. end-to-end latency with everything running.
  await step('bridge', 'bridge throughput', async () => rows.push(...(await bridgeStep(ctx))));
  const p99At = new Map<number, number>();
  const runLatency = async (opts: typeof e2e) => {
    const result = await latencyStep(ctx, opts);
    const p99 = result.find((r) => r.metric.startsWith('end-to-end latency p99'))?.value;
    if (p99 !== undefined) p99At.set(opts.rate, p99);
    return result;
  };
  await step('e2e', 'end-to-end latency', async () => rows.push(...(await runLatency(e2e))));
  if (lowRate > 0) {
    await step('e2e', `end-to-end latency at ${lowRate} msg/s`, async () =>
      rows.push(...(await runLatency(e2eLow))),
    );
  }
  // 5b. The highest rate whose p99 stays within 1 s: bisection between the two rates above, in steps of
  // BENCH_E2E_SWEEP_STEP, each probe a shorter run of the same kind (its figures go into the details).
  const sweepStep = int('BENCH_E2E_SWEEP_STEP', 100);
  if (lowRate > 0 && steps.has('e2e') && env.BENCH_E2E_SWEEP !== '0') {
    await step('e2e', 'highest end-to-end rate with p99 ≤ 1 s', async () => {
      const within = (rate: number) => (p99At.get(rate) ?? Number.POSITIVE_INFINITY) <= 1_000;
      let good = within(e2e.rate) ? e2e.rate : within(lowRate) ? lowRate : 0;
      let bad = within(e2e.rate) ? Number.POSITIVE_INFINITY : e2e.rate;
      while (good > 0 && bad - good > sweepStep && Number.isFinite(bad)) {
        const rate = Math.round((good + bad) / 2 / sweepStep) * sweepStep;
        if (rate <= good || rate >= bad) break;
        await runLatency({
          ...e2e,
          step: `e2e-${rate}`,
          withTarget: false,
          rate,
          seconds: int('BENCH_E2E_SWEEP_SECONDS', 15),
        });
        ctx.details.push(`e2e sweep: ${rate} msg/s → p99 ${formatNumber(p99At.get(rate) ?? Number.NaN)} ms`);
        if (within(rate)) good = rate;
        else bad = rate;
      }
      rows.push({
        metric: `highest end-to-end rate with p99 ≤ 1 s (probed in steps of ${sweepStep} msg/s)`,
        unit: 'msg/s',
        value: good,
        target: `≥ ${formatNumber(e2e.rate, 0)} msg/s`,
        pass: good >= e2e.rate,
      });
    });
  }

  // 6. Memory of every service process the run started.
  rows.push(...memoryRows(ctx.memory, MEMORY_LIMIT_MIB));

  const profiles: string[] = [];
  if (profileDir) {
    for (const file of readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()) {
      profiles.push(
        profileMarkdown(
          file.replace('.cpuprofile', ''),
          summariseProfile(readProfile(join(profileDir, file))),
        ),
      );
    }
  }

  const cleanupFailures = await runCleanup();
  errors.push(...cleanupFailures.map((f) => `cleanup: ${f}`));
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const settings = [
    `${total} generated messages (reference shape, ${recordsPerMessage} records each) for the throughput steps; topics with ${partitions} partitions.`,
    `End-to-end: ${e2e.rate} msg/s for ${e2e.seconds} s after ${e2e.warmupSeconds} s warm-up, ${e2e.sites} sites, every ${e2e.sampleEvery}th message followed, InfluxDB polled every ${e2e.pollMs} ms` +
      (lowRate > 0
        ? `; again at ${lowRate} msg/s for ${e2eLow.seconds} s (${e2eLow.sites} sites, every ${e2eLow.sampleEvery}th message).`
        : '.'),
    `Logs of the service processes: bench/results/logs/${runId}/.`,
  ];
  const report = markdownReport({
    startedAt,
    seconds,
    facts,
    loadBefore,
    loadAfter: load1(),
    settings,
    overrides,
    rows,
    details: ctx.details,
    memory: ctx.memory,
    errors,
    profiles,
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${report}\n`);

  say('');
  say(textTable(rows));
  say('');
  for (const d of ctx.details) say(`  ${d}`);
  if (errors.length > 0) say(`\n${errors.length} error(s):\n${errors.map((e) => `  ${e}`).join('\n')}`);
  say(`\n${formatNumber(seconds, 0)} s; written bench/results/latest.md`);
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await runCleanup();
    process.exit(1);
  },
);
