import { readdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { type AmqpConfig, openConnection } from '@gridstream/amqp';
import { REPO_ROOT } from './paths.js';

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kafka: string;
  rabbitmq: string;
  influxdb: string;
}

/**
 * Kafka's protocol does not report the broker version; the local install (deploy/local/kafka.sh) keeps
 * the broker jars under .local/kafka/libs, whose names carry it. BENCH_KAFKA_VERSION overrides.
 */
function kafkaVersion(): string {
  if (process.env.BENCH_KAFKA_VERSION) return process.env.BENCH_KAFKA_VERSION;
  try {
    const jar = readdirSync(join(REPO_ROOT, '.local', 'kafka', 'libs')).find((f) =>
      /^kafka-server-\d/.test(f),
    );
    const version = jar?.match(/^kafka-server-(.+)\.jar$/)?.[1];
    if (version) return `${version} (KRaft)`;
  } catch {
    // not the local install
  }
  return 'unknown';
}

async function rabbitVersion(amqp: AmqpConfig): Promise<string> {
  try {
    const connection = await openConnection(amqp.connection, 'gridstream-bench-facts');
    const props = (connection as unknown as { connection: { serverProperties?: Record<string, unknown> } })
      .connection.serverProperties;
    await connection.close();
    return String(props?.version ?? 'unknown');
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

async function influxVersion(url: string): Promise<string> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.headers.get('x-influxdb-version') ?? 'unknown';
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

export async function machineFacts(amqp: AmqpConfig, influxUrl: string): Promise<MachineFacts> {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka: kafkaVersion(),
    rabbitmq: await rabbitVersion(amqp),
    influxdb: await influxVersion(influxUrl),
  };
}

/** 1-minute load average: above ~1 on this 2-core machine, other work is competing with the run. */
export function load1(): number {
  return loadavg()[0]!;
}
