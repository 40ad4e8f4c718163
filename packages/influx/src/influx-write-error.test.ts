import { describe, expect, it } from 'vitest';
import {
  codeForStatus,
  errorFromResponse,
  errorFromThrown,
  INFLUX_WRITE_ERROR_CODES,
  InfluxWriteError,
  influxErrorText,
  parseRetryAfter,
} from './influx-write-error.js';

const noHeaders = { get: () => null };
const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null });

describe('codeForStatus', () => {
  it.each([
    [400, 'rejected', false],
    [422, 'rejected', false],
    [413, 'too_large', false],
    [401, 'unauthorized', true],
    [403, 'unauthorized', true],
    [404, 'not_found', true],
    [429, 'throttled', true],
    [503, 'throttled', true],
    [500, 'server_error', true],
    [502, 'server_error', true],
    [405, 'unexpected_status', true],
    [302, 'unexpected_status', true],
  ] as const)('%i → %s (retriable %s)', (status, code, retriable) => {
    expect(codeForStatus(status)).toBe(code);
    expect(INFLUX_WRITE_ERROR_CODES[code].retriable).toBe(retriable);
  });

  it('treats 1.x "retention policy not found" (a 500) as a configuration problem', () => {
    expect(codeForStatus(500, 'retention policy not found: nosuchrp')).toBe('not_found');
  });
});

describe('errorFromResponse', () => {
  it('reports a 1.x field type conflict as non-retriable with the server text and dropped count', () => {
    const body =
      '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type boolean, already exists as type float dropped=1"}';
    const error = errorFromResponse(400, body, noHeaders, 5);
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.retriable).toBe(false);
    expect(error.code).toBe('rejected');
    expect(error.status).toBe(400);
    expect(error.influxMessage).toMatch(/^partial write: field type conflict/);
    expect(error.partial).toBe(true);
    expect(error.dropped).toBe(1);
    expect(error.lines).toBe(5);
    expect(error.message).toContain('HTTP 400');
  });

  it('knows that 1.x counts unparsable lines as dropped=0', () => {
    const error = errorFromResponse(
      400,
      `{"error":"partial write: unable to parse 'm v=oops 1': invalid boolean dropped=0"}`,
      noHeaders,
    );
    expect(error.partial).toBe(true);
    expect(error.dropped).toBe(0);
    expect(error.retriable).toBe(false);
  });

  it('marks 413 as too large so the caller splits the batch', () => {
    const error = errorFromResponse(413, '{"error":"Request Entity Too Large"}', noHeaders);
    expect(error.tooLarge).toBe(true);
    expect(error.retriable).toBe(false);
  });

  it('marks auth and not-found errors as retriable configuration problems', () => {
    for (const status of [401, 403, 404]) {
      const error = errorFromResponse(status, '{"error":"authorization failed"}', noHeaders);
      expect(error.retriable).toBe(true);
      expect(error.configProblem).toBe(true);
    }
  });

  it('reads Retry-After on 429/503', () => {
    const error = errorFromResponse(429, '', headers({ 'retry-after': '7' }));
    expect(error.retryAfterMs).toBe(7000);
    expect(error.retriable).toBe(true);
  });

  it('uses the X-Influxdb-Error header when the body is empty, else the status', () => {
    expect(
      errorFromResponse(500, '', headers({ 'x-influxdb-error': 'engine: cache full' })).influxMessage,
    ).toBe('engine: cache full');
    expect(errorFromResponse(502, '', noHeaders).influxMessage).toBe('HTTP 502');
  });
});

describe('influxErrorText', () => {
  it('reads 1.x, 2.x and plain-text bodies', () => {
    expect(influxErrorText('{"error":"database not found: \\"x\\""}')).toBe('database not found: "x"');
    expect(influxErrorText('{"code":"invalid","message":"unable to parse"}')).toBe('unable to parse');
    expect(influxErrorText('404 page not found\n')).toBe('404 page not found');
    expect(influxErrorText('{broken')).toBe('{broken');
  });

  it('caps very long messages', () => {
    expect(influxErrorText(`{"error":"${'x'.repeat(10_000)}"}`).length).toBe(2000);
  });
});

describe('errorFromThrown', () => {
  it('classifies fetch network failures as retriable network errors with the system code', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = errorFromThrown(new TypeError('fetch failed', { cause }), 3);
    expect(error.code).toBe('network');
    expect(error.retriable).toBe(true);
    expect(error.status).toBeUndefined();
    expect(error.influxMessage).toContain('ECONNREFUSED');
    expect(error.lines).toBe(3);
  });

  it('classifies AbortSignal.timeout and the client timeouts as retriable timeouts', () => {
    for (const name of ['TimeoutError', 'AbortError', 'RequestTimedOutError']) {
      const e = new Error('x');
      e.name = name;
      expect(errorFromThrown(e).code).toBe('timeout');
      expect(errorFromThrown(e).retriable).toBe(true);
    }
  });

  it('passes an InfluxWriteError through unchanged', () => {
    const original = new InfluxWriteError({ code: 'rejected', status: 400, influxMessage: 'bad' });
    expect(errorFromThrown(original)).toBe(original);
  });

  it('copes with odd throwables', () => {
    expect(errorFromThrown('boom').code).toBe('network');
    expect(errorFromThrown(undefined).retriable).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
