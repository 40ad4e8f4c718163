import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { timescaleWriterConfigSchema } from './config.js';
import { poolConfig } from './postgres-target.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(timescaleWriterConfigSchema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.variable);
  }
  return [];
}

describe('timescale-writer configuration', () => {
  it('has defaults for a local PostgreSQL and the sink seam', () => {
    const cfg = loadConfig(timescaleWriterConfigSchema, {});
    expect(cfg).toMatchObject({
      HEALTH_PORT: 9110,
      WRITER_GROUP_ID: 'gridstream-timescale-writer',
      WRITER_BATCH_SIZE: 5000,
      WRITER_WRITES_IN_FLIGHT: 3,
      WRITER_ALARMS: true,
      PG_HOST: '127.0.0.1',
      PG_PORT: 5432,
      PG_DATABASE: 'gridstream',
      PG_USER: 'gridstream',
      PG_SSL: 'disable',
      PG_SCHEMA: 'public',
      PG_CREATE_TABLES: true,
      PG_TIMESCALE: 'auto',
      PG_CHUNK_INTERVAL: '1 day',
      PG_CONNECT_TIMEOUT_MS: 10_000,
      PG_WRITE_TIMEOUT_MS: 60_000,
    });
    expect(cfg.PG_PASSWORD).toBeUndefined();
    expect(cfg.PG_COMPRESS_AFTER).toBeUndefined();
    expect(cfg.PG_RETENTION).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    expect(
      problems({
        PG_PORT: '70000',
        PG_SSL: 'prefer',
        PG_SCHEMA: 'Grid-Stream',
        PG_CREATE_TABLES: 'maybe',
        PG_TIMESCALE: 'yes',
        PG_CHUNK_INTERVAL: '1 fortnight',
        PG_COMPRESS_AFTER: '7',
        PG_RETENTION: 'forever',
        PG_CONNECT_TIMEOUT_MS: '10s',
        PG_WRITE_TIMEOUT_MS: '0',
        WRITER_BATCH_SIZE: '0',
      }).sort(),
    ).toEqual(
      [
        'PG_PORT',
        'PG_SSL',
        'PG_SCHEMA',
        'PG_CREATE_TABLES',
        'PG_TIMESCALE',
        'PG_CHUNK_INTERVAL',
        'PG_COMPRESS_AFTER',
        'PG_RETENTION',
        'PG_CONNECT_TIMEOUT_MS',
        'PG_WRITE_TIMEOUT_MS',
        'WRITER_BATCH_SIZE',
      ].sort(),
    );
  });

  it('names every contradiction at once', () => {
    expect(
      problems({
        PG_SSL: 'require',
        PG_SSL_CA: '-----BEGIN CERTIFICATE-----',
        PG_TIMESCALE: 'off',
        PG_COMPRESS_AFTER: '7 days',
        PG_RETENTION: '1 year',
        KAFKA_TOPIC_ALARMS: 'telemetry.parsed',
      }).sort(),
    ).toEqual(['KAFKA_TOPIC_ALARMS', 'PG_COMPRESS_AFTER', 'PG_RETENTION', 'PG_SSL_CA'].sort());
    expect(
      problems({ PG_CREATE_TABLES: 'false', PG_RETENTION: '30 days', PG_COMPRESS_AFTER: '2 days' }).sort(),
    ).toEqual(['PG_COMPRESS_AFTER', 'PG_RETENTION']);
    expect(problems({ PG_TIMESCALE: 'on', PG_COMPRESS_AFTER: '7 days', PG_RETENTION: '365 days' })).toEqual(
      [],
    );
  });

  it('reads the password from PG_PASSWORD_FILE and hands node-postgres every setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-pg-config-'));
    const file = join(dir, 'password');
    writeFileSync(file, 's3cret\n');
    const cfg = loadConfig(timescaleWriterConfigSchema, {
      PG_PASSWORD_FILE: file,
      PG_HOST: 'db.example',
      PG_PORT: '6432',
      PG_SSL: 'verify-full',
      PG_SSL_CA: 'CA PEM',
      WRITER_WRITES_IN_FLIGHT: '4',
    });
    expect(poolConfig(cfg)).toMatchObject({
      host: 'db.example',
      port: 6432,
      database: 'gridstream',
      user: 'gridstream',
      password: 's3cret',
      ssl: { rejectUnauthorized: true, ca: 'CA PEM' },
      application_name: 'gridstream-timescale-writer',
      connectionTimeoutMillis: 10_000,
      query_timeout: 60_000,
      max: 4,
    });
    // Unset is an empty password, never one node-postgres would look up in PGPASSWORD or ~/.pgpass.
    expect(poolConfig(loadConfig(timescaleWriterConfigSchema, {})).password).toBe('');
    expect(poolConfig(loadConfig(timescaleWriterConfigSchema, { PG_SSL: 'require' })).ssl).toEqual({
      rejectUnauthorized: false,
    });
  });
});
