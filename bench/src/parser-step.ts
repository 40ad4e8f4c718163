import type { OutMessage } from '@gridstream/kafka';
import { decodeParsedMessage, RAW_HEADER } from '@gridstream/schema';
import { cleanupMark, runCleanupSince } from './cleanup.js';
import { type BenchContext, benchName, cpuMeter, type ResultRow } from './context.js';
import { describeCpu } from './cpu-meter.js';
import { freshTopics, produceAll, readTopic, timeDrain, topicSize } from './kafka-steps.js';
import { describeServiceMetrics } from './service-metrics.js';
import { spawnService } from './service-process.js';
import { formatNumber } from './stats.js';

export interface ParserStepResult {
  rows: ResultRow[];
  /**
   * The parser's output topic, left in place for the writer step (its deletion is registered outside this
   * step's cleanup): the writer then drains exactly the records the parser produced, as they lie in Kafka.
   */
  parsedTopic: string;
  /** The same records read back (key + JSON value), for the raw InfluxDB baseline's lines. */
  parsed: OutMessage[];
}

export interface JsonBaselines {
  /** Reference sample.json, when the reference folder is there. */
  sample?: number;
  /** The generated messages the parser reads in this run. */
  generated: number;
}

/** Raw messages as the bridge writes them: payload unchanged, keyed by site, with the raw headers. */
export function rawMessages(ctx: BenchContext, source: string): OutMessage[] {
  const receivedAt = new Date().toISOString();
  return ctx.messages.map((m, i) => ({
    key: m.site,
    value: m.body,
    headers: {
      [RAW_HEADER.schema]: 'microgrid.v1',
      [RAW_HEADER.source]: source,
      [RAW_HEADER.receivedAt]: receivedAt,
      [RAW_HEADER.messageId]: `bench-${i}`,
    },
  }));
}

/**
 * Parser throughput through real Kafka: the raw topic is preloaded with every message, then the parser
 * process drains it; timed from its first commit to lag 0 (see timeDrain).
 */
export async function parserStep(ctx: BenchContext, baselines: JsonBaselines): Promise<ParserStepResult> {
  const parsedTopic = benchName(ctx, 'parser', 'parsed');
  await freshTopics(ctx.kafka, [parsedTopic], ctx.partitions);
  const mark = cleanupMark();
  try {
    const raw = benchName(ctx, 'parser', 'raw');
    const dlq = benchName(ctx, 'parser', 'dlq');
    const group = benchName(ctx, 'parser', 'group');
    const total = ctx.messages.length;
    const expectedRecords = total * ctx.recordsPerMessage;
    await freshTopics(ctx.kafka, [raw, dlq], ctx.partitions, [group]);

    const preloadStart = Date.now();
    await produceAll(ctx.kafka, ctx.logger, raw, rawMessages(ctx, 'bench://parser'));
    const bytes = ctx.messages.reduce((n, m) => n + m.body.length, 0);
    ctx.details.push(
      `parser: preloaded ${total} raw messages (${formatNumber(bytes / total, 0)} bytes each) in ${formatNumber((Date.now() - preloadStart) / 1000)} s`,
    );

    const parser = await spawnService('parser', {
      step: 'parser',
      logDir: ctx.logDir,
      profileDir: ctx.profileDir,
      env: {
        ...ctx.serviceEnv,
        KAFKA_TOPIC_RAW: raw,
        KAFKA_TOPIC_PARSED: parsedTopic,
        KAFKA_TOPIC_DLQ: dlq,
        PARSER_GROUP_ID: group,
      },
    });
    let timing: Awaited<ReturnType<typeof timeDrain>>;
    try {
      timing = await timeDrain(ctx.kafka, group, raw, total, parser, {
        cpu: cpuMeter(ctx, [parser]),
        cores: ctx.cores,
      });
    } finally {
      ctx.details.push(...(await describeServiceMetrics('parser', parser)));
      ctx.memory.push(await parser.stop());
    }

    // Every message the parser wrote, read back; the records they carry are counted (format v2 holds a raw
    // message's records in one Kafka message, docs/messages.md).
    const messages = await topicSize(ctx.kafka, parsedTopic);
    const parsed = await readTopic(ctx.kafka, parsedTopic, messages, benchName(ctx, 'parser', 'reader'));
    const produced = parsed.reduce((n, m) => n + decodeParsedMessage(m.value).length, 0);
    const deadLetters = await topicSize(ctx.kafka, dlq);
    ctx.details.push(
      `parser: ${timing.counted} messages in ${formatNumber(timing.seconds)} s after the first commit; ` +
        `${produced} records produced in ${parsed.length} Kafka messages (expected ${expectedRecords} records), ${deadLetters} dead letters`,
    );
    if (timing.cpu)
      ctx.details.push(`parser: CPU in that window (share of one core): ${describeCpu(timing.cpu)}`);
    if (produced !== expectedRecords || deadLetters !== 0) {
      throw new Error(
        `parser produced ${produced} records and ${deadLetters} dead letters; expected ${expectedRecords} and 0`,
      );
    }

    const perSecond = timing.perSecond;
    const rows: ResultRow[] = [];
    // The baseline is the reference message; the generated messages are what the parser actually
    // read here (compact, about a third of the reference's bytes), so the ratio against them is shown too.
    const against = [
      ...(baselines.sample === undefined
        ? []
        : [{ label: 'JSON.parse of sample.json', rate: baselines.sample }]),
      { label: 'JSON.parse of the same messages', rate: baselines.generated },
    ];
    for (const [i, b] of against.entries()) {
      rows.push({
        metric:
          i === 0 ? 'parser throughput (Kafka → Kafka)' : '  same, vs JSON.parse of the messages it read',
        unit: 'msg/s',
        baseline: b.rate,
        baselineLabel: b.label,
        value: perSecond,
        ratio: perSecond / b.rate,
        target: '≥ 30% of bare JSON.parse',
        pass: perSecond / b.rate >= 0.3,
      });
    }
    rows.push({ metric: 'parser records', unit: 'records/s', value: perSecond * ctx.recordsPerMessage });
    return { parsedTopic, parsed, rows };
  } finally {
    await runCleanupSince(mark);
  }
}
