import { S3Client } from '@aws-sdk/client-s3';
import { type ArchiveStoreEnv, archiveS3Region } from './archive-env.js';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-store.js';

/**
 * The S3 client for the archive bucket. Credentials come from the SDK's standard chain. A request that
 * hangs (a half-dead endpoint) is cut after ARCHIVE_S3_REQUEST_TIMEOUT_MS and retried like any failure.
 */
export function s3ClientFromArchiveEnv(env: ArchiveStoreEnv): S3Client {
  return new S3Client({
    region: archiveS3Region(env),
    endpoint: env.ARCHIVE_S3_ENDPOINT,
    forcePathStyle: env.ARCHIVE_S3_FORCE_PATH_STYLE,
    maxAttempts: env.ARCHIVE_S3_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: env.ARCHIVE_S3_REQUEST_TIMEOUT_MS },
  });
}

/** The configured archive: the bucket when ARCHIVE_S3_BUCKET is set, the local ARCHIVE_DIR otherwise. */
export function createObjectStore(env: ArchiveStoreEnv): ObjectStore {
  if (env.ARCHIVE_S3_BUCKET === undefined) return new LocalObjectStore(env.ARCHIVE_DIR);
  return new S3ObjectStore({
    client: s3ClientFromArchiveEnv(env),
    bucket: env.ARCHIVE_S3_BUCKET,
    prefix: env.ARCHIVE_S3_PREFIX,
    region: archiveS3Region(env),
    createBucket: env.ARCHIVE_S3_CREATE_BUCKET,
    partBytes: env.ARCHIVE_S3_PART_BYTES,
  });
}
