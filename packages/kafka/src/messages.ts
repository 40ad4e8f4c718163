import type { IHeaders, KafkaMessage } from 'kafkajs';

/** A message to produce: bytes in, bytes out; headers are UTF-8 strings. */
export interface OutMessage {
  key: string | Buffer | null;
  /** Explicit partition (a changelog partition that mirrors an input partition); default: by key. */
  partition?: number;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/** A consumed message, decoupled from kafkajs types so services never import the client library. */
export interface InMessage {
  topic: string;
  partition: number;
  /** int64 offset as a decimal string. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker/producer timestamp, ms since epoch. */
  timestamp: number;
}

export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    // Kafka allows repeated header names; the last one wins, as in most HTTP-like readers.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}

export function toInMessage(topic: string, partition: number, message: KafkaMessage): InMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}
