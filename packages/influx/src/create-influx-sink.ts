import type { InfluxConfig } from './influx-config.js';
import type { InfluxSink } from './influx-sink.js';
import { InfluxV1Sink } from './influx-v1-sink.js';
import { InfluxV2Sink } from './influx-v2-sink.js';

/** The sink for `cfg.api`: v1 → /write (InfluxDB 1.x), v2 → /api/v2/write (1.8+, 2.x, 3.x). */
export function createInfluxSink(cfg: InfluxConfig): InfluxSink {
  return cfg.api === 'v2' ? new InfluxV2Sink(cfg) : new InfluxV1Sink(cfg);
}
