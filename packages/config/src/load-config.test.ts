import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envBoolean, envInt, envList, envMap } from './env-types.js';
import { ConfigError, loadConfig } from './load-config.js';

const schema = z.object({
  BROKERS: envList('127.0.0.1:9092'),
  BATCH_SIZE: envInt(500, { min: 1, max: 10_000 }),
  GZIP: envBoolean(false),
  ZONES: envMap(),
  PASSWORD: z.string().optional(),
});

describe('loadConfig', () => {
  it('applies defaults and parses strictly typed values', () => {
    const cfg = loadConfig(schema, { BATCH_SIZE: '42', GZIP: 'true', ZONES: 'a=Asia/Seoul, b=UTC' });
    expect(cfg).toEqual({
      BROKERS: ['127.0.0.1:9092'],
      BATCH_SIZE: 42,
      GZIP: true,
      ZONES: { a: 'Asia/Seoul', b: 'UTC' },
      PASSWORD: undefined,
    });
  });

  it('reads "false" as false, not as a truthy string', () => {
    expect(loadConfig(schema, { GZIP: 'false' }).GZIP).toBe(false);
    expect(loadConfig(schema, { GZIP: '0' }).GZIP).toBe(false);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(schema, { BATCH_SIZE: '' }).BATCH_SIZE).toBe(500);
  });

  it('reports every problem by variable name, not just the first', () => {
    let error: unknown;
    try {
      loadConfig(schema, { BATCH_SIZE: 'ten', GZIP: 'maybe', ZONES: 'nokey', BROKERS: ' , ' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(problems).toEqual(['BATCH_SIZE', 'BROKERS', 'GZIP', 'ZONES']);
    expect((error as ConfigError).message).toMatch(/4 problems/);
    expect((error as ConfigError).message).toMatch(/BATCH_SIZE: must be a whole number/);
  });

  it('rejects out-of-range numbers with the variable name', () => {
    expect(() => loadConfig(schema, { BATCH_SIZE: '0' })).toThrow(/BATCH_SIZE/);
  });

  it('reads a secret from <NAME>_FILE, trimming the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-config-'));
    const file = join(dir, 'password');
    writeFileSync(file, 's3cr3t\n');
    expect(loadConfig(schema, { PASSWORD_FILE: file }).PASSWORD).toBe('s3cr3t');
    // An explicit value wins over the file.
    expect(loadConfig(schema, { PASSWORD_FILE: file, PASSWORD: 'direct' }).PASSWORD).toBe('direct');
  });

  it('names the _FILE variable when the file cannot be read', () => {
    expect(() => loadConfig(schema, { PASSWORD_FILE: '/nonexistent/secret' })).toThrow(
      /PASSWORD_FILE: cannot read/,
    );
  });

  it('reports cross-field rules under (config) or their own path', () => {
    const crossField = z
      .object({ API: z.enum(['v1', 'v2']).default('v1'), TOKEN: z.string().optional() })
      .superRefine((cfg, ctx) => {
        if (cfg.API === 'v2' && !cfg.TOKEN)
          ctx.addIssue({
            code: 'custom',
            path: ['TOKEN'],
            message: 'required when API=v2, or every write fails',
          });
      });
    expect(() => loadConfig(crossField, { API: 'v2' })).toThrow(/TOKEN: required when API=v2/);
  });
});
