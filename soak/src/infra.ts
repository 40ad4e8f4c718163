import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, TcpProxy } from '@gridstream/testkit';
import { SoakMosquitto } from './mosquitto.js';

const run = promisify(execFile);
const LOCAL = join(REPO_ROOT, 'deploy', 'local');

/**
 * In the environment of every process the soak starts itself (services, Mosquitto), so that a later run can
 * find and kill what a crashed one left running (stack.ts, killLeftoverServices).
 */
export const SOAK_MARKER = 'GRIDSTREAM_SOAK_SERVICE';

/** The soak's own servers, beside any local stack (own ports, data and pid files). */
export const SOAK_PORTS = {
  kafka: 29092, // nodes 1..3 on 29092..29094, controllers on 29192..29194
  amqp: 26672,
  /**
   * RabbitMQ's Erlang distribution port, set explicitly: the default (AMQP + 20000 = 46672) lies in Linux's
   * ephemeral range (32768–60999), where any outgoing connection may hold it, and rabbitmq.sh then refuses
   * to start (a short soak in CI died so).
   */
  amqpDist: 26673,
  influx: 28086,
  influxRpc: 28088,
  moto: 25055,
  /** The archiver talks to S3 through this forwarder, which can refuse connections without moto losing its data. */
  s3: 25056,
  modbus: 25020,
  opcua: 24840,
  mqtt: 21883,
} as const;

export const KAFKA_NODES = 3;

const env = {
  KAFKA_CLUSTER_NAME: 'soak',
  KAFKA_CLUSTER_NODES: String(KAFKA_NODES),
  KAFKA_CLUSTER_PORT: String(SOAK_PORTS.kafka),
  KAFKA_CLUSTER_HEAP_OPTS: '-Xms128m -Xmx384m',
  RABBITMQ_INSTANCE: 'soak',
  AMQP_PORT: String(SOAK_PORTS.amqp),
  RABBITMQ_DIST_PORT: String(SOAK_PORTS.amqpDist),
  RABBITMQ_MANAGEMENT_PORT: '0',
  INFLUX_INSTANCE: 'soak',
  INFLUX_PORT: String(SOAK_PORTS.influx),
  INFLUX_RPC_PORT: String(SOAK_PORTS.influxRpc),
  MOTO_INSTANCE: 'soak',
  MOTO_PORT: String(SOAK_PORTS.moto),
};

async function script(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(join(LOCAL, name), args, {
    env: { ...process.env, ...env },
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

/**
 * Starting, stopping, killing and freezing the soak's servers, always through the project's own scripts
 * (deploy/local), which find their processes by pid file, never by name.
 */
export class SoakInfra {
  proxy!: TcpProxy;
  readonly mosquitto = new SoakMosquitto(
    SOAK_PORTS.mqtt,
    join(process.env.GRIDSTREAM_HOME ?? join(REPO_ROOT, '.local'), 'mosquitto-soak'),
    { [SOAK_MARKER]: '1' },
  );

  get brokers(): string[] {
    return Array.from({ length: KAFKA_NODES }, (_, i) => `127.0.0.1:${SOAK_PORTS.kafka + i}`);
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${SOAK_PORTS.amqp}`;
  }

  get mqttUrl(): string {
    return this.mosquitto.url;
  }

  get influxUrl(): string {
    return `http://127.0.0.1:${SOAK_PORTS.influx}`;
  }

  /** What the archiver uses: the forwarder in front of moto. */
  get s3Url(): string {
    return `http://127.0.0.1:${SOAK_PORTS.s3}`;
  }

  /** Fresh servers: the cluster and the instances are wiped first, so every run starts from nothing. */
  async up(): Promise<void> {
    await this.down().catch(() => undefined);
    await script('kafka-cluster.sh', 'wipe');
    const home = process.env.GRIDSTREAM_HOME ?? join(REPO_ROOT, '.local');
    for (const dir of ['influxdb-soak', 'rabbitmq-soak'])
      rmSync(join(home, dir), { recursive: true, force: true });
    await script('kafka-cluster.sh', 'up');
    await script('rabbitmq.sh', 'start');
    await script('influxdb.sh', 'start');
    await script('moto.sh', 'start');
    await this.mosquitto.up();
    await script('rabbitmq.sh', 'wait');
    await script('influxdb.sh', 'wait');
    await script('moto.sh', 'wait');
    this.proxy = await TcpProxy.start(SOAK_PORTS.s3, { host: '127.0.0.1', port: SOAK_PORTS.moto });
  }

  async down(): Promise<void> {
    await this.proxy?.close();
    await this.mosquitto.stop();
    for (const [name, ...args] of [
      ['kafka-cluster.sh', 'down'],
      ['rabbitmq.sh', 'stop'],
      ['influxdb.sh', 'stop'],
      ['moto.sh', 'stop'],
    ] as const) {
      await script(name, ...args).catch(() => undefined);
    }
  }

  // Kafka
  killBroker(node: number): Promise<string> {
    return script('kafka-cluster.sh', 'kill', String(node));
  }
  startBroker(node: number): Promise<string> {
    return script('kafka-cluster.sh', 'start', String(node));
  }
  async leaderOf(topic: string, partition: number): Promise<number> {
    return Number(await script('kafka-cluster.sh', 'leader', topic, String(partition)));
  }
  async controller(): Promise<number> {
    return Number(await script('kafka-cluster.sh', 'controller'));
  }

  // RabbitMQ
  async restartRabbit(): Promise<void> {
    await script('rabbitmq.sh', 'stop');
    await script('rabbitmq.sh', 'start');
    await script('rabbitmq.sh', 'wait');
  }

  // Mosquitto: stopped with SIGTERM (its persistence written), started again after `downMs`.
  restartMqtt(downMs: number): Promise<void> {
    return this.mosquitto.restart(downMs);
  }

  // InfluxDB
  stopInflux(): Promise<string> {
    return script('influxdb.sh', 'stop');
  }
  async startInflux(): Promise<void> {
    await script('influxdb.sh', 'start');
    await script('influxdb.sh', 'wait');
  }
  async signalInflux(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    process.kill(Number(await script('influxdb.sh', 'pid')), signal);
  }

  // S3
  refuseS3(): Promise<void> {
    return this.proxy.refuse();
  }
  acceptS3(): Promise<void> {
    return this.proxy.accept();
  }
  async signalMoto(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    process.kill(Number(await script('moto.sh', 'pid')), signal);
  }
}
