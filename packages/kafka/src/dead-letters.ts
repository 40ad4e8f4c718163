import { createHash } from 'node:crypto';
import {
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  DLQ_HEADER,
  type PipelineStage,
  type Problem,
} from '@gridstream/schema';
import type { InMessage, OutMessage } from './messages.js';

/** Kafka refuses messages above ~1 MB by default; a letter keeps at most this much of its payload. */
export const DEFAULT_DLQ_PAYLOAD_BYTES = 256 * 1024;
const MAX_PROBLEMS = 50;
const MAX_TEXT = 2_000;

export interface DeadLetterInput {
  stage: PipelineStage;
  reason: DeadLetterReason;
  /** Human explanation; defaults to the reason's description. */
  message?: string;
  problems?: Problem[];
  /** recordDigest() of every record the message DID give (a partly parsed message); a replay skips them. */
  emitted?: readonly string[];
  payload: Buffer | null;
  key?: string | Buffer | null;
  /** The original headers, kept so a replay to telemetry.raw is a plain copy. */
  headers?: Record<string, string>;
  source?: { topic: string; partition?: number; offset?: string };
  maxPayloadBytes?: number;
  now?: Date;
}

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/**
 * Builds the dead letter for a message that can never succeed. The original bytes are kept (or, past
 * the limit, their first bytes plus size and SHA-256: a 20 MB message cannot be stored in Kafka at all,
 * but it can still be identified and counted). Previous dead-letter headers are replaced, not stacked.
 */
export function deadLetter(input: DeadLetterInput): OutMessage {
  const payload = input.payload ?? Buffer.alloc(0);
  const limit = input.maxPayloadBytes ?? DEFAULT_DLQ_PAYLOAD_BYTES;
  const truncated = payload.length > limit;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!name.startsWith('gs-dlq-')) headers[name] = value;
  }
  headers[DLQ_HEADER.stage] = input.stage;
  headers[DLQ_HEADER.reason] = input.reason;
  headers[DLQ_HEADER.message] = clip(input.message ?? DEAD_LETTER_REASONS[input.reason]);
  if (input.problems && input.problems.length > 0) {
    const problems = input.problems.slice(0, MAX_PROBLEMS).map((p) => ({ ...p, message: clip(p.message) }));
    headers[DLQ_HEADER.problems] = JSON.stringify(problems);
  }
  if (input.emitted && input.emitted.length > 0) headers[DLQ_HEADER.emitted] = input.emitted.join(',');
  headers[DLQ_HEADER.at] = (input.now ?? new Date()).toISOString();
  if (input.source) {
    headers[DLQ_HEADER.sourceTopic] = input.source.topic;
    if (input.source.partition !== undefined)
      headers[DLQ_HEADER.sourcePartition] = String(input.source.partition);
    if (input.source.offset !== undefined) headers[DLQ_HEADER.sourceOffset] = input.source.offset;
  }
  headers[DLQ_HEADER.originalSize] = String(payload.length);
  headers[DLQ_HEADER.truncated] = String(truncated);
  headers[DLQ_HEADER.sha256] = createHash('sha256').update(payload).digest('hex');
  return {
    key: input.key ?? null,
    value: truncated ? payload.subarray(0, limit) : payload,
    headers,
  };
}

/** Dead letter for a consumed message: carries its key, headers and topic/partition/offset. */
export function deadLetterFor(
  message: InMessage,
  input: Omit<DeadLetterInput, 'payload' | 'key' | 'headers' | 'source'>,
): OutMessage {
  return deadLetter({
    ...input,
    payload: message.value,
    key: message.key,
    headers: message.headers,
    source: { topic: message.topic, partition: message.partition, offset: message.offset },
  });
}
