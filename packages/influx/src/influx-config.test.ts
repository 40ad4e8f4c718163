import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkInfluxEnv, influxConfigFromEnv, influxEnvSchema, influxEnvShape } from './influx-config.js';
import { authHeaders, quoteIdentifier } from './influx-http.js';

function parse(env: Record<string, string>) {
  return influxEnvSchema.safeParse(env);
}

function messages(env: Record<string, string>): string[] {
  const result = parse(env);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('influxEnvSchema', () => {
  it('has defaults for a local InfluxDB 1.x', () => {
    const cfg = influxConfigFromEnv(influxEnvSchema.parse({}));
    expect(cfg).toEqual({
      url: 'http://127.0.0.1:8086',
      api: 'v1',
      database: 'gridstream',
      retentionPolicy: undefined,
      username: undefined,
      password: undefined,
      org: undefined,
      bucket: undefined,
      token: undefined,
      createDatabase: true,
      timeoutMs: 10_000,
      gzip: false,
    });
  });

  it('parses booleans strictly: "false" and "0" are false, anything else but true/1 is an error', () => {
    expect(influxEnvSchema.parse({ INFLUX_GZIP: 'false' }).INFLUX_GZIP).toBe(false);
    expect(influxEnvSchema.parse({ INFLUX_GZIP: '0' }).INFLUX_GZIP).toBe(false);
    expect(influxEnvSchema.parse({ INFLUX_GZIP: '1' }).INFLUX_GZIP).toBe(true);
    expect(influxEnvSchema.parse({ INFLUX_CREATE_DATABASE: 'false' }).INFLUX_CREATE_DATABASE).toBe(false);
    expect(messages({ INFLUX_GZIP: 'yes please' })).toEqual(['INFLUX_GZIP: must be true, false, 1 or 0']);
  });

  it('parses the timeout as whole milliseconds within bounds', () => {
    expect(influxEnvSchema.parse({ INFLUX_TIMEOUT_MS: '2500' }).INFLUX_TIMEOUT_MS).toBe(2500);
    expect(messages({ INFLUX_TIMEOUT_MS: '2.5s' })[0]).toMatch(/INFLUX_TIMEOUT_MS: must be a whole number/);
    expect(messages({ INFLUX_TIMEOUT_MS: '5' })[0]).toMatch(/INFLUX_TIMEOUT_MS/);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(messages({ INFLUX_URL: 'influx:8086' })[0]).toMatch(/INFLUX_URL: must be an http\(s\) URL/);
    expect(influxConfigFromEnv(influxEnvSchema.parse({ INFLUX_URL: 'https://influx.example/' })).url).toBe(
      'https://influx.example',
    );
  });

  it('requires org, bucket and token for v2, saying what breaks without them', () => {
    const problems = messages({ INFLUX_API: 'v2' });
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('INFLUX_TOKEN'))).toMatch(/401/);
    expect(problems.find((p) => p.startsWith('INFLUX_ORG'))).toMatch(/org/);
    expect(problems.find((p) => p.startsWith('INFLUX_BUCKET'))).toMatch(/where points are written/);
    expect(messages({ INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_TOKEN: 't' })).toEqual(
      [],
    );
  });

  it('requires username and password together for v1', () => {
    expect(messages({ INFLUX_USERNAME: 'writer' })[0]).toMatch(/^INFLUX_PASSWORD: .*401/);
    expect(messages({ INFLUX_PASSWORD: 'pw' })[0]).toMatch(/^INFLUX_USERNAME/);
  });

  it('reads secrets from _FILE, trimming the newline; a direct value wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-influx-'));
    writeFileSync(join(dir, 'pw'), 's3cr3t\n');
    writeFileSync(join(dir, 'token'), 'tok\n');
    const v1 = influxConfigFromEnv(
      influxEnvSchema.parse({ INFLUX_USERNAME: 'w', INFLUX_PASSWORD_FILE: join(dir, 'pw') }),
    );
    expect(v1.password).toBe('s3cr3t');
    const v2 = influxConfigFromEnv(
      influxEnvSchema.parse({
        INFLUX_API: 'v2',
        INFLUX_ORG: 'o',
        INFLUX_BUCKET: 'b',
        INFLUX_TOKEN_FILE: join(dir, 'token'),
      }),
    );
    expect(v2.token).toBe('tok');
    const direct = influxConfigFromEnv(
      influxEnvSchema.parse({
        INFLUX_USERNAME: 'w',
        INFLUX_PASSWORD: 'direct',
        INFLUX_PASSWORD_FILE: join(dir, 'pw'),
      }),
    );
    expect(direct.password).toBe('direct');
  });

  it('names the _FILE variable when the file cannot be read', () => {
    expect(messages({ INFLUX_USERNAME: 'w', INFLUX_PASSWORD_FILE: '/nonexistent/pw' })[0]).toMatch(
      /^INFLUX_PASSWORD_FILE: cannot read \/nonexistent\/pw/,
    );
  });

  it('can be spread into a service schema together with its rules', () => {
    const service = z
      .object({ ...influxEnvShape, BATCH: z.string().default('1') })
      .superRefine(checkInfluxEnv);
    expect(service.safeParse({ INFLUX_API: 'v2' }).success).toBe(false);
    expect(service.parse({}).INFLUX_DATABASE).toBe('gridstream');
  });
});

describe('authHeaders', () => {
  const base = influxConfigFromEnv(influxEnvSchema.parse({}));
  it('sends Basic auth for v1 and a Token for v2, never credentials in the URL', () => {
    expect(authHeaders(base)).toEqual({});
    expect(authHeaders({ ...base, username: 'u', password: 'p:w' })).toEqual({
      authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    });
    expect(authHeaders({ ...base, api: 'v2', token: 'user:pass' })).toEqual({
      authorization: 'Token user:pass',
    });
  });
});

describe('quoteIdentifier', () => {
  it('quotes and escapes InfluxQL identifiers', () => {
    expect(quoteIdentifier('gridstream')).toBe('"gridstream"');
    expect(quoteIdentifier('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});
