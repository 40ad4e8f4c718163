/** Default Kafka topic names. Every service takes its topics from configuration; these are the defaults. */
export const DEFAULT_TOPICS = {
  raw: 'telemetry.raw',
  parsed: 'telemetry.parsed',
  dlq: 'telemetry.dlq',
  alarms: 'telemetry.alarms',
  /** Operator actions on alarms (acknowledge, shelve, comment): the alarm handling's audit trail. */
  alarmActions: 'telemetry.alarm-actions',
  /** Predicted values per series (forecaster → anyone who wants them; never mixed with readings). */
  forecasts: 'telemetry.forecasts',
} as const;

export type TopicRole = keyof typeof DEFAULT_TOPICS;
