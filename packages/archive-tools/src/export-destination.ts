import {
  type ArchiveStoreEnv,
  archiveS3Region,
  assertObjectKey,
  normalizePrefix,
  S3ObjectStore,
  s3ClientFromArchiveEnv,
} from '@gridstream/archive';
import { z } from 'zod';
import { archiveLocationEnvShape } from './tools-env.js';

/**
 * Where `gridstream export --out s3://bucket/prefix` writes: a bucket named on the command line rather than
 * the configured archive. The S3 *service* is the archive's (ARCHIVE_S3_ENDPOINT, ARCHIVE_S3_REGION,
 * ARCHIVE_S3_FORCE_PATH_STYLE, timeouts and attempts: s3ClientFromArchiveEnv, as the archiver resolves
 * them), the bucket and prefix are the URL's; credentials come from the SDK's standard chain only.
 */

/** `text/csv` in UTF-8, what the CSV writer writes. */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Url(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

/**
 * `s3://bucket/a/b` → { bucket: 'bucket', prefix: 'a/b/' } (prefix `''` for the bucket root). Throws with
 * a message for a malformed URL: an upper-case scheme or bucket, an invalid bucket name, `..` or empty
 * folders in the prefix.
 */
export function parseS3Destination(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`"${url}" is not an s3://bucket/prefix URL`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket)) {
    throw new Error(
      `"${bucket}" is not a bucket name (3 to 63 lower case letters, digits, dots and hyphens)`,
    );
  }
  const prefix = normalizePrefix(m[2] ?? '');
  if (prefix !== '') {
    try {
      assertObjectKey(prefix.slice(0, -1));
    } catch {
      throw new Error(`"${url}": the prefix must be folder names separated by single slashes`);
    }
  }
  return { bucket, prefix };
}

/**
 * What `--out s3://…` needs of the environment: the archive's S3 service settings, without the archive's
 * own cross-check (an endpoint with no ARCHIVE_S3_BUCKET is refused there because the archive would then
 * silently be the local folder; here the bucket is the URL's).
 */
export const exportS3EnvSchema = z.object(archiveLocationEnvShape);

/**
 * A store at `s3://bucket/prefix/`, over the archive's S3 client settings. ARCHIVE_S3_CREATE_BUCKET lets it
 * create a missing bucket (emulators, demos), as it does for the archiver.
 */
export function s3ExportStore(env: ArchiveStoreEnv, url: string): S3ObjectStore {
  const { bucket, prefix } = parseS3Destination(url);
  return new S3ObjectStore({
    client: s3ClientFromArchiveEnv(env),
    bucket,
    prefix,
    region: archiveS3Region(env),
    createBucket: env.ARCHIVE_S3_CREATE_BUCKET,
    partBytes: env.ARCHIVE_S3_PART_BYTES,
  });
}

/** The AWS SDK's error code (`name`), message and HTTP status: what an operator searches for. */
function describeCause(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const code = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${code}${e?.message ?? String(error)}${status ? ` (HTTP ${status})` : ''}`;
}

/**
 * The export's destination failed: not reachable or not writable before anything was read (`failed`
 * undefined), or one file's upload failed after `written` were stored. Those stay (each is complete: a put
 * is atomic) and the rest are not written; running the same export again replaces them and writes the rest.
 */
export class ExportDestinationError extends Error {
  constructor(
    /** `s3://bucket/prefix/` or the folder. */
    readonly destination: string,
    /** The file whose upload failed (as it would be listed); undefined when the check at start failed. */
    readonly failed: string | undefined,
    /** Files stored before the failure, as they are listed on success. */
    readonly written: readonly string[],
    override readonly cause: unknown,
  ) {
    const verb = destination.startsWith('s3://') ? 'upload' : 'write';
    super(
      failed === undefined
        ? `cannot write to ${destination}: ${describeCause(cause)}; nothing was exported`
        : `${verb} of ${failed} failed: ${describeCause(cause)}; ` +
            (written.length === 0
              ? 'no file was stored before it'
              : `${written.length} file(s) were stored before it (listed on stdout)`) +
            ', the rest of the range was not exported. Run the same export again once ' +
            `${destination} is writable: it replaces the same objects and writes the rest.`,
    );
    this.name = 'ExportDestinationError';
  }
}
