import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { MOTO_URL } from '../../../test/archive-helpers.js';

/**
 * Test helpers for the moto server that `deploy/local/moto.sh start` runs (S3, Glue and Athena in one
 * process), on top of the archive's shared ones (test/archive-helpers.ts).
 */

export { MOTO_URL, requireMoto, useMotoCredentials } from '../../../test/archive-helpers.js';
export const MOTO_REGION = 'us-east-1';
/** moto's default account. */
export const MOTO_ACCOUNT = '123456789012';

/**
 * The environment that points the tools at moto: Glue and Athena always, the archive bucket when
 * ARCHIVE_S3_BUCKET is given (an S3 endpoint without a bucket is refused by the archive's config).
 */
export function motoEnv(extra: Record<string, string> = {}): Record<string, string> {
  const s3: Record<string, string> =
    extra.ARCHIVE_S3_BUCKET === undefined
      ? {}
      : { ARCHIVE_S3_ENDPOINT: MOTO_URL, ARCHIVE_S3_FORCE_PATH_STYLE: 'true' };
  return { AWS_REGION: MOTO_REGION, GLUE_ENDPOINT: MOTO_URL, ATHENA_ENDPOINT: MOTO_URL, ...s3, ...extra };
}

export function motoS3(): S3Client {
  return new S3Client({ region: MOTO_REGION, endpoint: MOTO_URL, forcePathStyle: true });
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

export interface AthenaColumnInfo {
  Name: string;
  Label?: string;
  Type: string;
}

/**
 * Queues a result that moto's Athena will hand to the next query execution whose results are read.
 * moto never runs SQL; this is its documented way to make GetQueryResults return something.
 */
export async function queueAthenaResult(
  columns: AthenaColumnInfo[],
  rows: (string | null)[][],
): Promise<void> {
  const body = {
    account_id: MOTO_ACCOUNT,
    region: MOTO_REGION,
    results: [
      {
        rows: rows.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        column_info: columns.map((c) => ({
          CatalogName: 'hive',
          SchemaName: '',
          TableName: '',
          Name: c.Name,
          Label: c.Label ?? c.Name,
          Type: c.Type,
          Precision: 0,
          Scale: 0,
          Nullable: 'UNKNOWN',
          CaseSensitive: c.Type === 'varchar',
        })),
      },
    ],
  };
  const res = await fetch(`${MOTO_URL}/moto-api/static/athena/query-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201)
    throw new Error(`moto refused the Athena results: ${res.status} ${await res.text()}`);
}
