import type { AmqpConnectionConfig } from '@gridstream/amqp';
import { RAW_HEADER, type SchemaId } from '@gridstream/schema';

/**
 * `amqp://host/queue` for the `gs-source` header: where a raw message came from, for replay and
 * debugging. Never the credentials; the port only when it is not the protocol's default.
 */
export function amqpSource(connection: AmqpConnectionConfig, queue: string): string {
  const defaultPort = connection.protocol === 'amqps' ? 5671 : 5672;
  const host = connection.hostname.includes(':') ? `[${connection.hostname}]` : connection.hostname;
  const port = connection.port === defaultPort ? '' : `:${connection.port}`;
  const vhost = connection.vhost === '/' ? '' : `?vhost=${connection.vhost}`;
  return `${connection.protocol}://${host}${port}/${encodeURIComponent(queue)}${vhost}`;
}

/** Kafka headers of one raw message (see RawHeadersSchema). */
export function rawHeaders(
  schema: SchemaId,
  source: string,
  receivedAt: string,
  messageId: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    [RAW_HEADER.schema]: schema,
    [RAW_HEADER.source]: source,
    [RAW_HEADER.receivedAt]: receivedAt,
  };
  if (messageId !== undefined && messageId !== '') headers[RAW_HEADER.messageId] = messageId;
  return headers;
}
