import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { buildHealthApp } from './health-server.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { Readiness } from './readiness.js';
import { redactSecrets, redactUrl } from './redact.js';

describe('redactSecrets', () => {
  it('masks secrets by key name and passwords inside URLs', () => {
    const out = redactSecrets({
      INFLUX_PASSWORD: 'pw',
      INFLUX_TOKEN: 'tok',
      AMQP_URL: 'amqp://bridge:hunter2@rabbit:5672/vhost',
      nested: { apiKey: 'k', host: 'h' },
      KAFKA_BROKERS: ['a:9092'],
    });
    expect(out).toEqual({
      INFLUX_PASSWORD: '***',
      INFLUX_TOKEN: '***',
      AMQP_URL: 'amqp://bridge:***@rabbit:5672/vhost',
      nested: { apiKey: '***', host: 'h' },
      KAFKA_BROKERS: ['a:9092'],
    });
  });

  it('leaves URLs without credentials alone', () => {
    expect(redactUrl('http://127.0.0.1:8086/write?db=x')).toBe('http://127.0.0.1:8086/write?db=x');
  });
});

describe('health app', () => {
  const setup = () => {
    const readiness = new Readiness();
    const app = buildHealthApp({
      readiness,
      metrics: createMetricsRegistry('test'),
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    return { readiness, app };
  };

  it('is live but not ready while starting', async () => {
    const { app } = setup();
    expect((await app.inject('/healthz/live')).statusCode).toBe(200);
    const ready = await app.inject('/healthz/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ready: false, state: 'starting' });
  });

  it('is ready when running and every check passes, 503 when a check fails or when stopping', async () => {
    const { app, readiness } = setup();
    let consumerOk = true;
    readiness.add('consumer', () => ({ ok: consumerOk, detail: consumerOk ? 'ok' : 'no progress for 60 s' }));
    readiness.state = 'running';
    expect((await app.inject('/healthz/ready')).statusCode).toBe(200);
    consumerOk = false;
    const stuck = await app.inject('/healthz/ready');
    expect(stuck.statusCode).toBe(503);
    expect(stuck.json().checks.consumer).toEqual({ ok: false, detail: 'no progress for 60 s' });
    consumerOk = true;
    readiness.state = 'stopping';
    expect((await app.inject('/healthz/ready')).statusCode).toBe(503);
  });

  it('serves Prometheus metrics with the service label', async () => {
    const { app } = setup();
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/gridstream_process_resident_memory_bytes\{service="test"\}/);
  });
});

describe('backoffDelay', () => {
  it('grows with attempts and stays under the cap', () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const d = backoffDelay(attempt, 100, 5_000);
      expect(d).toBeGreaterThanOrEqual(Math.min(5_000, 100 * 2 ** attempt) / 2 - 1);
      expect(d).toBeLessThanOrEqual(5_000);
    }
  });
});
