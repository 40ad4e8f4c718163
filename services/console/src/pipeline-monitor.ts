import { consumerLag, type Kafka, type PartitionLag } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { metricNames, parsePrometheusText } from './prometheus-text.js';
import { counterRate, counterTotals, type RateSpec, Ring, rateSpecFor } from './rates.js';

export interface ServiceStatus {
  name: string;
  url: string;
  /** The health server answered at all. */
  up: boolean;
  ready: boolean;
  state?: string;
  checks?: Record<string, { ok: boolean; detail?: string }>;
  error?: string;
  /** Per second, null while unknown (first poll, service down, metric absent). */
  inRate: number | null;
  outRate: number | null;
  outUnit: string;
  /** A source, a sink (from the metrics it exposes) or a stage between them (rates.ts). */
  kind: RateSpec['kind'];
  deadLetterRate: number | null;
}

export interface GroupLag {
  service: string;
  group: string;
  topics: string[];
  partitions: PartitionLag[];
  total: number;
  error?: string;
}

export interface PipelineSnapshot {
  at: string;
  services: ServiceStatus[];
  lag: GroupLag[];
  dlq: { topic: string; size: number | null; error?: string };
}

export interface HistoryPoint {
  /** Unix seconds (uPlot's x unit). */
  t: number;
  rates: Record<string, { in: number | null; out: number | null }>;
  dlqSize: number | null;
  lagTotal: number | null;
}

export interface PipelineMonitorOptions {
  services: Record<string, string>;
  kafka: Kafka;
  groups: { service: string; group: string; topics: string[] }[];
  dlqTopic: string;
  intervalMs: number;
  logger: Logger;
  /** Per-request timeout for a service's health server. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

interface Totals {
  atMs: number;
  spec: RateSpec;
  in?: number;
  out?: number;
  deadLetters?: number;
}

/**
 * Polls every service's health server and Kafka on a timer and keeps the latest snapshot plus one hour
 * of history in memory. Every source is fenced off: a service that is down, slow or answers garbage is
 * shown as such, and Kafka being unreachable leaves the services' part of the page intact.
 */
export class PipelineMonitor {
  private readonly previous = new Map<string, Totals>();
  /** Each service's spec as its last scrape showed it: kept while it is down, so the page keeps its kind. */
  private readonly specs = new Map<string, RateSpec>();
  readonly history: Ring<HistoryPoint>;
  private latest: PipelineSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: PipelineMonitorOptions) {
    this.history = new Ring(Math.ceil(3_600_000 / options.intervalMs));
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.latest = {
      at: new Date().toISOString(),
      services: Object.entries(options.services).map(([name, url]) => ({
        name,
        url,
        up: false,
        ready: false,
        error: 'not polled yet',
        inRate: null,
        outRate: null,
        outUnit: rateSpecFor(name).outUnit,
        kind: rateSpecFor(name).kind,
        deadLetterRate: null,
      })),
      lag: [],
      dlq: { topic: options.dlqTopic, size: null, error: 'not polled yet' },
    };
  }

  start(): void {
    const tick = () => {
      this.polling = this.poll()
        .then(() => undefined)
        .catch((error) => this.options.logger.warn({ err: error }, 'pipeline poll failed'))
        .finally(() => {
          this.polling = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  snapshot(): PipelineSnapshot {
    return this.latest;
  }

  async poll(): Promise<PipelineSnapshot> {
    const [services, lag, dlq] = await Promise.all([
      Promise.all(Object.entries(this.options.services).map(([name, url]) => this.pollService(name, url))),
      this.pollLag(),
      this.pollDlq(),
    ]);
    const at = Date.now();
    this.latest = { at: new Date(at).toISOString(), services, lag, dlq };
    const rates: HistoryPoint['rates'] = {};
    for (const s of services) rates[s.name] = { in: s.inRate, out: s.outRate };
    const lagKnown = lag.filter((g) => g.error === undefined);
    this.history.push({
      t: Math.round(at / 1000),
      rates,
      dlqSize: dlq.size,
      lagTotal: lagKnown.length > 0 ? lagKnown.reduce((sum, g) => sum + g.total, 0) : null,
    });
    return this.latest;
  }

  private async pollService(name: string, url: string): Promise<ServiceStatus> {
    // Until it answers: what it was last time (or what its name says).
    const known = this.specs.get(name) ?? rateSpecFor(name);
    const status: ServiceStatus = {
      name,
      url,
      up: false,
      ready: false,
      inRate: null,
      outRate: null,
      outUnit: known.outUnit,
      kind: known.kind,
      deadLetterRate: null,
    };
    const base = url.replace(/\/+$/, '');
    const timeout = this.options.timeoutMs ?? 2_000;
    const [ready, metrics] = await Promise.allSettled([
      this.fetchImpl(`${base}/healthz/ready`, { signal: AbortSignal.timeout(timeout) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { ready?: boolean; state?: string; checks?: ServiceStatus['checks'] },
      })),
      this.fetchImpl(`${base}/metrics`, { signal: AbortSignal.timeout(timeout) }).then(async (r) => {
        if (!r.ok) throw new Error(`/metrics answered HTTP ${r.status}`);
        return r.text();
      }),
    ]);
    if (ready.status === 'fulfilled') {
      status.up = true;
      status.ready = ready.value.status === 200 && ready.value.body.ready === true;
      if (typeof ready.value.body.state === 'string') status.state = ready.value.body.state;
      if (ready.value.body.checks && typeof ready.value.body.checks === 'object')
        status.checks = ready.value.body.checks;
    } else {
      status.error = describeFetchError(ready.reason);
    }
    if (metrics.status === 'fulfilled') {
      status.up = true;
      const now = Date.now();
      const spec = rateSpecFor(name, metricNames(metrics.value));
      this.specs.set(name, spec);
      status.outUnit = spec.outUnit;
      status.kind = spec.kind;
      const totals: Totals = { atMs: now, spec, ...counterTotals(parsePrometheusText(metrics.value), spec) };
      // Totals of other counters (another service at that address) are no reading to compare with.
      const prev = this.previous.get(name)?.spec === spec ? this.previous.get(name) : undefined;
      const reading = (t: Totals | undefined, key: 'in' | 'out' | 'deadLetters') =>
        t?.[key] === undefined ? undefined : { value: t[key], atMs: t.atMs };
      status.inRate = counterRate(reading(prev, 'in'), reading(totals, 'in'));
      status.outRate = counterRate(reading(prev, 'out'), reading(totals, 'out'));
      status.deadLetterRate = counterRate(reading(prev, 'deadLetters'), reading(totals, 'deadLetters'));
      this.previous.set(name, totals);
    } else {
      // A restarted service starts its counters again; forget the old totals rather than compare.
      this.previous.delete(name);
      status.error ??= describeFetchError(metrics.reason);
    }
    return status;
  }

  private async pollLag(): Promise<GroupLag[]> {
    return Promise.all(
      this.options.groups.map(async ({ service, group, topics }) => {
        try {
          const partitions = await consumerLag(this.options.kafka, group, topics);
          return { service, group, topics, partitions, total: partitions.reduce((s, p) => s + p.lag, 0) };
        } catch (error) {
          return { service, group, topics, partitions: [], total: 0, error: (error as Error).message };
        }
      }),
    );
  }

  private async pollDlq(): Promise<PipelineSnapshot['dlq']> {
    const topic = this.options.dlqTopic;
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      const size = offsets.reduce((sum, o) => sum + Number(BigInt(o.high) - BigInt(o.low)), 0);
      return { topic, size };
    } catch (error) {
      return { topic, size: null, error: (error as Error).message };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

function describeFetchError(reason: unknown): string {
  const error = reason as Error & { cause?: { code?: string; errors?: { code?: string }[] } };
  if (error?.name === 'TimeoutError') return 'no answer (timeout)';
  const code = error?.cause?.code ?? error?.cause?.errors?.[0]?.code;
  if (code) return `unreachable (${code})`;
  return error?.message ?? String(reason);
}
