export interface ObjectInfo {
  /** Relative to the store's root, `/`-separated: `dt=2024-03-01/telemetry.parsed+0+…parquet`. */
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
}

/**
 * Where archive files go: a local directory or a bucket (prefix) on an S3-compatible service. Keys are
 * relative to the archive's root. A put is atomic — readers see the old object or the whole new one,
 * never a part — and putting the same key again replaces it, which is what makes re-uploads idempotent.
 * Methods throw on failure; callers decide whether to retry (the archiver retries forever, paused).
 */
export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** `s3://bucket/prefix/` or the absolute directory with a trailing slash: the Glue table location. */
  readonly location: string;
  /** Checks the store can be written (creates the directory, or the bucket when configured to). */
  ensureReady(): Promise<void>;
  /** Uploads a local file (multipart when large). */
  putFile(key: string, path: string, contentType?: string): Promise<void>;
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Downloads to a local path (written beside it first and renamed, so a crash leaves no half file). */
  getToFile(key: string, path: string): Promise<void>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  head(key: string): Promise<ObjectInfo | undefined>;
  delete(key: string): Promise<void>;
  close(): void;
}

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

/**
 * Refuses keys that could land outside the archive's root or mean different things to different stores:
 * absolute paths, `.`/`..` or empty segments, backslashes, control characters.
 */
export function assertObjectKey(key: string): void {
  const bad = (why: string) => new Error(`invalid object key ${JSON.stringify(key)}: ${why}`);
  if (key.length === 0 || key.length > 1_024) throw bad('must be 1 to 1024 characters');
  if (key.startsWith('/')) throw bad('must be relative');
  if (key.includes('\\')) throw bad('must not contain a backslash');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) throw bad('must not contain control characters');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw bad('has an empty, "." or ".." segment');
  }
}
