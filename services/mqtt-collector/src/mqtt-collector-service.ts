import type { RunningService, ServiceContext } from '@gridstream/runtime';
import { openSource } from '@gridstream/source';
import { BrokerCollector } from './broker-collector.js';
import type { MqttCollectorConfig } from './config.js';
import { createMqttMetrics } from './mqtt-metrics.js';

/**
 * MQTT brokers → samples.v1 on telemetry.raw, through the source seam (@gridstream/source: envelope, disk
 * spool, message ids, dead letters, gridstream_source_* metrics). Each broker runs on its own and
 * reconnects by itself; readiness `mqtt:<broker>` says whether its connection is up. The service starts
 * while a broker or Kafka is unreachable: the broker holds the session's messages, the spool holds ours.
 */
export async function startMqttCollector(ctx: ServiceContext<MqttCollectorConfig>): Promise<RunningService> {
  const { config, logger, metrics: registry } = ctx;
  const source = openSource(ctx, {
    kind: 'mqtt',
    service: 'mqtt-collector',
    maxSamplesPerMessage: config.MQTT_MAX_SAMPLES_PER_MESSAGE,
  });
  const metrics = createMqttMetrics(registry);
  const brokers = config.MQTT_CONFIG.brokers.map(
    (broker) =>
      new BrokerCollector(broker, {
        endpoint: source.endpoint({ name: broker.name, uri: broker.url, inputFormat: 'mqtt.payload' }),
        logger: logger.child({ component: 'mqtt', broker: broker.name }),
        metrics,
      }),
  );
  for (const broker of brokers) broker.start();
  logger.info(
    {
      brokers: brokers.map((b) => ({
        name: b.config.name,
        url: b.config.url,
        protocol: b.config.protocol,
        clientId: b.config.clientId,
        subscriptions: b.config.subscriptions.map((s) => `${s.filter} (${s.kind}, QoS ${s.qos})`),
      })),
    },
    'MQTT collector started',
  );
  return {
    async stop() {
      // Intake first (every message taken is acknowledged; the broker keeps the rest for the session),
      // then what is spooled to Kafka within the deadline; the rest stays spooled for the next start.
      await Promise.all(brokers.map((b) => b.stop()));
      await source.close(Date.now() + Math.max(2_000, config.SHUTDOWN_TIMEOUT_MS - 5_000));
    },
  };
}
