export { InvalidAlarmError, parseAlarm, parseAlarmAction } from './alarm-input.js';
export { type BatchItem, PointBatcher, type RejectedItem, type WritePoints } from './point-batcher.js';
export { checkSinkEnv, type SinkEnv, sinkEnvShape } from './sink-env.js';
export { sinkMetrics } from './sink-metrics.js';
export { type SinkServiceConfig, startSinkService } from './sink-service.js';
export type { PointRefusal, SinkTarget } from './sink-target.js';
export { SinkWriteError } from './sink-write-error.js';
export { writeWithSplit } from './write-with-split.js';
