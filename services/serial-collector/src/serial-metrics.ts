import { counter } from '@gridstream/kafka';
import type { Counter, Registry } from 'prom-client';

/**
 * The serial collector's own metrics, beside the standard gridstream_source_* (samples, messages, bad input
 * by reason, connected, disconnects, last sample) that every collector has. Label `endpoint` = port name.
 */
export interface SerialMetrics {
  /** outcome: sample | bad | empty | ignored */
  lines: Counter;
  bytes: Counter;
  openFailures: Counter;
}

export function serialMetrics(registry: Registry): SerialMetrics {
  return {
    lines: counter(
      registry,
      'gridstream_serial_lines_total',
      'Lines read, by outcome: sample, bad (dead-lettered), empty, ignored (an ignore pattern)',
      ['endpoint', 'outcome'],
    ),
    bytes: counter(registry, 'gridstream_serial_bytes_total', 'Bytes read from the port', ['endpoint']),
    openFailures: counter(
      registry,
      'gridstream_serial_open_failures_total',
      'Attempts to open the port that failed (absent device, permissions, settings the port refuses)',
      ['endpoint'],
    ),
  };
}
