import { createKafka, ensureConfiguredTopics, ReliableProducer } from '@gridstream/kafka';
import { certificateInfo, openApplicationPki, routeNodeOpcuaLogs } from '@gridstream/opcua';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { createCollectorMetrics } from './collector-metrics.js';
import type { OpcuaCollectorConfig } from './config.js';
import { EndpointCollector } from './endpoint-collector.js';
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

  const kafka = createKafka(config, logger);
  await ensureConfiguredTopics(kafka, config, [config.KAFKA_TOPIC_RAW], logger);
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

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
  for (const endpoint of config.OPCUA_CONFIG.endpoints) {
    const log = logger.child({ endpoint: endpoint.name });
    const output = new SamplesOutput({
      producer,
      topic: config.KAFKA_TOPIC_RAW,
      endpoint: endpoint.name,
      source: `opcua://${endpoint.url.replace(/^opc\.tcp:\/\//, '')}`,
      maxBuffered: config.OPCUA_MAX_BUFFERED_SAMPLES,
      maxPerMessage: config.OPCUA_MAX_SAMPLES_PER_MESSAGE,
      logger: log,
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
  readiness.add('producer', () => ({
    ok: producer.isConnected,
    detail: producer.isConnected ? 'connected' : 'disconnected',
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
      const deadline = Date.now() + Math.max(2_000, config.SHUTDOWN_TIMEOUT_MS - 5_000);
      await Promise.all(endpoints.map(({ output }) => output.flushAll(deadline)));
      const unsent = endpoints.reduce((n, { output }) => n + output.pending, 0);
      if (unsent > 0) logger.error({ unsent }, 'samples not delivered to Kafka before the shutdown deadline');
      await producer.disconnect();
      await pki.dispose();
    },
  };
}
