import type { InfluxConfig } from '@gridstream/influx';
import type { Kafka } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { CpuMeter, type CpuTarget } from './cpu-meter.js';
import type { GeneratedMessage } from './generator.js';
import type { RunningServiceProcess, ServiceMemory } from './service-process.js';

/** What every step gets: the shared clients, the one set of messages, and where to put logs. */
export interface BenchContext {
  runId: string;
  kafka: Kafka;
  logger: Logger;
  influx: InfluxConfig;
  amqpUrl: string;
  /** Partitions of every topic the run creates: what the services would create (KAFKA_TOPIC_PARTITIONS). */
  partitions: number;
  /** The messages every throughput step uses, generated once. */
  messages: GeneratedMessage[];
  recordsPerMessage: number;
  /** Broker addresses etc. for the service processes; tuning knobs come from the caller's environment. */
  serviceEnv: Record<string, string>;
  logDir: string;
  profileDir: string | undefined;
  /** Memory of every service process the run started, appended as they stop. */
  memory: ServiceMemory[];
  /** Free-form facts a step wants in the report (timings, counts, checks). */
  details: string[];
  cores: number;
  /** Kafka, RabbitMQ and InfluxDB processes, when they run on this machine (CPU accounting). */
  servers: CpuTarget[];
}

/** A CPU meter over the given services, the bench itself and the local servers. */
export function cpuMeter(ctx: BenchContext, services: RunningServiceProcess[] = []): CpuMeter {
  return new CpuMeter([
    ...services.map((s) => ({ label: s.name, pid: s.pid })),
    { label: 'bench', pid: process.pid },
    ...ctx.servers,
  ]);
}

/** One line of the results table. `pass` undefined: the row is information, not a target. */
export interface ResultRow {
  metric: string;
  unit: string;
  baseline?: number;
  baselineLabel?: string;
  value?: number;
  /** What the value is of, when it is not gridstream itself (a candidate library). */
  valueLabel?: string;
  ratio?: number;
  target?: string;
  pass?: boolean;
  error?: string;
}

/** `bench.<run>.<step>.<what>`: unique per run, recognisable as the bench's if a crash leaves one behind. */
export function benchName(ctx: BenchContext, step: string, what: string, sep = '.'): string {
  return ['bench', ctx.runId, step, what].join(sep);
}
