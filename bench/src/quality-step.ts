import { join } from 'node:path';
import type { OutMessage } from '@gridstream/kafka';
import { RAW_HEADER } from '@gridstream/schema';
import { cleanupMark, runCleanupSince } from './cleanup.js';
import { type BenchContext, benchName, cpuMeter, type ResultRow } from './context.js';
import { freshTopics, parsedRecordCount, produceAll, timeDrain, topicSize } from './kafka-steps.js';
import { REPO_ROOT } from './paths.js';
import { spawnService } from './service-process.js';
import { formatNumber } from './stats.js';

/**
 * The parser with its quality stage (sample/quality/ess-protection.yaml: the ESS profile's ranges, stale
 * and rate-of-change checks, the seven protection alarms) against the parser alone, on the same ESS
 * samples.v1 messages in the same run. The stage's cost is per field and per record, so this uses the
 * records it is written for: a bank and 8 racks per poll, 137 fields.
 */

export const QUALITY_CONFIG_PATH = join(REPO_ROOT, 'sample', 'quality', 'ess-protection.yaml');
const RACK_FIELDS = 16;
export const ESS_RECORDS_PER_MESSAGE = 9;

/** Deterministic pseudo-random in [0, 1): the same messages in every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * One poll per message, one site per key, 1 s apart per site. Cell temperatures of one site in twenty
 * drift through the warning and fault thresholds, so alarm episodes are raised and cleared during the run.
 */
export function essMessages(total: number, sites: number, start: number): OutMessage[] {
  const random = rng(42);
  const out: OutMessage[] = [];
  const receivedAt = new Date().toISOString();
  for (let i = 0; i < total; i++) {
    const siteIndex = i % sites;
    const site = `ess-${String(siteIndex + 1).padStart(3, '0')}`;
    const step = Math.floor(i / sites);
    const ts = new Date(start + step * 1000).toISOString();
    const hot = siteIndex % 20 === 0 ? 20 * Math.sin(step / 30) : 0;
    const samples: unknown[] = [];
    const current = (random() - 0.5) * 200;
    samples.push({
      site,
      equipment: 'battery',
      device: 'bank',
      ts,
      fields: {
        soc: 50 + random() * 10,
        soh: 98.5,
        voltage: 800 + random() * 20,
        current,
        max_cell_voltage: 3.9 + random() * 0.05,
        min_cell_voltage: 3.75 + random() * 0.05,
        max_cell_temperature: 32 + hot + random(),
        min_cell_temperature: 24 + random(),
        power: current * 0.8,
      },
    });
    for (let rack = 1; rack <= 8; rack++) {
      const max = 3.9 + random() * 0.05;
      const min = 3.75 + random() * 0.05;
      const tMax = 31 + (rack === 1 ? hot : 0) + random();
      const tMin = 24 + random();
      const fields: Record<string, number> = {
        soc: 50 + random() * 10,
        soh: 98,
        voltage: 100 + random() * 3,
        current: current / 8,
        max_cell_voltage: max,
        max_cell_voltage_position: Math.floor(random() * 200),
        min_cell_voltage: min,
        min_cell_voltage_position: Math.floor(random() * 200),
        cell_voltage_gap: max - min,
        cell_voltage_average: (max + min) / 2,
        max_cell_temperature: tMax,
        max_cell_temperature_position: Math.floor(random() * 60),
        min_cell_temperature: tMin,
        min_cell_temperature_position: Math.floor(random() * 60),
        cell_temperature_gap: tMax - tMin,
        cell_temperature_average: (tMax + tMin) / 2,
      };
      if (Object.keys(fields).length !== RACK_FIELDS) throw new Error('rack fields changed');
      samples.push({ site, equipment: 'battery', device: 'bank', rack: String(rack), ts, fields });
    }
    out.push({
      key: site,
      value: JSON.stringify({ v: 1, samples }),
      headers: {
        [RAW_HEADER.schema]: 'samples.v1',
        [RAW_HEADER.source]: 'bench://quality',
        [RAW_HEADER.receivedAt]: receivedAt,
        [RAW_HEADER.messageId]: `bench-ess-${i}`,
      },
    });
  }
  return out;
}

interface Run {
  recordsPerSecond: number;
  seconds: number;
  alarms: number;
}

async function drainOnce(
  ctx: BenchContext,
  label: string,
  raw: string,
  total: number,
  quality: boolean,
): Promise<Run> {
  const parsed = benchName(ctx, label, 'parsed');
  const dlq = benchName(ctx, label, 'dlq');
  const alarms = benchName(ctx, label, 'alarms');
  const group = benchName(ctx, label, 'group');
  await freshTopics(ctx.kafka, [parsed, dlq, alarms], ctx.partitions, [group]);
  const parser = await spawnService('parser', {
    step: label,
    logDir: ctx.logDir,
    profileDir: ctx.profileDir,
    env: {
      ...ctx.serviceEnv,
      KAFKA_TOPIC_RAW: raw,
      KAFKA_TOPIC_PARSED: parsed,
      KAFKA_TOPIC_DLQ: dlq,
      KAFKA_TOPIC_ALARMS: alarms,
      PARSER_GROUP_ID: group,
      ...(quality ? { QUALITY_CONFIG: QUALITY_CONFIG_PATH } : {}),
    },
  });
  let timing: Awaited<ReturnType<typeof timeDrain>>;
  try {
    timing = await timeDrain(ctx.kafka, group, raw, total, parser, {
      cpu: cpuMeter(ctx, [parser]),
      cores: ctx.cores,
    });
  } finally {
    ctx.memory.push(await parser.stop());
  }
  const produced = await parsedRecordCount(ctx.kafka, parsed, benchName(ctx, label, 'reader'));
  const deadLetters = await topicSize(ctx.kafka, dlq);
  if (produced !== total * ESS_RECORDS_PER_MESSAGE || deadLetters !== 0) {
    throw new Error(
      `${label}: ${produced} records and ${deadLetters} dead letters; expected ${total * ESS_RECORDS_PER_MESSAGE} and 0`,
    );
  }
  return {
    recordsPerSecond: timing.perSecond * ESS_RECORDS_PER_MESSAGE,
    seconds: timing.seconds,
    alarms: await topicSize(ctx.kafka, alarms),
  };
}

/**
 * Parser alone, then parser + quality, each draining the same preloaded raw topic with its own consumer
 * group; `rounds` pairs, alternating, and the best of each side (the least disturbed by the machine).
 */
export async function qualityStep(ctx: BenchContext, total: number, rounds = 3): Promise<ResultRow[]> {
  const mark = cleanupMark();
  try {
    const raw = benchName(ctx, 'quality', 'raw');
    await freshTopics(ctx.kafka, [raw], ctx.partitions);
    const messages = essMessages(total, 20, Date.UTC(2026, 0, 1));
    await produceAll(ctx.kafka, ctx.logger, raw, messages);
    const alone: Run[] = [];
    const withQuality: Run[] = [];
    for (let round = 1; round <= rounds; round++) {
      alone.push(await drainOnce(ctx, `quality-off-${round}`, raw, total, false));
      withQuality.push(await drainOnce(ctx, `quality-on-${round}`, raw, total, true));
    }
    const best = (runs: Run[]) => runs.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
    const a = best(alone);
    const q = best(withQuality);
    ctx.details.push(
      `quality: ${total} ESS messages (${ESS_RECORDS_PER_MESSAGE} records, 137 fields each, 20 sites); parser alone ` +
        alone.map((r) => `${formatNumber(r.recordsPerSecond, 0)}`).join(' / ') +
        ' records/s, with the quality stage ' +
        withQuality.map((r) => `${formatNumber(r.recordsPerSecond, 0)}`).join(' / ') +
        ` records/s; ${q.alarms} alarm events per run (sample/quality/ess-protection.yaml)`,
    );
    return [
      { metric: 'parser alone, ESS samples', unit: 'records/s', value: a.recordsPerSecond },
      {
        metric: 'parser + quality stage (ESS profile ranges, protection alarms)',
        unit: 'records/s',
        baseline: a.recordsPerSecond,
        baselineLabel: 'parser alone, same messages',
        value: q.recordsPerSecond,
        ratio: q.recordsPerSecond / a.recordsPerSecond,
        target: '≥ 80% of the parser alone',
        pass: q.recordsPerSecond / a.recordsPerSecond >= 0.8,
      },
    ];
  } finally {
    await runCleanupSince(mark);
  }
}
