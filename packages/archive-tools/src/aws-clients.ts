import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3ClientFromArchiveEnv } from '@gridstream/archive';
import { awsRegion, type ToolsEnv } from './tools-env.js';

/**
 * The AWS clients of the tools, built from the environment. `maxAttempts` covers throttling and brief
 * outages with the SDK's own backoff; the tools are interactive, so they fail after that instead of
 * retrying forever like the archiver does.
 */

/** The archive bucket's client, resolved exactly as the archiver resolves it (region, endpoint, timeouts). */
export function s3ClientFromEnv(env: ToolsEnv): S3Client {
  return s3ClientFromArchiveEnv(env);
}

export function glueClientFromEnv(env: ToolsEnv): GlueClient {
  return new GlueClient({ region: awsRegion(env), endpoint: env.GLUE_ENDPOINT, maxAttempts: 5 });
}

export function athenaClientFromEnv(env: ToolsEnv): AthenaClient {
  return new AthenaClient({ region: awsRegion(env), endpoint: env.ATHENA_ENDPOINT, maxAttempts: 5 });
}

/** `s3://bucket/a/b.csv` → { bucket, key }. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, key: m[2]! };
}
