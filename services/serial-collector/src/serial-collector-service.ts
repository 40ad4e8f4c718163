import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { openSource } from '@gridstream/source';
import type { SerialCollectorConfig } from './config.js';
import { PortReader } from './port-reader.js';
import { serialMetrics } from './serial-metrics.js';

/**
 * Serial ports → samples.v1 on telemetry.raw: meters that print ASCII lines (RS232/RS485), one reader per
 * port, each reopening its port by itself when it vanishes. Everything goes through the source seam
 * (@gridstream/source): samples and bad lines are spooled on disk before anything else happens to them,
 * so a Kafka outage or a kill -9 loses nothing that was read.
 */
export async function startSerialCollector(
  ctx: ServiceContext<SerialCollectorConfig>,
): Promise<RunningService> {
  const { config, logger } = ctx;
  const source = openSource(ctx, {
    kind: 'serial',
    service: 'serial-collector',
    maxSamplesPerMessage: config.SERIAL_MAX_SAMPLES_PER_MESSAGE,
  });
  const metrics = serialMetrics(ctx.metrics);
  const readers = config.SERIAL_CONFIG.ports.map(
    (port) =>
      new PortReader(
        port,
        source.endpoint({
          name: port.name,
          uri: `serial://${port.path}`,
          site: port.site,
          inputFormat: 'serial.line',
        }),
        metrics,
        logger,
      ),
  );
  for (const reader of readers) reader.start();
  logger.info(
    {
      ports: readers.map((r) => ({
        name: r.config.name,
        path: r.config.path,
        baudRate: r.config.baudRate,
        format: r.config.format.type,
      })),
    },
    'serial collector started',
  );
  return {
    async stop() {
      // Intake first (ports closed, lines read handed over), then everything to Kafka.
      await Promise.all(readers.map((r) => r.stop()));
      await source.close(Date.now() + Math.max(2_000, config.SHUTDOWN_TIMEOUT_MS - 5_000));
    },
  };
}
