import { archiveStoreEnvShape, checkArchiveEnv } from '@gridstream/archive';
import { envInt } from '@gridstream/config';
import { ARCHIVE_TABLE } from '@gridstream/schema';
import { z } from 'zod';

/**
 * Environment of the archive tools. The ARCHIVE_* names are the archiver's (one configuration for the
 * writer and the readers); GLUE_* and ATHENA_* are read only by the tools and by the archiver's optional
 * table check at start. AWS credentials are never variables of ours: the SDK's standard chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles) supplies them.
 */

const optionalText = z.string().min(1).optional();
const optionalUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional();

/** `s3://bucket/prefix/` (bucket required); the trailing slash is added when missing. */
const s3Url = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://bucket/prefix/')
  .transform((v) => (v.endsWith('/') ? v : `${v}/`));

/** The archive's own variables (@gridstream/archive), plus the readers' local copy of an S3 archive. */
export const archiveLocationEnvShape = {
  ...archiveStoreEnvShape,
  /** Where `--engine duckdb` and `archive verify` keep objects pulled from S3 (DuckDB cannot read S3 here). */
  ARCHIVE_CACHE_DIR: z.string().min(1).default('.local/archive-cache'),
};

export const glueEnvShape = {
  GLUE_DATABASE: z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, 'must be lower case letters, digits and _ (Athena lower-cases names)')
    .default('gridstream'),
  GLUE_TABLE: z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, 'must be lower case letters, digits and _ (Athena lower-cases names)')
    .default(ARCHIVE_TABLE),
  /** Only for emulators (moto); AWS_ENDPOINT_URL_GLUE / AWS_ENDPOINT_URL work too. */
  GLUE_ENDPOINT: optionalUrl,
  /** First day Athena's partition projection covers; backfilled days before it would be invisible. */
  GLUE_PROJECTION_START: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
    .default('2020-01-01'),
  GLUE_CRAWLER_NAME: z.string().min(1).default('gridstream-archive'),
  /** IAM role the crawler runs as (name or ARN); required by `gridstream glue crawler` only. */
  GLUE_CRAWLER_ROLE: optionalText,
  /** Crawled tables are named `<prefix><folder>`: a prefix keeps them from replacing the projected table. */
  GLUE_CRAWLER_TABLE_PREFIX: z.string().default('crawled_'),
};

export const athenaEnvShape = {
  /** Defaults to GLUE_DATABASE: the table the tools create is the one the queries read. */
  ATHENA_DATABASE: optionalText,
  ATHENA_CATALOG: z.string().min(1).default('AwsDataCatalog'),
  ATHENA_WORKGROUP: optionalText,
  /** `s3://bucket/prefix/` for result CSVs; may be left to the workgroup's own setting. */
  ATHENA_OUTPUT_LOCATION: s3Url.optional(),
  ATHENA_ENDPOINT: optionalUrl,
  ATHENA_TIMEOUT_MS: envInt(600_000, { min: 1_000, max: 86_400_000 }),
};

export const toolsEnvSchema = z
  .object({ ...archiveLocationEnvShape, ...glueEnvShape, ...athenaEnvShape })
  .superRefine((env, ctx) => checkArchiveEnv(env, ctx));
export type ToolsEnv = z.infer<typeof toolsEnvSchema>;

/**
 * Region of the Glue and Athena clients: the standard variables first, then the archive bucket's own
 * (the archive bucket itself uses archiveS3Region, as the archiver does).
 */
export function awsRegion(
  env: Pick<ToolsEnv, 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'ARCHIVE_S3_REGION'>,
): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? env.ARCHIVE_S3_REGION ?? 'us-east-1';
}

/**
 * Athena is the default engine when it is configured at all (a workgroup or an output location), DuckDB
 * otherwise: an operator without AWS gets answers from the local archive instead of a credentials error.
 */
export function athenaConfigured(
  env: Pick<ToolsEnv, 'ATHENA_WORKGROUP' | 'ATHENA_OUTPUT_LOCATION'>,
): boolean {
  return env.ATHENA_WORKGROUP !== undefined || env.ATHENA_OUTPUT_LOCATION !== undefined;
}
