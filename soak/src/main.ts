#!/usr/bin/env node
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ImportSink, importFiles, importMessages, openKafkaImportSink } from '@gridstream/importer';
import { consumerLag } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { REPO_ROOT, sleep } from '@gridstream/testkit';
import { FaultRunner } from './faults.js';
import { Gateway } from './gateway.js';
import { KAFKA_NODES, SoakInfra } from './infra.js';
import { PROFILES } from './profile.js';
import { formatReport, type SoakResult } from './report.js';
import {
  BUCKET,
  GROUPS,
  INFLUX_DB,
  killLeftoverServices,
  MODBUS_SITE,
  MQTT_SITES,
  OPCUA_SITE,
  PARTITIONS,
  SoakStack,
  TOPICS,
} from './stack.js';
import { Expectation, takeVerdict } from './verdict.js';

const USAGE = `node soak/dist/main.js [--profile full|short] [--keep | --keep-on-failure]

  The whole pipeline on a 3-broker Kafka cluster (replication 3, min.insync.replicas 2) with two replicas
  of the parser, the InfluxDB writer and the archiver, the bridge, the Modbus, OPC UA and MQTT collectors
  with their simulators (MQTT through a Mosquitto) and one CSV import, under every fault
  (docs/reliability.md), then an exact verdict. Exit 0 only when nothing was lost or duplicated anywhere.
  --profile  full (make soak) or short (the variant in make test); default full
  --keep     leave the soak's servers and services running afterwards (for a look around)
  --keep-on-failure   the same, only when the verdict fails`;

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'full' },
    keep: { type: 'boolean' },
    'keep-on-failure': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const profile = PROFILES[values.profile as 'full' | 'short'];
if (!profile) {
  process.stderr.write(`unknown profile ${values.profile}\n${USAGE}\n`);
  process.exit(2);
}

process.env.AWS_ACCESS_KEY_ID ??= 'soak';
process.env.AWS_SECRET_ACCESS_KEY ??= 'soak';
// The soak's own Kafka client (topics, the drain's lag checks, the verdict) meets every fault too; its
// retried complaints ("does not host this topic-partition" while a topic is created) would bury the
// timeline. Only what stops it is printed; the services' logs are in <workDir>/logs.
const logger = createLogger({ service: 'soak', level: 'fatal' });
const say = (line: string) => process.stdout.write(`soak: ${line}\n`);
const workDir = join(REPO_ROOT, '.local', 'soak', profile.name);
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });

const infra = new SoakInfra();
const stack = new SoakStack(infra, profile, workDir, logger);
const started = Date.now();
let exitCode = 1;
try {
  say(
    `profile ${profile.name}: ${profile.messages} gateway messages at ${profile.rate}/s, every fault (log: ${workDir}/logs)`,
  );
  const leftovers = killLeftoverServices();
  if (leftovers > 0) say(`killed ${leftovers} service process(es) an earlier soak left running`);
  await infra.up();
  say(
    `servers up: Kafka ${infra.brokers.join(',')}, RabbitMQ, InfluxDB, moto (behind ${infra.s3Url}), Mosquitto ${infra.mqttUrl}`,
  );
  await stack.createTopics();
  await stack.startAll();
  say(
    'services ready: 2× parser, 2× influx-writer, 2× archiver, bridge, modbus-, opcua- and mqtt-collector, simulator',
  );

  const expectation = new Expectation();
  const gateway = new Gateway(infra.amqpUrl, profile.sites, (entry) =>
    expectation.add(`gateway ${entry.id}`, entry.body, 'microgrid.v1'),
  );
  await gateway.start(profile.rate, profile.messages);

  // One CSV import, through the importer on the source seam (direct outbox: acks=all, idempotent).
  const kafkaSink = await openKafkaImportSink({
    config: {
      KAFKA_BROKERS: infra.brokers,
      KAFKA_CLIENT_ID: 'gridstream-soak',
      KAFKA_SSL: false,
      KAFKA_TOPIC_RAW: TOPICS.raw,
      KAFKA_TOPIC_PARSED: TOPICS.parsed,
      KAFKA_TOPIC_DLQ: TOPICS.dlq,
      KAFKA_TOPIC_PARTITIONS: PARTITIONS,
      KAFKA_REPLICATION_FACTOR: KAFKA_NODES,
      KAFKA_CREATE_TOPICS: false, // createTopics() made them, with min.insync.replicas 2
    },
    logger,
    kafka: stack.kafka,
  });
  const importSink: ImportSink = {
    async send(samples, options) {
      const sent = await kafkaSink.send(samples, options);
      // The same envelope the sink sent (a samples.v1 body does not depend on when it was built).
      for (const m of importMessages(samples, options))
        expectation.add('import', Buffer.from(String(m.value)), 'samples.v1');
      return sent;
    },
  };
  const imported = await importFiles(
    {
      files: [join(REPO_ROOT, 'sample', 'import', 'vehicle-telematics.csv')],
      timeColumn: 'RECORD_TIME',
      valueColumns: ['DRIVE_SPEED', 'RPM'],
      deviceColumn: 'PHONE_NUM',
      site: 'soak-import',
      equipment: 'vehicle',
      timeZone: 'Asia/Seoul',
    },
    importSink,
  );
  await kafkaSink.close();
  say(`import: ${imported.rowsSent} rows in ${imported.messagesSent} messages`);

  const faults = new FaultRunner(infra, stack, profile, say);
  await Promise.all([faults.run(), gateway.finished()]);
  say(
    `published ${gateway.published}, confirmed ${gateway.confirmed} (${gateway.republished} publishes repeated)`,
  );

  // Drain: the collectors deliver what they spooled while Kafka was away, then stop; then every group
  // reaches the end. (A collector stopped before its spool is delivered keeps the rest for its next start,
  // which the soak never makes: stopped right after the brokers came back, one once left 56 messages.)
  const drainDeadline = Date.now() + profile.drainTimeoutMs;
  const collectorInstances = ['modbus-collector', 'opcua-collector', 'mqtt-collector'] as const;
  const drainStart = Date.now();
  await Promise.all(
    collectorInstances.map(async (c) => {
      while (Date.now() < drainDeadline) {
        const pending = await stack.spoolPending(c).catch(() => Number.NaN);
        if (pending === 0 || pending === undefined) return;
        await sleep(1_000);
      }
    }),
  );
  say(
    `collectors' spools delivered ${Math.round((Date.now() - drainStart) / 1000)} s after the last publish`,
  );
  await Promise.all(collectorInstances.map((c) => stack.get(c).stop(60_000)));
  let settled = 0;
  while (Date.now() < drainDeadline && settled < 3) {
    const lags = await Promise.all([
      consumerLag(stack.kafka, GROUPS.parser, [TOPICS.raw]),
      consumerLag(stack.kafka, GROUPS.writer, [TOPICS.parsed]),
      consumerLag(stack.kafka, GROUPS.archiver, [TOPICS.parsed]),
    ]).catch(() => undefined);
    const total = lags?.flat().reduce((n, p) => n + p.lag, 0);
    settled = total === 0 ? settled + 1 : 0;
    await sleep(Math.max(5_000, profile.archiveFileAgeMs));
  }
  say(
    settled >= 3
      ? 'drained: every group at the end of its topic'
      : 'drain timed out: the verdict will say what is missing',
  );

  // What each collector spooled is expected too (the spools keep delivered messages: SPOOL_RETAIN_BYTES).
  const collectors = {
    'modbus-collector': { sites: [MODBUS_SITE], spooled: expectation.addSpool(stack.spoolDirs.modbus) },
    'opcua-collector': { sites: [OPCUA_SITE], spooled: expectation.addSpool(stack.spoolDirs.opcua) },
    'mqtt-collector': {
      sites: [MQTT_SITES.json, MQTT_SITES.sparkplug],
      spooled: expectation.addSpool(stack.spoolDirs.mqtt),
    },
  };
  const verdict = await takeVerdict({
    expectation,
    kafka: stack.kafka,
    influxUrl: infra.influxUrl,
    influxDb: INFLUX_DB,
    s3Url: infra.s3Url,
    bucket: BUCKET,
    parsedTopic: TOPICS.parsed,
    dlqTopic: TOPICS.dlq,
    archiverGroup: GROUPS.archiver,
    collectors,
    workDir,
  });

  const services = [...stack.services.entries()].map(([name, s]) => ({
    name,
    starts: s.starts,
    peakRssMiB: Math.round(s.peakMemoryMiB),
  }));
  const result: SoakResult = {
    profile: profile.name,
    startedAt: new Date(started).toISOString(),
    minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
    gateway: { published: gateway.published, confirmed: gateway.confirmed, repeated: gateway.republished },
    imported: imported.rowsSent,
    timeline: faults.timeline,
    services,
    verdict,
  };
  const text = formatReport(result);
  process.stdout.write(`${text}\n`);
  const stamp = new Date().toISOString().slice(0, 10);
  mkdirSync(join(REPO_ROOT, 'soak', 'results'), { recursive: true });
  writeFileSync(join(workDir, 'result.json'), JSON.stringify(result, null, 2));
  if (profile.name === 'full') {
    writeFileSync(
      join(REPO_ROOT, 'soak', 'results', `soak-full-${stamp}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    writeFileSync(join(REPO_ROOT, 'soak', 'results', `soak-full-${stamp}.txt`), `${text}\n`);
  }
  exitCode = verdict.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`soak: failed: ${(error as Error).stack ?? error}\n`);
  exitCode = 1;
} finally {
  if (!values.keep && !(values['keep-on-failure'] && exitCode !== 0)) {
    await stack.stopAll();
    await infra.down();
  }
}
process.exit(exitCode);
