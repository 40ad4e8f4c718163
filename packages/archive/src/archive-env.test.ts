import { loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { archiveEnvShape, archiveS3Region, checkArchiveEnv } from './archive-env.js';

const schema = z.object(archiveEnvShape).superRefine(checkArchiveEnv);

describe('archive environment', () => {
  it('defaults to a local directory, 128 MiB files, 5 minutes, 100 open files', () => {
    const cfg = loadConfig(schema, {});
    expect(cfg).toMatchObject({
      ARCHIVE_DIR: '.local/archive',
      ARCHIVE_S3_FORCE_PATH_STYLE: false,
      ARCHIVE_TARGET_FILE_BYTES: 128 * 1024 * 1024,
      ARCHIVE_MAX_FILE_AGE_MS: 300_000,
      ARCHIVE_MAX_OPEN_FILES: 100,
    });
    expect(cfg.ARCHIVE_S3_BUCKET).toBeUndefined();
    expect(cfg.ARCHIVE_S3_PREFIX).toBe('');
    expect(archiveS3Region(cfg)).toBe('us-east-1');
  });

  it('normalises the prefix and prefers the archive region over the SDK variables', () => {
    const cfg = loadConfig(schema, {
      ARCHIVE_S3_BUCKET: 'b',
      ARCHIVE_S3_PREFIX: '/lake/telemetry',
      ARCHIVE_S3_REGION: 'eu-central-1',
      AWS_REGION: 'us-west-2',
    });
    expect(cfg.ARCHIVE_S3_PREFIX).toBe('lake/telemetry/');
    expect(archiveS3Region(cfg)).toBe('eu-central-1');
  });

  it('refuses S3 settings without a bucket, saying where the archive would go instead', () => {
    expect(() => loadConfig(schema, { ARCHIVE_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(
      /ARCHIVE_S3_ENDPOINT is set but ARCHIVE_S3_BUCKET is not, so the archive would be written to the local directory/,
    );
    expect(() => loadConfig(schema, { ARCHIVE_DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(/512MB or 2GB/);
  });
});
