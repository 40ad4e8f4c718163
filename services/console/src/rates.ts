import { type MetricSample, sumMetric } from './prometheus-text.js';

/**
 * Which counters mean "messages in" and "messages out" for each service (the names are the services'
 * own, see their *-service.ts / collector-metrics.ts). A service not listed shows the generic consumer
 * counter as its input, so a new consumer service still gets a rate without a code change here.
 */
export interface RateSpec {
  in: string[];
  out: string[];
  outUnit: string;
}

/** Every sink (packages/sink) counts the same way: messages consumed in, points the database accepted out. */
const SINK: RateSpec = {
  in: ['gridstream_consumer_messages_total'],
  out: ['gridstream_sink_points_total'],
  outUnit: 'points/s',
};

export const SERVICE_RATES: Record<string, RateSpec> = {
  bridge: {
    in: ['gridstream_bridge_messages_forwarded_total', 'gridstream_dead_letters_total'],
    out: ['gridstream_bridge_messages_forwarded_total'],
    outUnit: 'msg/s',
  },
  parser: {
    in: ['gridstream_parser_messages_total'],
    out: ['gridstream_parser_records_total'],
    outUnit: 'records/s',
  },
  'influx-writer': SINK,
  'timescale-writer': SINK,
  'opentsdb-writer': SINK,
  archiver: {
    in: ['gridstream_consumer_messages_total'],
    out: ['gridstream_archiver_rows_total'],
    outUnit: 'rows/s',
  },
  'modbus-collector': { in: [], out: ['gridstream_modbus_messages_produced_total'], outUnit: 'msg/s' },
  'opcua-collector': { in: [], out: ['gridstream_opcua_messages_total'], outUnit: 'msg/s' },
};

const GENERIC: RateSpec = { in: ['gridstream_consumer_messages_total'], out: [], outUnit: 'msg/s' };

export function rateSpecFor(service: string): RateSpec {
  return SERVICE_RATES[service] ?? GENERIC;
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
