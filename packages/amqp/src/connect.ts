import { type ChannelModel, connect } from 'amqplib';
import type { AmqpConnectionConfig } from './env.js';

/**
 * Opens a connection from the parsed settings as an options object, so no URL with the password in it
 * exists anywhere (it could otherwise end up in an error message or a heap dump of a log line).
 * `connectionName` shows up in the RabbitMQ management UI and `rabbitmqctl list_connections`, which is how
 * an operator (or a test) tells the bridge's connection from the simulator's.
 */
export async function openConnection(
  connection: AmqpConnectionConfig,
  connectionName: string,
  timeoutMs = 10_000,
): Promise<ChannelModel> {
  return connect(
    {
      protocol: connection.protocol,
      hostname: connection.hostname,
      port: connection.port,
      vhost: connection.vhost,
      username: connection.username,
      password: connection.password,
      heartbeat: connection.heartbeat,
    },
    // Socket options reach tls.connect for amqps://: the CA, client certificate and key, the server name.
    {
      clientProperties: { connection_name: connectionName },
      timeout: timeoutMs,
      noDelay: true,
      ...connection.tls,
    },
  );
}
