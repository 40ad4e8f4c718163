import type { RunningServiceProcess } from './service-process.js';
import { formatNumber } from './stats.js';

/** Sum over every labelled sample of one metric name in Prometheus text format. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

/**
 * The services' own Prometheus counters, read once before they stop: batch sizes and per-call times are
 * what tell "slow because busy" from "slow because each step waits on the next" when a target is missed.
 */
export async function scrapeMetrics(service: RunningServiceProcess): Promise<string | undefined> {
  try {
    return await service.metrics();
  } catch {
    return undefined;
  }
}

const ms = (seconds: number) => `${formatNumber(seconds * 1000)} ms`;
const mib = (bytes: number) => `${formatNumber(bytes / 2 ** 20, 0)} MiB`;

/** One line of what the service reports about itself: batching, time per call, heap and GC. */
export function summariseMetrics(service: string, text: string): string {
  const m = (name: string) => metricSum(text, name);
  const parts: string[] = [];
  const slices = m('gridstream_consumer_handle_seconds_count');
  if (slices > 0) {
    parts.push(
      `${formatNumber(slices, 0)} handler calls, ${formatNumber(m('gridstream_consumer_messages_total') / slices)} messages and ${ms(m('gridstream_consumer_handle_seconds_sum') / slices)} each`,
    );
  }
  if (service === 'influx-writer') {
    const writes = m('gridstream_sink_writes_total');
    if (writes > 0) {
      parts.push(
        `${formatNumber(writes, 0)} InfluxDB writes of ${formatNumber(m('gridstream_sink_points_total') / writes, 0)} points, ${ms(m('gridstream_sink_write_seconds_sum') / m('gridstream_sink_write_seconds_count'))} each`,
      );
    }
  }
  if (service === 'bridge') {
    const batches = m('gridstream_bridge_batches_total');
    if (batches > 0) {
      parts.push(
        `${formatNumber(batches, 0)} batches of ${formatNumber(m('gridstream_bridge_messages_forwarded_total') / batches, 0)} messages, produce ${ms(m('gridstream_bridge_produce_seconds_sum') / m('gridstream_bridge_produce_seconds_count'))} each`,
      );
    }
  }
  parts.push(
    `heap ${mib(m('gridstream_nodejs_heap_size_used_bytes'))} used of ${mib(m('gridstream_nodejs_heap_size_total_bytes'))}, external ${mib(m('gridstream_nodejs_external_memory_bytes'))}`,
  );
  const gc = m('gridstream_nodejs_gc_duration_seconds_sum');
  const cpu = m('gridstream_process_cpu_seconds_total');
  if (gc > 0 && cpu > 0) parts.push(`GC ${formatNumber(gc, 1)} s of ${formatNumber(cpu, 1)} s CPU`);
  return parts.join('; ');
}

/** "service metrics: …" for the report, or nothing when the endpoint could not be read. */
export async function describeServiceMetrics(
  step: string,
  service: RunningServiceProcess,
): Promise<string[]> {
  const text = await scrapeMetrics(service);
  return text ? [`${step}: ${service.name} says: ${summariseMetrics(service.name, text)}`] : [];
}
