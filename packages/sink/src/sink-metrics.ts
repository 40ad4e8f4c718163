import { counter, histogram } from '@gridstream/kafka';
import type { Registry } from 'prom-client';

/**
 * The metrics every sink exports under the same names, labelled `sink` (influxdb, postgresql, opentsdb),
 * so the console and the pipeline dashboard read any sink without a per-service table.
 */
export function sinkMetrics(registry: Registry) {
  return {
    points: counter(
      registry,
      'gridstream_sink_points_total',
      'Points the sink accepted (lines, rows, datapoints)',
      ['sink', 'measurement'],
    ),
    writes: counter(registry, 'gridstream_sink_writes_total', 'Write requests to the sink', [
      'sink',
      'outcome',
    ]),
    writeSeconds: histogram(registry, 'gridstream_sink_write_seconds', 'Write request latency', ['sink']),
    tombstones: counter(
      registry,
      'gridstream_sink_alarm_tombstones_total',
      'Tombstones (null values) on the alarms topic, skipped',
      ['sink'],
    ),
    deadLetters: counter(registry, 'gridstream_dead_letters_total', 'Messages dead-lettered', [
      'stage',
      'reason',
    ]),
  };
}
