import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPACTED_TOPIC_CONFIG, createKafka, ensureTopics, type Kafka } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import { REPO_ROOT, ServiceProcess } from '@gridstream/testkit';
import { KAFKA_NODES, SOAK_MARKER, SOAK_PORTS, type SoakInfra } from './infra.js';
import type { SoakProfile } from './profile.js';

/**
 * SIGKILLs services (and the Mosquitto) a former soak left running. A soak killed itself (the kernel's OOM
 * killer, kill -9) cannot stop its services, and they would join the next run's groups on the same ports and
 * topics and falsify its verdict. Returns how many there were.
 */
export function killLeftoverServices(): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.split('\0').includes(`${SOAK_MARKER}=1`)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}

export const TOPICS = {
  raw: 'soak.raw',
  parsed: 'soak.parsed',
  dlq: 'soak.dlq',
  alarms: 'soak.alarms',
} as const;
export const GROUPS = {
  parser: 'soak-parser',
  writer: 'soak-writer',
  archiver: 'soak-archiver',
} as const;
export const PARTITIONS = 6;
export const INFLUX_DB = 'gridstream_soak';
export const BUCKET = 'gridstream-soak';
export const MODBUS_SITE = 'soak-ess';
export const OPCUA_SITE = 'opcua01';
/** The MQTT collector's sites: the simulator's JSON meters (`site/<site>/meter/m1`) and Sparkplug node. */
export const MQTT_SITES = { json: 'soak-mqtt', sparkplug: 'soak-spb' } as const;

/** The services of the soak, by instance name (parser-1, parser-2, …). */
export type Instance =
  | 'parser-1'
  | 'parser-2'
  | 'influx-writer-1'
  | 'influx-writer-2'
  | 'archiver-1'
  | 'archiver-2'
  | 'bridge'
  | 'modbus-collector'
  | 'opcua-collector'
  | 'mqtt-collector'
  | 'simulator';

/**
 * Every gridstream service of the soak as its own process, configured for the soak's servers: two
 * replicas of each consumer group, the bridge, the collectors with their simulators (Modbus, OPC UA, and MQTT
 * devices publishing to the soak's Mosquitto).
 */
export class SoakStack {
  readonly services = new Map<Instance, ServiceProcess>();
  readonly kafka: Kafka;
  readonly spoolDirs: { modbus: string; opcua: string; mqtt: string };

  constructor(
    private readonly infra: SoakInfra,
    private readonly profile: SoakProfile,
    readonly workDir: string,
    logger: Logger,
  ) {
    this.kafka = createKafka(
      {
        KAFKA_BROKERS: infra.brokers,
        KAFKA_CLIENT_ID: 'gridstream-soak',
        KAFKA_SSL: false,
        KAFKA_TOPIC_RAW: TOPICS.raw,
        KAFKA_TOPIC_PARSED: TOPICS.parsed,
        KAFKA_TOPIC_DLQ: TOPICS.dlq,
        KAFKA_TOPIC_PARTITIONS: PARTITIONS,
        KAFKA_REPLICATION_FACTOR: KAFKA_NODES,
        KAFKA_CREATE_TOPICS: true,
      },
      logger,
    );
    this.spoolDirs = {
      modbus: join(workDir, 'spool-modbus'),
      opcua: join(workDir, 'spool-opcua'),
      mqtt: join(workDir, 'spool-mqtt'),
    };
  }

  /** Topics with replication factor 3 and min.insync.replicas 2 (the cluster default). */
  async createTopics(): Promise<void> {
    await ensureTopics(
      this.kafka,
      [TOPICS.raw, TOPICS.parsed, TOPICS.dlq].map((topic) => ({
        topic,
        partitions: PARTITIONS,
        replicationFactor: KAFKA_NODES,
        config: { 'min.insync.replicas': '2' },
      })),
    );
    await ensureTopics(this.kafka, [
      {
        topic: TOPICS.alarms,
        partitions: PARTITIONS,
        replicationFactor: KAFKA_NODES,
        config: { ...COMPACTED_TOPIC_CONFIG, 'min.insync.replicas': '2' },
      },
    ]);
  }

  private common(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.infra.brokers.join(','),
      KAFKA_CLIENT_ID: 'gridstream-soak',
      KAFKA_TOPIC_RAW: TOPICS.raw,
      KAFKA_TOPIC_PARSED: TOPICS.parsed,
      KAFKA_TOPIC_DLQ: TOPICS.dlq,
      KAFKA_TOPIC_ALARMS: TOPICS.alarms,
      KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
      KAFKA_REPLICATION_FACTOR: String(KAFKA_NODES),
      KAFKA_SESSION_TIMEOUT_MS: String(this.profile.sessionTimeoutMs),
      KAFKA_HEARTBEAT_INTERVAL_MS: String(this.profile.heartbeatIntervalMs),
      LOG_LEVEL: 'info',
    };
  }

  private envOf(instance: Instance): Record<string, string> {
    const common = this.common();
    const influx = { INFLUX_URL: this.infra.influxUrl, INFLUX_DATABASE: INFLUX_DB };
    switch (instance) {
      case 'parser-1':
      case 'parser-2':
        return { ...common, PARSER_GROUP_ID: GROUPS.parser, PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul' };
      case 'influx-writer-1':
      case 'influx-writer-2':
        return { ...common, ...influx, WRITER_GROUP_ID: GROUPS.writer };
      case 'archiver-1':
      case 'archiver-2':
        return {
          ...common,
          ARCHIVER_GROUP_ID: GROUPS.archiver,
          ARCHIVE_S3_BUCKET: BUCKET,
          ARCHIVE_S3_ENDPOINT: this.infra.s3Url,
          ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
          ARCHIVE_S3_CREATE_BUCKET: 'true',
          ARCHIVE_S3_REGION: 'us-east-1',
          ARCHIVE_S3_REQUEST_TIMEOUT_MS: '20000',
          AWS_ACCESS_KEY_ID: 'soak',
          AWS_SECRET_ACCESS_KEY: 'soak',
          ARCHIVE_MAX_FILE_AGE_MS: String(this.profile.archiveFileAgeMs),
          ARCHIVE_SPOOL_DIR: join(this.workDir, `archiver-spool-${instance}`),
          ARCHIVE_DUCKDB_MEMORY_LIMIT: '256MB',
          // Late uploads of a zombie archiver are looked for every 5 s, so the verdict after the drain sees them gone.
          ARCHIVER_RECONCILE_INTERVAL_MS: '5000',
          ARCHIVER_RECONCILE_WINDOW_MS: '600000',
        };
      case 'bridge':
        return { ...common, AMQP_URL: this.infra.amqpUrl };
      case 'modbus-collector':
        return {
          ...common,
          MODBUS_CONFIG: this.writeModbusConfig(),
          SPOOL_DIR: this.spoolDirs.modbus,
          // Everything stays on disk after delivery: the spool is the soak's ledger of what was polled.
          SPOOL_RETAIN_BYTES: String(1024 * 1024 * 1024),
        };
      case 'opcua-collector':
        return {
          ...common,
          OPCUA_CONFIG: this.writeOpcuaConfig(),
          OPCUA_AUTO_TRUST_SERVERS: 'true',
          OPCUA_PKI_DIR: join(this.workDir, 'opcua-pki'),
          SPOOL_DIR: this.spoolDirs.opcua,
          SPOOL_RETAIN_BYTES: String(1024 * 1024 * 1024),
        };
      case 'mqtt-collector':
        return {
          ...common,
          MQTT_CONFIG: this.writeMqttConfig(),
          SPOOL_DIR: this.spoolDirs.mqtt,
          SPOOL_RETAIN_BYTES: String(1024 * 1024 * 1024),
        };
      case 'simulator':
        return {
          LOG_LEVEL: 'info',
          SIM_AMQP: 'false',
          SIM_MODBUS_PORT: String(SOAK_PORTS.modbus),
          SIM_OPCUA_PORT: String(SOAK_PORTS.opcua),
          SIM_MODBUS_PROFILE: join(REPO_ROOT, 'sample', 'profiles', 'ess-sionyu.yaml'),
          // Two JSON meters (QoS 1) and a Sparkplug B edge node (births, data by alias, rebirths on request).
          SIM_MQTT_URL: this.infra.mqttUrl,
          SIM_MQTT_SITE: MQTT_SITES.json,
          SIM_MQTT_INTERVAL_MS: String(this.profile.mqttIntervalMs),
        };
    }
  }

  private writeModbusConfig(): string {
    const path = join(this.workDir, 'modbus-collector.yaml');
    writeFileSync(
      path,
      [
        `site: ${MODBUS_SITE}`,
        'connections:',
        '  - name: ess',
        '    transport: tcp',
        '    host: 127.0.0.1',
        `    port: ${SOAK_PORTS.modbus}`,
        '    devices:',
        '      - name: ess',
        `        profile: ${join(REPO_ROOT, 'sample', 'profiles', 'ess-sionyu.yaml')}`,
        '        unitId: 1',
        '',
      ].join('\n'),
    );
    return path;
  }

  private writeOpcuaConfig(): string {
    const path = join(this.workDir, 'opcua-collector.yaml');
    const local = readFileSync(join(REPO_ROOT, 'sample', 'opcua', 'collector-local.yaml'), 'utf8');
    writeFileSync(
      path,
      local.replaceAll('opc.tcp://127.0.0.1:4840', `opc.tcp://127.0.0.1:${SOAK_PORTS.opcua}`),
    );
    return path;
  }

  /**
   * The broker file of sample/mqtt/collector-local.yaml pointed at the soak's Mosquitto, with the soak's
   * sites: MQTT 5, a persistent session (fixed client id), QoS 1.
   */
  private writeMqttConfig(): string {
    const path = join(this.workDir, 'mqtt-collector.yaml');
    const local = readFileSync(join(REPO_ROOT, 'sample', 'mqtt', 'collector-local.yaml'), 'utf8');
    const config = local
      .replaceAll('mqtt://127.0.0.1:1883', this.infra.mqttUrl)
      .replace('clientId: gridstream-mqtt-local', 'clientId: gridstream-mqtt-soak')
      .replace('site: sparkplug01', `site: ${MQTT_SITES.sparkplug}`);
    if (config === local || !config.includes(MQTT_SITES.sparkplug) || !config.includes(this.infra.mqttUrl))
      throw new Error('sample/mqtt/collector-local.yaml changed: the soak cannot point it at its broker');
    writeFileSync(path, config);
    return path;
  }

  async start(instance: Instance): Promise<ServiceProcess> {
    mkdirSync(this.workDir, { recursive: true });
    const service = instance.replace(/-\d$/, '');
    const proc = await ServiceProcess.start({
      service,
      instance,
      env: { ...this.envOf(instance), [SOAK_MARKER]: '1' },
      logDir: join(this.workDir, 'logs'),
      sampleEveryMs: 1_000,
    });
    this.services.set(instance, proc);
    return proc;
  }

  /**
   * Messages a collector has spooled and Kafka not yet acknowledged (`gridstream_spool_pending_messages`);
   * undefined when it does not report the metric.
   */
  async spoolPending(instance: Instance): Promise<number | undefined> {
    const text = await this.get(instance).metrics();
    const line = /^gridstream_spool_pending_messages(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return line ? Number(line[1]) : undefined;
  }

  get(instance: Instance): ServiceProcess {
    const service = this.services.get(instance);
    if (!service) throw new Error(`${instance} was never started`);
    return service;
  }

  /** Starts everything, sinks first (the order services.sh uses), and waits until each is ready. */
  async startAll(): Promise<void> {
    const order: Instance[] = [
      'influx-writer-1',
      'influx-writer-2',
      'archiver-1',
      'archiver-2',
      'parser-1',
      'parser-2',
      'bridge',
      'simulator',
      'modbus-collector',
      'opcua-collector',
      'mqtt-collector',
    ];
    for (const instance of order) await this.start(instance);
    await Promise.all([...this.services.values()].map((s) => s.ready(120_000)));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.stop(30_000).catch(() => undefined)));
  }
}
