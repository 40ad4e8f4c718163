import { counter, gauge } from '@gridstream/kafka';
import type { Counter, Gauge, Registry } from 'prom-client';

/** The same names for every source's spool, so dashboards and alerts need no per-collector list. */
export interface SpoolMetrics {
  pending: Gauge;
  bytes: Gauge;
  dropped: Counter;
  corruptBytes: Counter;
  produced: Counter;
}

export function spoolMetrics(registry: Registry): SpoolMetrics {
  return {
    pending: gauge(
      registry,
      'gridstream_spool_pending_messages',
      'Messages in the disk spool not yet acknowledged by Kafka',
    ),
    bytes: gauge(registry, 'gridstream_spool_bytes', 'Bytes of the disk spool on disk'),
    dropped: counter(
      registry,
      'gridstream_spool_dropped_total',
      'Messages dropped because the spool was full (SPOOL_WHEN_FULL); any increase is data lost: alert on it',
    ),
    corruptBytes: counter(
      registry,
      'gridstream_spool_corrupt_bytes_total',
      'Bytes of the spool found damaged when it was read back (a disk fault); what they held is lost',
    ),
    produced: counter(registry, 'gridstream_spool_produced_total', 'Spooled messages acknowledged by Kafka'),
  };
}
