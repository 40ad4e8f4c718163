import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  type CreateBucketCommandInput,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { normalizePrefix } from './archive-env.js';
import { assertObjectKey, type ObjectInfo, type ObjectStore, PARQUET_CONTENT_TYPE } from './object-store.js';

export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  /** Folder inside the bucket that is the archive's root; `''` for the bucket root. */
  prefix?: string;
  /** Region for CreateBucket's location constraint (only used with createBucket). */
  region?: string;
  /** Create the bucket when it does not exist (emulators and demos; production buckets are the operator's). */
  createBucket?: boolean;
  /** Up to this size a file goes up in one PUT, above it as a multipart upload with parts of this size. */
  partBytes?: number;
}

const errorName = (error: unknown) => (error as { name?: string })?.name ?? '';
const httpStatus = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const isNotFound = (error: unknown) =>
  ['NotFound', 'NoSuchKey'].includes(errorName(error)) || httpStatus(error) === 404;
const isNoSuchBucket = (error: unknown) => errorName(error) === 'NoSuchBucket';

/**
 * The archive in a bucket on S3 or any S3-compatible service (MinIO, moto, Google Cloud Storage's
 * interoperability API). A PUT replaces the object atomically, so the archiver's re-uploads are
 * idempotent. Each request is retried by the SDK (exponential backoff, `maxAttempts` of the client); a
 * failure after that is thrown, and the archiver keeps retrying with its partitions paused.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partBytes: number;

  constructor(private readonly options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.partBytes = options.partBytes ?? 16 * 1024 * 1024;
    this.location = `s3://${this.bucket}/${this.prefix}`;
  }

  async ensureReady(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isNotFound(error) && !isNoSuchBucket(error)) throw error;
      if (!this.options.createBucket) {
        throw new Error(
          `bucket ${this.bucket} does not exist (create it, or set ARCHIVE_S3_CREATE_BUCKET=true to let the archiver create it)`,
        );
      }
      await this.createBucket();
    }
  }

  async putFile(key: string, path: string, contentType = PARQUET_CONTENT_TYPE): Promise<void> {
    await this.withBucket(async () => {
      // lib-storage sends a body smaller than one part as a single PUT, larger ones as multipart with
      // `queueSize` parts in flight; a failed multipart upload is aborted so no parts are left billed.
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: createReadStream(path),
          ContentType: contentType,
        },
        partSize: this.partBytes,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  async put(key: string, body: Uint8Array | string, contentType = PARQUET_CONTENT_TYPE): Promise<void> {
    await this.withBucket(async () => {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: body,
          ContentType: contentType,
        }),
      );
    });
  }

  async get(key: string): Promise<Buffer> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    if (!out.Body) throw new Error(`empty body for ${key}`);
    return Buffer.from(await out.Body.transformToByteArray());
  }

  async getToFile(key: string, path: string): Promise<void> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    if (!out.Body) throw new Error(`empty body for ${key}`);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(out.Body as Readable, createWriteStream(temp));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined || !obj.Key.startsWith(this.prefix)) continue;
        out.push({
          key: obj.Key.slice(this.prefix.length),
          size: obj.Size ?? 0,
          lastModified: obj.LastModified,
          etag: obj.ETag,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified, etag: out.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
  }

  close(): void {
    this.client.destroy();
  }

  private fullKey(key: string): string {
    assertObjectKey(key);
    return this.prefix + key;
  }

  /**
   * Runs a write; when the bucket is missing and the store may create it, creates it and writes again.
   * (An emulator restarted in memory, or a fresh MinIO, has lost its buckets.)
   */
  private async withBucket(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!this.options.createBucket || !isNoSuchBucket(error)) throw error;
      await this.createBucket();
      await write();
    }
  }

  private async createBucket(): Promise<void> {
    const input: CreateBucketCommandInput = { Bucket: this.bucket };
    // us-east-1 is the one region that refuses an explicit location constraint.
    if (this.options.region && this.options.region !== 'us-east-1') {
      input.CreateBucketConfiguration = {
        LocationConstraint: this.options.region as NonNullable<
          CreateBucketCommandInput['CreateBucketConfiguration']
        >['LocationConstraint'],
      };
    }
    try {
      await this.client.send(new CreateBucketCommand(input));
    } catch (error) {
      // Two writers racing to create it: the other one won, which is just as good.
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(errorName(error))) throw error;
    }
  }
}
