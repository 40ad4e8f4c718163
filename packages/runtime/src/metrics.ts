import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per service instance (not the global one), so tests that start several services in one
 * process do not collide on metric names. Default metrics include RSS, CPU and event-loop lag.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'gridstream_' });
  return registry;
}
