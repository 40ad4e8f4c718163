import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_URL, requireMoto, useMotoCredentials } from '../../../test/archive-helpers.js';
import { uniqueName } from '../../../test/helpers.js';
import { S3ObjectStore } from './s3-store.js';

// The shared moto server (deploy/local/moto.sh): a real HTTP S3 API, one fresh bucket per test.

let dir: string;
let client: S3Client;
beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  dir = await mkdtemp(join(tmpdir(), 'gs-s3-'));
  client = new S3Client({ region: 'us-east-1', endpoint: MOTO_URL, forcePathStyle: true, maxAttempts: 2 });
});
afterAll(async () => {
  client?.destroy();
  await rm(dir, { recursive: true, force: true });
});

const bucketName = () => uniqueName('gs-store').toLowerCase();

describe('S3ObjectStore against moto', () => {
  it('creates its bucket when allowed, puts (single and multipart), lists by prefix under its root, reads, deletes', async () => {
    const store = new S3ObjectStore({
      client,
      bucket: bucketName(),
      prefix: 'lake/telemetry',
      createBucket: true,
      partBytes: 5 * 1024 * 1024,
    });
    expect(store.location).toMatch(/^s3:\/\/gs-store-.*\/lake\/telemetry\/$/);
    await store.ensureReady();
    await store.ensureReady(); // idempotent

    const small = join(dir, 'small.parquet');
    await writeFile(small, 'PAR1 small PAR1');
    // 12 MiB: three 5 MiB parts (the minimum S3 allows), uploaded as one object.
    const big = join(dir, 'big.parquet');
    const bigBytes = randomBytes(12 * 1024 * 1024);
    await writeFile(big, bigBytes);
    await store.putFile('dt=2024-03-01/t+0+00000000000000000001+00000000000000000002.parquet', small);
    await store.putFile('dt=2024-03-01/t+1+00000000000000000001+00000000000000000009.parquet', big);
    await store.put('dt=2024-03-02/t+0+00000000000000000003+00000000000000000004.parquet', 'x');

    expect((await store.list('')).map((o) => o.key)).toEqual([
      'dt=2024-03-01/t+0+00000000000000000001+00000000000000000002.parquet',
      'dt=2024-03-01/t+1+00000000000000000001+00000000000000000009.parquet',
      'dt=2024-03-02/t+0+00000000000000000003+00000000000000000004.parquet',
    ]);
    expect((await store.list('dt=2024-03-01/t+1+')).map((o) => o.size)).toEqual([bigBytes.length]);
    expect(
      (await store.get('dt=2024-03-01/t+0+00000000000000000001+00000000000000000002.parquet')).toString(),
    ).toBe('PAR1 small PAR1');
    const copy = join(dir, 'copy', 'big.parquet');
    await store.getToFile('dt=2024-03-01/t+1+00000000000000000001+00000000000000000009.parquet', copy);
    expect((await readFile(copy)).equals(bigBytes)).toBe(true);

    // The same key again replaces the object: no second copy appears.
    await store.putFile('dt=2024-03-01/t+0+00000000000000000001+00000000000000000002.parquet', small);
    expect(await store.list('dt=2024-03-01/t+0+')).toHaveLength(1);

    expect(await store.head('dt=2024-03-09/none.parquet')).toBeUndefined();
    await store.delete('dt=2024-03-02/t+0+00000000000000000003+00000000000000000004.parquet');
    expect(await store.list('dt=2024-03-02/')).toHaveLength(0);
    await expect(store.put('../escape', 'x')).rejects.toThrow(/invalid object key/);
  });

  it('says what to do when the bucket is missing and it may not create it', async () => {
    const store = new S3ObjectStore({ client, bucket: bucketName() });
    await expect(store.ensureReady()).rejects.toThrow(/does not exist .*ARCHIVE_S3_CREATE_BUCKET=true/);
  });

  it('re-creates a bucket that vanished under it (an in-memory emulator restarted) when allowed', async () => {
    const bucket = bucketName();
    const store = new S3ObjectStore({ client, bucket, createBucket: true });
    // Never ensured: the first put meets NoSuchBucket, creates the bucket, and puts again.
    await store.put('dt=2024-03-01/a.parquet', 'a');
    expect((await store.list('')).map((o) => o.key)).toEqual(['dt=2024-03-01/a.parquet']);
  });
});
