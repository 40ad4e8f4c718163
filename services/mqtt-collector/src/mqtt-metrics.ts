import { counter, gauge } from '@gridstream/kafka';
import type { Counter, Gauge, Registry } from 'prom-client';

/**
 * MQTT specifics beside the standard gridstream_source_* metrics (samples, bad input by reason,
 * connected, disconnects, last sample) that every collector has.
 */
export interface MqttMetrics {
  /** Messages received, by what became of them. */
  messages: Counter;
  /** Sparkplug messages (or their data) not taken, by why: before a birth, a sequence gap, … */
  sparkplugIgnored: Counter;
  rebirthRequests: Counter;
  /** Sparkplug metrics that are not readings (strings, bytes, data sets, …), by datatype. */
  skippedMetrics: Counter;
  nodesOnline: Gauge;
  devicesOnline: Gauge;
}

export const MESSAGE_OUTCOMES = ['taken', 'dead_lettered', 'ignored', 'unmatched', 'redelivered'] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

export function createMqttMetrics(registry: Registry): MqttMetrics {
  return {
    messages: counter(
      registry,
      'gridstream_mqtt_messages_total',
      'MQTT messages received, by subscription format and outcome (taken, dead_lettered, ignored, unmatched, redelivered)',
      ['broker', 'format', 'outcome'],
    ),
    sparkplugIgnored: counter(
      registry,
      'gridstream_mqtt_sparkplug_ignored_total',
      'Sparkplug messages whose data was not taken, by reason (before_birth, seq_gap, unknown_alias, unknown_device, awaiting_rebirth, stale_death, duplicate, command)',
      ['broker', 'reason'],
    ),
    rebirthRequests: counter(
      registry,
      'gridstream_mqtt_sparkplug_rebirth_requests_total',
      'Rebirth requests (NCMD Node Control/Rebirth) sent to edge nodes',
      ['broker'],
    ),
    skippedMetrics: counter(
      registry,
      'gridstream_mqtt_sparkplug_skipped_metrics_total',
      'Sparkplug metric values that are not readings (strings, bytes, data sets, non-finite numbers), by why',
      ['broker', 'why'],
    ),
    nodesOnline: gauge(
      registry,
      'gridstream_mqtt_sparkplug_nodes_online',
      'Sparkplug edge nodes online (born, not dead)',
      ['broker'],
    ),
    devicesOnline: gauge(
      registry,
      'gridstream_mqtt_sparkplug_devices_online',
      'Sparkplug devices online (born, not dead, on a node that is online)',
      ['broker'],
    ),
  };
}
