import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { amqpConfigFromEnv, amqpEnvSchema, describeAmqpUrl } from './env.js';

describe('amqp env', () => {
  it('has working defaults', () => {
    const cfg = amqpConfigFromEnv(loadConfig(amqpEnvSchema, {}));
    expect(cfg).toEqual({
      connection: {
        protocol: 'amqp',
        hostname: '127.0.0.1',
        port: 5672,
        vhost: '/',
        username: 'guest',
        password: 'guest',
        heartbeat: 30,
      },
      topology: {
        exchange: 'microgrid',
        exchangeType: 'topic',
        routingKeys: ['#'],
        queue: 'gridstream.microgrid',
        queueType: 'classic',
      },
      prefetch: 1000,
    });
  });

  it('takes the password from AMQP_PASSWORD_FILE and never shows it in the described URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-amqp-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 'hunter2\n');
    const env = loadConfig(amqpEnvSchema, {
      AMQP_URL: 'amqps://rabbit.example:5671/plant%2Fa',
      AMQP_USERNAME: 'bridge',
      AMQP_PASSWORD_FILE: file,
    });
    const cfg = amqpConfigFromEnv(env);
    expect(cfg.connection).toMatchObject({
      protocol: 'amqps',
      username: 'bridge',
      password: 'hunter2',
      vhost: 'plant%2Fa',
    });
    const described = describeAmqpUrl(cfg.connection);
    expect(described).toBe('amqps://bridge@rabbit.example:5671/plant%2Fa');
    expect(described).not.toContain('hunter2');
  });

  it('strips credentials given in the URL from the description', () => {
    const cfg = amqpConfigFromEnv(loadConfig(amqpEnvSchema, { AMQP_URL: 'amqp://u:secret@h' }));
    expect(cfg.connection.password).toBe('secret');
    expect(describeAmqpUrl(cfg.connection)).toBe('amqp://u@h:5672');
  });

  it('rejects a non-AMQP URL without echoing it', () => {
    expect(() => loadConfig(amqpEnvSchema, { AMQP_URL: 'http://u:secret@h' })).toThrow(
      /AMQP_URL: must start with amqp/,
    );
    try {
      loadConfig(amqpEnvSchema, { AMQP_URL: 'not a url secret' });
    } catch (err) {
      expect((err as Error).message).toMatch(/AMQP_URL/);
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('splits several binding keys and validates enums and numbers', () => {
    const cfg = amqpConfigFromEnv(
      loadConfig(amqpEnvSchema, {
        AMQP_ROUTING_KEY: 'site.000001, site.000002',
        AMQP_EXCHANGE_TYPE: 'direct',
        AMQP_QUEUE_TYPE: 'quorum',
        AMQP_PREFETCH: '250',
      }),
    );
    expect(cfg.topology).toMatchObject({
      routingKeys: ['site.000001', 'site.000002'],
      exchangeType: 'direct',
      queueType: 'quorum',
    });
    expect(cfg.prefetch).toBe(250);
    expect(() => loadConfig(amqpEnvSchema, { AMQP_PREFETCH: '0', AMQP_EXCHANGE_TYPE: 'headers' })).toThrow(
      /2 problems/,
    );
  });
});

describe('backoffDelay', () => {
  it('grows exponentially and never exceeds the cap', () => {
    const opts = { initialMs: 100, maxMs: 5_000 };
    expect(backoffDelay(1, opts)).toBeGreaterThanOrEqual(80);
    expect(backoffDelay(1, opts)).toBeLessThanOrEqual(120);
    expect(backoffDelay(4, opts)).toBeGreaterThanOrEqual(640);
    for (let attempt = 1; attempt < 60; attempt++)
      expect(backoffDelay(attempt, opts)).toBeLessThanOrEqual(5_000);
  });
});
