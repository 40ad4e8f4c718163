import { countPoints, createTestDatabase, type InfluxConfig, recordToLine } from '@gridstream/influx';
import type { OutMessage } from '@gridstream/kafka';
import { decodeParsedMessage } from '@gridstream/schema';
import { cleanupMark, onCleanup, runCleanupSince } from './cleanup.js';
import { type BenchContext, benchName, cpuMeter, type ResultRow } from './context.js';
import { describeCpu } from './cpu-meter.js';
import { freshTopics, timeDrain, topicSize } from './kafka-steps.js';
import { describeServiceMetrics } from './service-metrics.js';
import { spawnService } from './service-process.js';
import { formatNumber } from './stats.js';
import { runTelegraf } from './telegraf-step.js';

/** The line protocol the writer makes of each parsed record (same function, same order). */
export function linesOf(parsed: OutMessage[]): string[] {
  const lines: string[] = [];
  for (const m of parsed) {
    for (const record of decodeParsedMessage(m.value)) {
      const line = recordToLine(record);
      if (line !== null) lines.push(line);
    }
  }
  return lines;
}

/**
 * What InfluxDB itself can ingest of these lines: `batchLines`-line POSTs to /write?precision=ms, `inFlight`
 * at a time, bodies joined before the clock starts. No retry, no Kafka: the ceiling for the writer.
 */
export async function rawInfluxRate(
  cfg: InfluxConfig,
  database: string,
  lines: string[],
  batchLines = 5_000,
  inFlight = 4,
): Promise<{ perSecond: number; seconds: number }> {
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += batchLines) bodies.push(lines.slice(i, i + batchLines).join('\n'));
  const url = `${cfg.url}/write?${new URLSearchParams({ db: database, precision: 'ms' })}`;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: bodies[i]!,
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`InfluxDB answered ${response.status}: ${text.slice(0, 300)}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: lines.length / seconds, seconds };
}

/**
 * InfluxDB writer vs raw line-protocol ingest, on the records the parser step produced: first the raw
 * POST rate into one fresh database, then the writer process draining the parser's output topic (fully
 * loaded, untouched since the parser finished; a fresh consumer group) into another; both point counts
 * are checked against the number of distinct lines.
 */
export async function writerStep(
  ctx: BenchContext,
  parsedTopic: string,
  parsed: OutMessage[],
): Promise<ResultRow[]> {
  const lines = linesOf(parsed);
  const details = ctx.details;

  // The raw baseline, in a database of its own that is dropped before the writer runs.
  let raw: { perSecond: number; seconds: number };
  {
    const mark = cleanupMark();
    try {
      const db = await createTestDatabase(ctx.influx, 'gs_bench_raw');
      onCleanup(`drop database ${db.name}`, () => db.drop());
      const cpu = cpuMeter(ctx);
      cpu.start();
      raw = await rawInfluxRate(ctx.influx, db.name, lines);
      const usage = cpu.stop(ctx.cores);
      const stored = await countPoints(ctx.influx, db.name);
      details.push(
        `influx raw: ${lines.length} lines in ${formatNumber(raw.seconds)} s (5,000-line POSTs, 4 in flight); ${stored} points stored`,
      );
      details.push(`influx raw: CPU in that window (share of one core): ${describeCpu(usage)}`);
      if (stored !== lines.length)
        throw new Error(`raw ingest stored ${stored} points of ${lines.length} lines`);
    } finally {
      await runCleanupSince(mark);
    }
  }

  const mark = cleanupMark();
  try {
    const topic = parsedTopic;
    const dlq = benchName(ctx, 'writer', 'dlq');
    const group = benchName(ctx, 'writer', 'group');
    await freshTopics(ctx.kafka, [dlq], ctx.partitions, [group]);
    const db = await createTestDatabase(ctx.influx, 'gs_bench_writer');
    onCleanup(`drop database ${db.name}`, () => db.drop());

    const writer = await spawnService('influx-writer', {
      step: 'writer',
      logDir: ctx.logDir,
      profileDir: ctx.profileDir,
      env: {
        ...ctx.serviceEnv,
        KAFKA_TOPIC_PARSED: topic,
        KAFKA_TOPIC_DLQ: dlq,
        WRITER_GROUP_ID: group,
        // Records only: the shared alarms topics hold other runs' events, which landed in this database as
        // 5 points too many (425,005 of 425,000) once the writer read them too.
        WRITER_ALARMS: 'false',
        INFLUX_DATABASE: db.name,
      },
    });
    let timing: Awaited<ReturnType<typeof timeDrain>>;
    try {
      timing = await timeDrain(ctx.kafka, group, topic, parsed.length, writer, {
        cpu: cpuMeter(ctx, [writer]),
        cores: ctx.cores,
      });
    } finally {
      details.push(...(await describeServiceMetrics('writer', writer)));
      ctx.memory.push(await writer.stop());
    }
    const stored = await countPoints(ctx.influx, db.name);
    const deadLetters = await topicSize(ctx.kafka, dlq);
    details.push(
      `writer: ${timing.counted} Kafka messages (${Math.round((timing.counted * lines.length) / parsed.length)} points) in ${formatNumber(timing.seconds)} s after the first commit; ` +
        `${stored} points stored (expected ${lines.length}), ${deadLetters} dead letters`,
    );
    if (timing.cpu)
      details.push(`writer: CPU in that window (share of one core): ${describeCpu(timing.cpu)}`);
    if (stored !== lines.length || deadLetters !== 0) {
      throw new Error(
        `writer stored ${stored} points and ${deadLetters} dead letters; expected ${lines.length} and 0`,
      );
    }
    // The lag counts Kafka messages; each record is one line, and the messages carry lines.length / parsed.length
    // records each (17 in format v2, 1 in v1), so points/s = messages/s × that.
    const pointsPerSecond = (timing.perSecond * lines.length) / parsed.length;
    const ratio = pointsPerSecond / raw.perSecond;
    const rows: ResultRow[] = [
      {
        metric: 'influx-writer (Kafka → InfluxDB)',
        unit: 'points/s',
        baseline: raw.perSecond,
        baselineLabel: 'raw line-protocol POST',
        value: pointsPerSecond,
        ratio,
        target: '≥ 80% of raw InfluxDB',
        pass: ratio >= 0.8,
      },
    ];

    // Telegraf on the same topic, with the json_v2 mapping docs/messages.md gives third parties.
    try {
      const telegraf = await runTelegraf(ctx, topic, benchName(ctx, 'telegraf', 'group'), lines.length);
      details.push(
        `telegraf: ${telegraf.stored} points stored in ${formatNumber(telegraf.seconds)} s from the first queryable point; ` +
          `peak RSS ${Math.round(telegraf.peakMiB)} MiB (kafka_consumer + json_v2 + influxdb, batch 5,000)`,
        `telegraf: CPU in that window (share of one core): ${describeCpu(telegraf.cpu)}`,
      );
      const vsTelegraf = pointsPerSecond / telegraf.perSecond;
      rows.push({
        metric: 'influx-writer vs Telegraf (same topic, same InfluxDB)',
        unit: 'points/s',
        baseline: telegraf.perSecond,
        baselineLabel: 'Telegraf 1.39',
        value: pointsPerSecond,
        ratio: vsTelegraf,
        target: '≥ 3× Telegraf',
        pass: vsTelegraf >= 3,
      });
    } catch (error) {
      rows.push({
        metric: 'influx-writer vs Telegraf (same topic, same InfluxDB)',
        unit: 'points/s',
        target: '≥ 3× Telegraf',
        pass: false,
        error: (error as Error).message,
      });
    }
    return rows;
  } finally {
    await runCleanupSince(mark);
  }
}
