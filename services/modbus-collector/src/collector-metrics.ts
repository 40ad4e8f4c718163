import { counter, gauge, histogram } from '@gridstream/kafka';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The collector's Modbus specifics; label `device` is the device name from the collector config. Samples,
 * messages, the time of the last sample and the connection state are the standard gridstream_source_*
 * (label `endpoint` = the device name; @gridstream/source), what Kafka acknowledged gridstream_spool_*.
 */
export interface CollectorMetrics {
  polls: Counter; // device, outcome: ok | partial | failed | breaker_open
  reads: Counter; // device, outcome: ok | failed
  readFailures: Counter; // device, reason (READ_FAILURES)
  readLatency: Histogram; // device
  pollDuration: Histogram; // device
  outOfRange: Counter; // device
  badValues: Counter; // device
  skipped: Counter; // device
  breakerState: Gauge; // device: 0 closed, 1 half-open, 2 open
  breakerTransitions: Counter; // device, to
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function collectorMetrics(registry: Registry): CollectorMetrics {
  return {
    polls: counter(registry, 'gridstream_modbus_polls_total', 'Scheduled polls by outcome', [
      'device',
      'outcome',
    ]),
    reads: counter(registry, 'gridstream_modbus_reads_total', 'Modbus read transactions (after retries)', [
      'device',
      'outcome',
    ]),
    readFailures: counter(
      registry,
      'gridstream_modbus_read_failures_total',
      'Failed read attempts by reason',
      ['device', 'reason'],
    ),
    readLatency: histogram(
      registry,
      'gridstream_modbus_read_latency_seconds',
      'Request-to-answer time of successful reads',
      ['device'],
      LATENCY_BUCKETS,
    ),
    pollDuration: histogram(
      registry,
      'gridstream_modbus_poll_duration_seconds',
      'Time of a whole poll (every read of the device, including waiting for a shared line)',
      ['device'],
      LATENCY_BUCKETS,
    ),
    outOfRange: counter(
      registry,
      'gridstream_modbus_values_out_of_range_total',
      'Values outside their profile range (kept, flagged out_of_range)',
      ['device'],
    ),
    badValues: counter(
      registry,
      'gridstream_modbus_values_bad_total',
      'Points without a usable value (failed read, NaN/Infinity float), flagged bad',
      ['device'],
    ),
    skipped: counter(
      registry,
      'gridstream_modbus_skipped_cycles_total',
      'Poll slots skipped because the previous poll of the device overran them',
      ['device'],
    ),
    breakerState: gauge(
      registry,
      'gridstream_modbus_breaker_state',
      'Circuit breaker: 0 closed, 1 half-open, 2 open',
      ['device'],
    ),
    breakerTransitions: counter(
      registry,
      'gridstream_modbus_breaker_transitions_total',
      'Breaker state changes',
      ['device', 'to'],
    ),
  };
}
