import { counter, gauge, histogram } from '@gridstream/kafka';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeviceSlot } from './sample-buffer.js';

export const CONNECTION_STATES = ['connecting', 'connected', 'reconnecting', 'disconnected'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface CollectorMetrics {
  values: Counter;
  duplicates: Counter;
  unsupported: Counter;
  timestampFallback: Counter;
  connectionState: Gauge;
  security: Gauge;
  reconnects: Counter;
  connectFailures: Counter;
  monitoredItems: Gauge;
  unresolved: Gauge;
  pollDuration: Histogram;
  pollSkipped: Counter;
  /** Devices whose "age of last good value" is reported at scrape time. */
  watch(endpoint: string, device: DeviceSlot): void;
  forget(endpoint: string): void;
}

export function deviceLabels(endpoint: string, d: DeviceSlot) {
  return { endpoint, site: d.site, equipment: d.equipment, device: d.device, rack: d.rack ?? '' };
}

export function createCollectorMetrics(registry: Registry, startedAtMs = Date.now()): CollectorMetrics {
  const watched = new Map<string, DeviceSlot[]>();
  const deviceLabelNames = ['endpoint', 'site', 'equipment', 'device', 'rack'];
  const age = gauge(
    registry,
    'gridstream_opcua_last_good_value_age_seconds',
    'Seconds since the source timestamp of the newest good value of a device (since collector start until the first one): the alert for "data stopped"',
    deviceLabelNames,
  );
  // Computed at scrape time so the age keeps growing while nothing arrives, which is the whole point.
  (age as unknown as { collect?: () => void }).collect = () => {
    const now = Date.now();
    for (const [endpoint, devices] of watched) {
      for (const d of devices)
        age.set(deviceLabels(endpoint, d), Math.max(0, (now - (d.lastGoodTsMs ?? startedAtMs)) / 1000));
    }
  };
  return {
    values: counter(registry, 'gridstream_opcua_values_total', 'Values received per device, by quality', [
      ...deviceLabelNames,
      'quality',
    ]),
    duplicates: counter(
      registry,
      'gridstream_opcua_duplicates_total',
      'Values received again with the timestamp and value already sent (after a reconnect or an unchanged poll); not re-sent',
      ['endpoint'],
    ),
    unsupported: counter(
      registry,
      'gridstream_opcua_unsupported_values_total',
      'Values that are not numbers or booleans',
      ['endpoint', 'data_type'],
    ),
    timestampFallback: counter(
      registry,
      'gridstream_opcua_timestamp_fallback_total',
      'Values without a source timestamp, by the timestamp used instead (server, received)',
      ['endpoint', 'used'],
    ),
    connectionState: gauge(
      registry,
      'gridstream_opcua_connection_state',
      '1 for the current state of each endpoint',
      ['endpoint', 'state'],
    ),
    security: gauge(
      registry,
      'gridstream_opcua_security',
      '1 for the message security mode and policy of the current connection (securityMode auto or as configured); absent while not connected',
      ['endpoint', 'mode', 'policy'],
    ),
    reconnects: counter(
      registry,
      'gridstream_opcua_reconnects_total',
      'Recoveries: session_restored (node-opcua repaired the session), resubscribed (monitored items recreated for new NodeIds), rebuilt (new client and session)',
      ['endpoint', 'kind'],
    ),
    connectFailures: counter(
      registry,
      'gridstream_opcua_connect_failures_total',
      'Failed connection or session attempts',
      ['endpoint'],
    ),
    monitoredItems: gauge(registry, 'gridstream_opcua_monitored_items', 'Monitored items created and good', [
      'endpoint',
    ]),
    unresolved: gauge(
      registry,
      'gridstream_opcua_unresolved_points',
      'Configured points whose NodeId/browse path did not resolve or whose monitored item the server refused',
      ['endpoint'],
    ),
    pollDuration: histogram(registry, 'gridstream_opcua_poll_seconds', 'Duration of one polling read', [
      'endpoint',
    ]),
    pollSkipped: counter(
      registry,
      'gridstream_opcua_poll_skipped_total',
      'Poll cycles skipped because the previous read was still running',
      ['endpoint'],
    ),
    watch(endpoint, device) {
      const list = watched.get(endpoint) ?? [];
      list.push(device);
      watched.set(endpoint, list);
    },
    forget(endpoint) {
      watched.delete(endpoint);
    },
  };
}
