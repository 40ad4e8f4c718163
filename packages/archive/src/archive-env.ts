import { envBoolean, envInt } from '@gridstream/config';
import { z } from 'zod';

const MiB = 1024 * 1024;
const optionalText = z.string().min(1).optional();

/** `''` or `a/b/`: no leading slash (S3 keys have none), always a trailing one (keys are `<prefix>dt=…`). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * Where the archive is: a local directory by default (the demo needs no cloud), or a bucket on any
 * S3-compatible endpoint. Shared by the archiver and the CLI (export, query --engine duckdb, verify), so
 * one set of variables names one archive. Credentials are never variables of ours: the AWS SDK's standard
 * chain supplies them (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles; for Google
 * Cloud Storage, HMAC keys in the same two variables).
 */
export const archiveStoreEnvShape = {
  /** Root of the local archive when ARCHIVE_S3_BUCKET is not set: `<dir>/dt=YYYY-MM-DD/<file>.parquet`. */
  ARCHIVE_DIR: z.string().min(1).default('.local/archive'),
  ARCHIVE_S3_BUCKET: optionalText,
  /** Folder inside the bucket that is the archive's root (the Glue table location); `''` = bucket root. */
  ARCHIVE_S3_PREFIX: z.string().default('').transform(normalizePrefix),
  /** Any S3-compatible endpoint: MinIO, moto, `https://storage.googleapis.com` (GCS interoperability). */
  ARCHIVE_S3_ENDPOINT: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  ARCHIVE_S3_REGION: optionalText,
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`: MinIO and moto need it. */
  ARCHIVE_S3_FORCE_PATH_STYLE: envBoolean(false),
  /** Create the bucket when it is missing (emulators, demos); off by default, buckets are the operator's. */
  ARCHIVE_S3_CREATE_BUCKET: envBoolean(false),
  /** Files up to this size go up in one PUT; larger ones as a multipart upload in parts of this size. */
  ARCHIVE_S3_PART_BYTES: envInt(16 * MiB, { min: 5 * MiB, max: 5 * 1024 * MiB }),
  /** One S3 request (not a whole multipart upload) that takes longer is abandoned and retried. */
  ARCHIVE_S3_REQUEST_TIMEOUT_MS: envInt(60_000, { min: 1_000, max: 3_600_000 }),
  /** Attempts per request inside the SDK (exponential backoff); the archiver retries beyond that forever. */
  ARCHIVE_S3_MAX_ATTEMPTS: envInt(3, { min: 1, max: 20 }),
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
};

/** How the archiver cuts files. The readers (CLI) do not need these. */
export const archiveWriterEnvShape = {
  /** Target size of one Parquet file (estimated while it fills; compression ratio learned from written files). */
  ARCHIVE_TARGET_FILE_BYTES: envInt(128 * MiB, { min: 1_024, max: 5 * 1024 * MiB }),
  /** No record waits longer than this in an open file, even when no new data arrives (a timer closes it). */
  ARCHIVE_MAX_FILE_AGE_MS: envInt(300_000, { min: 100, max: 86_400_000 }),
  /** Files open at once over all partitions and days; past it, the oldest is closed. */
  ARCHIVE_MAX_OPEN_FILES: envInt(100, { min: 1, max: 10_000 }),
  /** Also close a file at this many rows (0 = no limit): bounds work per file, and makes cuts reproducible. */
  ARCHIVE_MAX_FILE_ROWS: envInt(0, { min: 0 }),
  /** Local scratch space: open files beyond DuckDB's memory limit and finished files waiting for upload. */
  ARCHIVE_SPOOL_DIR: optionalText,
  /** DuckDB's memory for open files; beyond it DuckDB spills them to ARCHIVE_SPOOL_DIR (e.g. `512MB`, `2GB`). */
  ARCHIVE_DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 512MB or 2GB')
    .default('512MB'),
  ARCHIVE_DUCKDB_THREADS: envInt(2, { min: 1, max: 256 }),
};

export const archiveEnvShape = { ...archiveStoreEnvShape, ...archiveWriterEnvShape };

const storeSchema = z.object(archiveStoreEnvShape);
const fullSchema = z.object(archiveEnvShape);
export type ArchiveStoreEnv = z.infer<typeof storeSchema>;
export type ArchiveEnv = z.infer<typeof fullSchema>;

/** Region of the archive bucket: the archive's own variable first, then the SDK's standard ones. */
export function archiveS3Region(
  env: Pick<ArchiveStoreEnv, 'ARCHIVE_S3_REGION' | 'AWS_REGION' | 'AWS_DEFAULT_REGION'>,
): string {
  return env.ARCHIVE_S3_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** Cross-field rules: S3 settings without a bucket would silently archive to the local directory instead. */
export function checkArchiveEnv(cfg: ArchiveStoreEnv, ctx: z.RefinementCtx): void {
  if (cfg.ARCHIVE_S3_BUCKET !== undefined) return;
  for (const name of ['ARCHIVE_S3_ENDPOINT', 'ARCHIVE_S3_REGION'] as const) {
    if (cfg[name] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${name} is set but ARCHIVE_S3_BUCKET is not, so the archive would be written to the local directory ARCHIVE_DIR instead`,
      });
    }
  }
  if (cfg.ARCHIVE_S3_PREFIX !== '') {
    ctx.addIssue({
      code: 'custom',
      path: ['ARCHIVE_S3_PREFIX'],
      message:
        'ARCHIVE_S3_PREFIX is set but ARCHIVE_S3_BUCKET is not, so the archive would be written to the local directory ARCHIVE_DIR instead',
    });
  }
}
