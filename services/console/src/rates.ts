import { type MetricSample, sumMetric } from './prometheus-text.js';

/**
 * Which counters mean "messages in" and "messages out" for a service. Chosen from what the service's
 * `/metrics` declares, not from its name: every source on the source seam (packages/source: the
 * collectors, the console's imports) counts `gridstream_source_messages_total`, every sink on the sink seam
 * (packages/sink: the InfluxDB, PostgreSQL and OpenTSDB writers) `gridstream_sink_points_total`, so a new
 * collector or database gets its rates here without a line of code. Only the pipeline's own stages, whose
 * counters are their own, are named (their *-service.ts). Anything else shows the generic consumer counter
 * as its input.
 */
export interface RateSpec {
  /** What the service is: what the page charts for it (a source's and a sink's output too). */
  kind: 'source' | 'sink' | 'stage';
  in: string[];
  out: string[];
  outUnit: string;
}

/** Every sink counts the same way: messages consumed in, points the database accepted out. */
export const SINK_RATES: RateSpec = {
  kind: 'sink',
  in: ['gridstream_consumer_messages_total'],
  out: ['gridstream_sink_points_total'],
  outUnit: 'points/s',
};

/** Every source counts the same way: samples.v1 messages handed on (spooled, or acknowledged) out. */
export const SOURCE_RATES: RateSpec = {
  kind: 'source',
  in: [],
  out: ['gridstream_source_messages_total'],
  outUnit: 'msg/s',
};

/** The stages between the seams, by service name. */
export const STAGE_RATES: Record<string, RateSpec> = {
  bridge: {
    kind: 'stage',
    in: ['gridstream_bridge_messages_forwarded_total', 'gridstream_dead_letters_total'],
    out: ['gridstream_bridge_messages_forwarded_total'],
    outUnit: 'msg/s',
  },
  parser: {
    kind: 'stage',
    in: ['gridstream_parser_messages_total'],
    out: ['gridstream_parser_records_total'],
    outUnit: 'records/s',
  },
  archiver: {
    kind: 'stage',
    in: ['gridstream_consumer_messages_total'],
    out: ['gridstream_archiver_rows_total'],
    outUnit: 'rows/s',
  },
};

const GENERIC: RateSpec = {
  kind: 'stage',
  in: ['gridstream_consumer_messages_total'],
  out: [],
  outUnit: 'msg/s',
};

/**
 * The spec of a service: a sink or a source when its scrape declares the seam's counter (a `# TYPE` line
 * is enough: a sink that has not written yet, a collector whose device has not answered yet), else its
 * stage's by name, else the generic one. Without a scrape yet (`declared` undefined): by name only.
 */
export function rateSpecFor(service: string, declared?: ReadonlySet<string>): RateSpec {
  if (declared?.has('gridstream_sink_points_total')) return SINK_RATES;
  if (declared?.has('gridstream_source_messages_total')) return SOURCE_RATES;
  return STAGE_RATES[service] ?? GENERIC;
}

/** Totals of the spec's counters in one scrape; undefined where the service exposes none of them. */
export function counterTotals(
  samples: readonly MetricSample[],
  spec: RateSpec,
): { in?: number; out?: number; deadLetters?: number } {
  const total = (names: string[]) => {
    let sum: number | undefined;
    for (const name of names) {
      const v = sumMetric(samples, name);
      if (v !== undefined) sum = (sum ?? 0) + v;
    }
    return sum;
  };
  const out: { in?: number; out?: number; deadLetters?: number } = {};
  const inTotal = total(spec.in);
  const outTotal = total(spec.out);
  const dead = sumMetric(samples, 'gridstream_dead_letters_total');
  if (inTotal !== undefined) out.in = inTotal;
  if (outTotal !== undefined) out.out = outTotal;
  if (dead !== undefined) out.deadLetters = dead;
  return out;
}

/**
 * Per-second rate between two readings of a counter. A counter that went down means the service
 * restarted (counters start from 0 again): the new value is then the increase since the restart, the
 * best estimate there is — never a negative rate. Missing readings give `null` (unknown), not 0.
 */
export function counterRate(
  previous: { value: number; atMs: number } | undefined,
  current: { value: number; atMs: number } | undefined,
): number | null {
  if (previous === undefined || current === undefined) return null;
  const seconds = (current.atMs - previous.atMs) / 1000;
  if (!(seconds > 0)) return null;
  const increase = current.value >= previous.value ? current.value - previous.value : current.value;
  return increase / seconds;
}

/** Fixed-size ring of samples; the oldest is overwritten once full (1 h at the poll interval). */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('ring capacity must be at least 1');
    this.items = new Array(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }

  get length(): number {
    return this.size;
  }
}
