import { amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import { loadConfig } from '@gridstream/config';
import { RawHeadersSchema } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { amqpSource, rawHeaders } from './raw-headers.js';

const connectionFor = (env: Record<string, string>) =>
  amqpConfigFromEnv(loadConfig(amqpEnvSchema, env)).connection;

describe('amqpSource', () => {
  it('names host and queue, never credentials', () => {
    const conn = connectionFor({
      AMQP_URL: 'amqp://bridge:s3cret@rabbit.local:5672',
      AMQP_PASSWORD: 'other',
    });
    expect(amqpSource(conn, 'gridstream.microgrid')).toBe('amqp://rabbit.local/gridstream.microgrid');
    expect(amqpSource(conn, 'gridstream.microgrid')).not.toMatch(/s3cret|other|bridge/);
  });

  it('keeps a non-default port and vhost', () => {
    const conn = connectionFor({ AMQP_URL: 'amqps://rabbit.local:5700/plant' });
    expect(amqpSource(conn, 'q')).toBe('amqps://rabbit.local:5700/q?vhost=plant');
  });
});

describe('rawHeaders', () => {
  it('builds headers that satisfy the raw header schema', () => {
    const at = new Date('2023-06-09T11:34:06.123Z').toISOString();
    const headers = rawHeaders('microgrid.v1', 'amqp://h/q', at, '000001-7');
    expect(headers).toEqual({
      'gs-schema': 'microgrid.v1',
      'gs-source': 'amqp://h/q',
      'gs-received-at': '2023-06-09T11:34:06.123Z',
      'gs-message-id': '000001-7',
    });
    expect(RawHeadersSchema.safeParse(headers).success).toBe(true);
  });

  it('leaves out the message id when the publisher set none', () => {
    expect(rawHeaders('samples.v1', 'amqp://h/q', new Date().toISOString(), undefined)).not.toHaveProperty(
      'gs-message-id',
    );
    expect(rawHeaders('samples.v1', 'amqp://h/q', new Date().toISOString(), '')).not.toHaveProperty(
      'gs-message-id',
    );
  });
});
