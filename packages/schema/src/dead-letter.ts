import { z } from 'zod';
import { UtcTimestamp } from './identifiers.js';

/**
 * Why a message was dead-lettered: a closed list, so dashboards and replay tooling can rely on it.
 * Only permanent failures are dead-lettered; a failing downstream is retried, never dead-lettered.
 */
export const DEAD_LETTER_REASONS = {
  not_json: 'the payload is not valid JSON (or is truncated)',
  oversized: 'the payload is larger than the configured limit',
  missing_header: 'the message has no usable header (site id, timestamp)',
  bad_timestamp: 'the timestamp cannot be read or does not exist in the site zone',
  bad_structure: 'a container has the wrong shape (e.g. FieldDeviceLayer is not an object)',
  missing_service: 'an equipment group has no service array; the other groups were still parsed',
  wrong_type: 'a value has the wrong type (e.g. a number sent as a string)',
  unknown_schema: 'the gs-schema header names a format this parser does not know',
  invalid_record: 'the record fails the canonical schema',
  no_readings: 'the message is valid but holds no device readings',
  sink_rejected: 'the sink refused the data permanently (e.g. InfluxDB 400 with its message)',
  unreadable:
    'a source read input (a line, a payload) that does not match its configured format: garbage, the wrong number of fields, no pattern match',
  bad_checksum: "the input's checksum does not match its content (a transmission error)",
  incomplete: 'the input ended before it was complete (a line cut off when its port closed)',
} as const;

export type DeadLetterReason = keyof typeof DEAD_LETTER_REASONS;
export const DeadLetterReasonSchema = z.enum(
  Object.keys(DEAD_LETTER_REASONS) as [DeadLetterReason, ...DeadLetterReason[]],
);

export const PIPELINE_STAGES = [
  'bridge',
  'parser',
  'influx-writer',
  'timescale-writer',
  'opentsdb-writer',
  'archiver',
  'collector',
  'importer',
] as const;
export const PipelineStageSchema = z.enum(PIPELINE_STAGES);
export type PipelineStage = z.infer<typeof PipelineStageSchema>;

/** One problem found in a message; a message can have several (one per bad equipment group, say). */
export const ProblemSchema = z.object({
  reason: DeadLetterReasonSchema,
  /** JSON path of the offending part, e.g. `FieldDeviceLayer.field3.service[1].soc`. */
  path: z.string(),
  message: z.string(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/**
 * A dead letter on `telemetry.dlq` is the original message value (or, if it was larger than the limit,
 * its first bytes) with the original headers, plus these headers. Keeping the bytes as they were means a
 * replay is a plain copy back to `telemetry.raw`, with no decoding step that could lose anything.
 */
export const DLQ_HEADER = {
  stage: 'gs-dlq-stage',
  reason: 'gs-dlq-reason',
  message: 'gs-dlq-message',
  problems: 'gs-dlq-problems',
  at: 'gs-dlq-at',
  sourceTopic: 'gs-dlq-source-topic',
  sourcePartition: 'gs-dlq-source-partition',
  sourceOffset: 'gs-dlq-source-offset',
  /** Parser letters of a partly parsed message: recordDigest() of every record that WAS emitted. */
  emitted: 'gs-dlq-emitted',
  originalSize: 'gs-dlq-original-size',
  truncated: 'gs-dlq-truncated',
  sha256: 'gs-dlq-sha256',
} as const;

export const DeadLetterHeadersSchema = z.object({
  [DLQ_HEADER.stage]: PipelineStageSchema,
  [DLQ_HEADER.reason]: DeadLetterReasonSchema,
  [DLQ_HEADER.message]: z.string(),
  /** JSON array of Problem, at most a few dozen. */
  [DLQ_HEADER.problems]: z.string().optional(),
  [DLQ_HEADER.at]: UtcTimestamp,
  /** Kafka topic, or the upstream queue for the bridge. */
  [DLQ_HEADER.sourceTopic]: z.string().optional(),
  [DLQ_HEADER.sourcePartition]: z.string().regex(/^\d+$/).optional(),
  [DLQ_HEADER.sourceOffset]: z.string().regex(/^\d+$/).optional(),
  [DLQ_HEADER.originalSize]: z.string().regex(/^\d+$/),
  [DLQ_HEADER.truncated]: z.enum(['true', 'false']),
  /** SHA-256 of the whole original payload, so a truncated letter still identifies its message. */
  [DLQ_HEADER.sha256]: z.string().regex(/^[0-9a-f]{64}$/),
});
export type DeadLetterHeaders = z.infer<typeof DeadLetterHeadersSchema>;
