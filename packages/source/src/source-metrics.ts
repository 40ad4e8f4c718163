import { counter, gauge } from '@gridstream/kafka';
import type { Counter, Gauge, Registry } from 'prom-client';

/**
 * The same names for every source (label `source` = the collector kind: modbus, opcua, serial, mqtt,
 * import; `endpoint` = the name of one connection, port or server in the collector's config), so one
 * dashboard and one set of alerts covers every collector. The spool has its own (`gridstream_spool_*`).
 */
export interface SourceMetrics {
  samples: Counter;
  messages: Counter;
  badInput: Counter;
  connected: Gauge;
  disconnects: Counter;
  lastSample: Gauge;
}

export const SOURCE_LABELS = ['source', 'endpoint'] as const;

export function sourceMetrics(registry: Registry): SourceMetrics {
  const labels = [...SOURCE_LABELS];
  return {
    samples: counter(
      registry,
      'gridstream_source_samples_total',
      'Samples read and handed on to the raw topic: appended to the disk spool (collectors) or acknowledged by Kafka (direct outbox: the importer)',
      labels,
    ),
    messages: counter(
      registry,
      'gridstream_source_messages_total',
      'samples.v1 messages appended to the disk spool (gridstream_spool_produced_total: acknowledged by Kafka) or, direct outbox (the importer), acknowledged by Kafka',
      labels,
    ),
    badInput: counter(
      registry,
      'gridstream_source_bad_input_total',
      'Input that could not be read (a line, a payload), by dead-letter reason; each one is dead-lettered with its bytes',
      [...labels, 'reason'],
    ),
    connected: gauge(
      registry,
      'gridstream_source_connected',
      '1 while the endpoint (port, server, device connection) is connected, else 0',
      labels,
    ),
    disconnects: counter(
      registry,
      'gridstream_source_disconnects_total',
      'Times a connected endpoint was lost (a port that vanished, a session that dropped)',
      labels,
    ),
    lastSample: gauge(
      registry,
      'gridstream_source_last_sample_timestamp_seconds',
      'Unix time at which the endpoint last gave a sample: alert on time() minus this ("data stopped")',
      labels,
    ),
  };
}
