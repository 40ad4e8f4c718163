import { join, resolve } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { openConnection } from './connect.js';
import { amqpConfigFromEnv, amqpEnvSchema } from './env.js';

/**
 * The local RabbitMQ's TLS listener (deploy/local/rabbitmq.sh: amqps on 5671, client certificate required,
 * both certificates signed by a throw-away CA under .local/rabbitmq/tls), reached with the AMQP_TLS_*
 * settings read from files, as an operator would mount them.
 */
const TLS_DIR = resolve(import.meta.dirname, '..', '..', '..', '.local', 'rabbitmq', 'tls');
const URL = `amqps://127.0.0.1:${process.env.AMQPS_PORT ?? '5671'}`;
const files = {
  AMQP_TLS_CA_FILE: join(TLS_DIR, 'ca.pem'),
  AMQP_TLS_CERT_FILE: join(TLS_DIR, 'client.pem'),
  AMQP_TLS_KEY_FILE: join(TLS_DIR, 'client.key'),
};
const connectionOf = (env: Record<string, string>) =>
  amqpConfigFromEnv(loadConfig(amqpEnvSchema, { AMQP_URL: URL, ...env })).connection;

/** The error a connection attempt ends with, or 'connected'. */
async function attempt(env: Record<string, string>): Promise<string> {
  try {
    const connection = await openConnection(connectionOf(env), 'gridstream-tls-test', 5_000);
    await connection.close();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('amqps:// with AMQP_TLS_*', () => {
  it('moves a message through the TLS listener with the CA and a client certificate from files', async () => {
    const connection = await openConnection(connectionOf(files), 'gridstream-tls-test', 5_000);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('over TLS'));
      let got: false | { content: Buffer } = false;
      for (let i = 0; i < 50 && got === false; i++) {
        got = await channel.get(queue, { noAck: true });
        if (got === false) await new Promise((r) => setTimeout(r, 50));
      }
      expect(got === false ? null : got.content.toString()).toBe('over TLS');
    } finally {
      await connection.close();
    }
  });

  it('fails without the CA, without a client certificate, and for a name the certificate does not carry', async () => {
    expect(
      await attempt({
        AMQP_TLS_CERT_FILE: files.AMQP_TLS_CERT_FILE,
        AMQP_TLS_KEY_FILE: files.AMQP_TLS_KEY_FILE,
      }),
    ).toMatch(/self[- ]signed certificate/i);
    // TLS 1.3: the broker's refusal of a missing client certificate arrives as an alert after the handshake.
    expect(await attempt({ AMQP_TLS_CA_FILE: files.AMQP_TLS_CA_FILE })).toMatch(/certificate required/);
    expect(await attempt({ ...files, AMQP_TLS_SERVERNAME: 'broker.example.org' })).toMatch(
      /does not match certificate's altnames|altnames/i,
    );
  });

  it('refuses TLS settings with a plain amqp:// URL, and a certificate without its key, naming each', () => {
    expect(() =>
      loadConfig(amqpEnvSchema, { AMQP_URL: 'amqp://127.0.0.1', AMQP_TLS_CA: 'x', AMQP_TLS_CERT: 'y' }),
    ).toThrow(
      /AMQP_TLS_CA: is set, so AMQP_URL must start with amqps:\/\/[\s\S]*AMQP_TLS_CERT: is set, so AMQP_URL must start with amqps:\/\/[\s\S]*AMQP_TLS_KEY: a client certificate needs both/,
    );
    expect(connectionOf({}).tls).toEqual({});
    expect(
      amqpConfigFromEnv(loadConfig(amqpEnvSchema, { AMQP_URL: 'amqp://h' })).connection.tls,
    ).toBeUndefined();
  });
});
