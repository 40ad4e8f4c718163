export { createInfluxSink } from './create-influx-sink.js';
export {
  checkInfluxEnv,
  type InfluxConfig,
  type InfluxEnv,
  influxConfig,
  influxConfigFromEnv,
  influxEnvSchema,
  influxEnvShape,
} from './influx-config.js';
export {
  countPoints,
  executeInflux,
  InfluxQueryError,
  type InfluxSeries,
  queryInflux,
} from './influx-query.js';
export type { InfluxSink } from './influx-sink.js';
export { InfluxV1Sink } from './influx-v1-sink.js';
export { InfluxV2Sink } from './influx-v2-sink.js';
export {
  codeForStatus,
  INFLUX_WRITE_ERROR_CODES,
  InfluxWriteError,
  type InfluxWriteErrorCode,
} from './influx-write-error.js';
export {
  escapeFieldKey,
  escapeMeasurement,
  escapeTag,
  formatFloat,
  LineProtocolError,
  QUALITY_FIELD_SUFFIX,
  quoteStringValue,
  recordToLine,
  timestampMs,
} from './line-protocol.js';
export { createTestDatabase, type TestDatabase, waitForInflux } from './test-database.js';
