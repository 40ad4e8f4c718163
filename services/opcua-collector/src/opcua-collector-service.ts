import { certificateInfo, openApplicationPki, routeNodeOpcuaLogs } from '@gridstream/opcua';
import type { RunningService, ServiceContext } from '@gridstream/runtime';
import type { Sample } from '@gridstream/schema';
import { openSource, type SourceEndpoint } from '@gridstream/source';
import { createCollectorMetrics } from './collector-metrics.js';
import type { OpcuaCollectorConfig } from './config.js';
import { EndpointCollector } from './endpoint-collector.js';
import { restorePointStates } from './point-state.js';

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
  const endpoints: { collector: EndpointCollector; output: LateOutput }[] = [];
  for (const endpoint of config.OPCUA_CONFIG.endpoints) {
    // The collectors exist before the source opens (it restores their last values from the spool), so
    // their output is bound to the source's endpoint right after.
    const output = new LateOutput();
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
  // One source, one spool for every endpoint: samples wait on disk, in order, until Kafka has them
  // (Kafka is connected to in the background: the collector subscribes and spools during an outage). The
  // spool also keeps which value each point took last, so the values a subscription sends again after a
  // crash are known.
  const source = openSource(ctx, {
    kind: 'opcua',
    service: 'opcua-collector',
    maxSamplesPerMessage: config.OPCUA_MAX_SAMPLES_PER_MESSAGE,
    maxBatch: 500,
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
  for (const { collector, output } of endpoints) {
    output.bind(
      source.endpoint({
        name: collector.config.name,
        uri: `opcua://${collector.config.url.replace(/^opc\.tcp:\/\//, '')}`,
        // opcua:<name> is the collector's own check (session state and id).
        readiness: false,
      }),
    );
  }
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
      await source.close(Date.now() + Math.max(2_000, config.SHUTDOWN_TIMEOUT_MS - 5_000));
      await pki.dispose();
    },
  };
}

/** An endpoint's output before the source is open: connection states wait, samples cannot come yet. */
class LateOutput implements Pick<SourceEndpoint, 'push' | 'connected'> {
  private target: SourceEndpoint | undefined;
  private state: [boolean, string | undefined] = [false, undefined];

  bind(target: SourceEndpoint): void {
    this.target = target;
    target.connected(...this.state);
  }

  push(samples: readonly Sample[]): number {
    if (!this.target) throw new Error('samples before the source was opened');
    return this.target.push(samples);
  }

  connected(up: boolean, detail?: string): void {
    this.state = [up, detail];
    this.target?.connected(up, detail);
  }
}
