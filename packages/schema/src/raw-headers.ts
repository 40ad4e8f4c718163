import { z } from 'zod';
import { SchemaId, UtcTimestamp } from './identifiers.js';

/**
 * Kafka headers on every `telemetry.raw` message. The value is the payload exactly as received; these say
 * what it is and where it came from, so that a fixed parser can replay it.
 */
export const RAW_HEADER = {
  schema: 'gs-schema',
  source: 'gs-source',
  receivedAt: 'gs-received-at',
  messageId: 'gs-message-id',
  /** On a dead letter replayed to the raw topic: which letter (`dlq/<partition>/<offset>`). */
  replayedFrom: 'gs-replayed-from',
  /**
   * On a replayed letter of a message that was partly parsed: the records that went through the first
   * time (recordDigest() of each, comma-separated). The parser leaves them out, so a replay emits only
   * what did not go through.
   */
  replaySkip: 'gs-replay-skip',
} as const;

export const RawHeadersSchema = z.object({
  [RAW_HEADER.schema]: SchemaId,
  /** Where the bytes came from: `amqp://host/queue`, `opcua://…`, `modbus://…`, `file://name`. */
  [RAW_HEADER.source]: z.string().min(1),
  [RAW_HEADER.receivedAt]: UtcTimestamp,
  /** The upstream message id (AMQP message-id), when the source has one. */
  [RAW_HEADER.messageId]: z.string().optional(),
  [RAW_HEADER.replayedFrom]: z.string().optional(),
  [RAW_HEADER.replaySkip]: z.string().optional(),
});
export type RawHeaders = z.infer<typeof RawHeadersSchema>;
