import { describe, expect, it } from 'vitest';
import { metricSum, summariseMetrics } from './service-metrics.js';

const text = [
  '# HELP gridstream_sink_writes_total InfluxDB write requests',
  'gridstream_sink_writes_total{outcome="ok",service="influx-writer"} 40',
  'gridstream_sink_writes_total{outcome="error",service="influx-writer"} 2',
  'gridstream_sink_write_seconds_sum{service="influx-writer"} 8.4',
  'gridstream_sink_write_seconds_count{service="influx-writer"} 42',
  'gridstream_sink_points_total{measurement="battery",service="influx-writer"} 84000',
  'gridstream_consumer_handle_seconds_count{group="g",service="influx-writer"} 100',
  'gridstream_consumer_handle_seconds_sum{group="g",service="influx-writer"} 25',
  'gridstream_consumer_messages_total{group="g",topic="t",service="influx-writer"} 170000',
  'gridstream_nodejs_heap_size_used_bytes{service="influx-writer"} 52428800',
  'gridstream_nodejs_heap_size_total_bytes{service="influx-writer"} 104857600',
  'gridstream_nodejs_external_memory_bytes{service="influx-writer"} 10485760',
].join('\n');

describe('metricSum', () => {
  it('adds every labelled sample of exactly that name', () => {
    expect(metricSum(text, 'gridstream_sink_writes_total')).toBe(42);
    expect(metricSum(text, 'gridstream_sink_write_seconds_count')).toBe(42);
    expect(metricSum(text, 'gridstream_writer_write')).toBeNaN();
  });
});

describe('summariseMetrics', () => {
  it('turns the writer counters into batch sizes and times per call', () => {
    const line = summariseMetrics('influx-writer', text);
    expect(line).toContain('100 handler calls, 1,700 messages and 250 ms each');
    expect(line).toContain('42 InfluxDB writes of 2,000 points, 200 ms each');
    expect(line).toContain('heap 50 MiB used of 100 MiB, external 10 MiB');
  });
});
