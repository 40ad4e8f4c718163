import type { OutMessage } from '@gridstream/kafka';
import { createKafka, ensureConfiguredTopics, ReliableProducer } from '@gridstream/kafka';
import { certificateInfo, openApplicationPki, routeNodeOpcuaLogs } from '@gridstream/opcua';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { openSourceSpool, type SourceSpool } from '@gridstream/spool';
import { createCollectorMetrics } from './collector-metrics.js';
import type { OpcuaCollectorConfig } from './config.js';
import { EndpointCollector } from './endpoint-collector.js';
import { restorePointStates } from './point-state.js';
import { SamplesOutput } from './samples-output.js';

/**
 * OPC UA servers → samples.v1 on telemetry.raw. Each endpoint runs on its own (one dead server never
 * holds up another) and reconnects by itself; readiness is per endpoint and says whether its session is
 * up. The service starts even while a server is unreachable: the collector is the one that waits.
 */
export async function startOpcuaCollector(
  ctx: ServiceContext<OpcuaCollectorConfig>,
): Promise<RunningService> {
  const { config, logger, metrics: registry, readiness } = ctx;
  routeNodeOpcuaLogs(logger.child({ component: 'node-opcua' }));

  // Kafka is connected to by the spool's sender, not here: the collector subscribes and spools even when
  // it starts during a Kafka outage.
  const kafka = createKafka(config, logger);
  const producer = new ReliableProducer(kafka, logger);

  const pki = await openApplicationPki({
    pkiDir: config.OPCUA_PKI_DIR,
    applicationName: config.OPCUA_APPLICATION_NAME,
    applicationUri: config.OPCUA_APPLICATION_URI,
    autoTrustServers: config.OPCUA_AUTO_TRUST_SERVERS,
  });
  const cert = certificateInfo(pki.certificateFile);
  logger.info(
    {
      pkiDir: pki.pkiDir,
      thumbprint: cert.thumbprint,
      applicationUri: pki.applicationUri,
      autoTrustServers: config.OPCUA_AUTO_TRUST_SERVERS,
    },
    'application certificate',
  );

  const metrics = createCollectorMetrics(registry);
  const endpoints: { collector: EndpointCollector; output: SamplesOutput }[] = [];
  // The outputs append to the spool opened below, once every point exists to restore its state into.
  let spooled: SourceSpool | undefined;
  const spoolRef = { append: (messages: OutMessage[]) => spooled!.append(messages) };
  for (const endpoint of config.OPCUA_CONFIG.endpoints) {
    const output = new SamplesOutput({
      spool: spoolRef,
      endpoint: endpoint.name,
      source: `opcua://${endpoint.url.replace(/^opc\.tcp:\/\//, '')}`,
      maxPerMessage: config.OPCUA_MAX_SAMPLES_PER_MESSAGE,
      metrics,
    });
    const collector = new EndpointCollector(endpoint, {
      pki,
      thumbprint: cert.thumbprint,
      logger,
      metrics,
      output,
    });
    readiness.add(`opcua:${endpoint.name}`, () => collector.health());
    endpoints.push({ collector, output });
  }
  // One spool for every endpoint: samples wait on disk, in order, until Kafka has them. It also keeps
  // which value each point took last, so the values a subscription sends again after a crash are known.
  spooled = openSourceSpool({
    env: config,
    service: 'opcua-collector',
    logger,
    metrics: registry,
    maxBatch: 500,
    send: (messages) => producer.send(config.KAFKA_TOPIC_RAW, messages),
    connect: async () => {
      await ensureConfiguredTopics(kafka, config, [config.KAFKA_TOPIC_RAW], logger);
      await producer.connect();
    },
    checkpoint: () =>
      Buffer.from(
        JSON.stringify(
          Object.fromEntries(
            endpoints.map(({ collector }) => [collector.config.name, collector.pointStates()]),
          ),
        ),
      ),
    restore: (recovered) =>
      restorePointStates(
        recovered,
        endpoints.map(({ collector }) => collector),
        logger,
      ),
  });
  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: `${producer.isConnected ? 'connected' : 'disconnected'}; ${spooled!.describe()}`,
  }));
  for (const { collector } of endpoints) collector.start();
  logger.info(
    {
      endpoints: endpoints.map(({ collector }) => ({
        name: collector.config.name,
        url: collector.config.url,
        points: collector.pointCount,
      })),
    },
    'OPC UA collector started',
  );

  return {
    async stop() {
      // Intake first (sessions closed, buffered readings handed over), then everything to Kafka.
      await Promise.all(endpoints.map(({ collector }) => collector.stop()));
      // What Kafka does not take before the deadline stays spooled and goes first after the restart.
      await spooled!.close(Date.now() + Math.max(2_000, config.SHUTDOWN_TIMEOUT_MS - 5_000));
      await producer.disconnect();
      await pki.dispose();
    },
  };
}
