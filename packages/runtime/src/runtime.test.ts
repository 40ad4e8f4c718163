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
      KAFKA_SSL_KEY: '-----BEGIN PRIVATE KEY-----',
      AMQP_URL: 'amqp://bridge:hunter2@rabbit:5672/vhost',
      nested: { apiKey: 'k', host: 'h' },
      KAFKA_BROKERS: ['a:9092'],
    });
    expect(out).toEqual({
      INFLUX_PASSWORD: '***',
      INFLUX_TOKEN: '***',
      KAFKA_SSL_KEY: '***',
      AMQP_URL: 'amqp://bridge:***@rabbit:5672/vhost',
      nested: { apiKey: '***', host: 'h' },
      KAFKA_BROKERS: ['a:9092'],
    });
  });

  it('leaves URLs without credentials alone', () => {
    expect(redactUrl('http://127.0.0.1:8086/write?db=x')).toBe('http://127.0.0.1:8086/write?db=x');
  });
});

describe('log lines', () => {
  it('mask secrets at any depth, in URLs anywhere in a string, and in errors with their causes', () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'test',
      destination: { write: (line: string) => lines.push(line) },
    });
    const cause = new Error('socket closed by amqps://bridge:s3cret@rabbit:5671/');
    const error = Object.assign(new Error('connect to amqps://bridge:s3cret@rabbit:5671 failed', { cause }), {
      code: 'ECONNRESET',
      options: { sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } },
    });
    logger.warn(
      {
        err: error,
        client: { connection: { auth: { password: 'deep-pw', user: 'svc' } }, apiKey: 'k-123' },
        urls: ['mqtts://dev:pw1@broker:8883', 'see https://ops:pw2@host/x and http://plain/y'],
        note: 'nothing secret',
      },
      'client failed',
    );
    expect(lines).toHaveLength(1);
    const text = lines[0]!;
    for (const secret of ['s3cret', 'hunter2', 'deep-pw', 'k-123', 'pw1', 'pw2'])
      expect(text).not.toContain(secret);
    const line = JSON.parse(text);
    expect(line.msg).toBe('client failed');
    expect(line.err.type).toBe('Error');
    // pino appends the causes' messages to the error's own.
    expect(line.err.message).toBe(
      'connect to amqps://bridge:***@rabbit:5671 failed: socket closed by amqps://bridge:***@rabbit:5671/',
    );
    expect(line.err.code).toBe('ECONNRESET');
    expect(line.err.stack).toContain('amqps://bridge:***@rabbit');
    expect(line.err.options.sasl).toEqual({ mechanism: 'plain', username: 'u', password: '***' });
    expect(line.client).toEqual({ connection: { auth: { password: '***', user: 'svc' } }, apiKey: '***' });
    expect(line.urls).toEqual([
      'mqtts://dev:***@broker:8883',
      'see https://ops:***@host/x and http://plain/y',
    ]);
    expect(line.note).toBe('nothing secret');
  });

  it('keep errors whose message and name are getters (DOMException: a fetch timeout), and never throw', () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'test',
      destination: { write: (line: string) => lines.push(line) },
    });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    class GetterError extends Error {
      override get message(): string {
        return 'from a getter at https://u:pw3@host/';
      }
    }
    const hostile = Object.defineProperty({ ok: 1 }, 'boom', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    logger.warn({ err: timeout }, 'write failed; retrying');
    logger.warn({ err: new GetterError(), hostile }, 'other');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.err.type).toBe('TimeoutError');
    expect(first.err.message).toBe('The operation was aborted due to timeout');
    const second = JSON.parse(lines[1]!);
    expect(second.err.message).toBe('from a getter at https://u:***@host/');
    expect(second.hostile).toEqual({ ok: 1 });
  });

  it('survive cycles', () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'test',
      destination: { write: (line: string) => lines.push(line) },
    });
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    logger.info({ a }, 'cyclic');
    expect(JSON.parse(lines[0]!).a).toEqual({ name: 'a', self: '[…]' });
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
