import { archiveEnvShape, checkArchiveEnv } from '@gridstream/archive';
import { envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';

export const archiverConfigSchema = z
  .object({
    ...runtimeEnvShape(9106),
    ...kafkaEnvShape,
    ...archiveEnvShape,
    /** Its own consumer group: the archive keeps its own position in telemetry.parsed. */
    ARCHIVER_GROUP_ID: z.string().min(1).default('gridstream-archiver'),
    /** Messages per handler call. */
    ARCHIVER_BATCH_SIZE: envInt(5_000, { min: 1, max: 100_000 }),
    /** Partitions handled at once (each has its own open files; uploads of different partitions overlap). */
    ARCHIVER_CONCURRENCY: envInt(6, { min: 1, max: 256 }),
    /** Bytes fetched per partition per request. */
    ARCHIVER_FETCH_BYTES: envInt(2 * 1024 * 1024, { min: 1_024, max: 64 * 1024 * 1024 }),
    /**
     * How often each partition's owner lists again the days it uploaded to recently and deletes a former
     * owner's object that landed late over its own (see partition-archive.ts, "Rebalances and late uploads").
     */
    ARCHIVER_RECONCILE_INTERVAL_MS: envInt(60_000, { min: 1_000, max: 3_600_000 }),
    /**
     * How long after its last upload to a day an owner keeps checking that day. Must outlast the longest
     * an upload can stay in flight (ARCHIVE_S3_REQUEST_TIMEOUT_MS × ARCHIVE_S3_MAX_ATTEMPTS), the latest a
     * former owner's upload can land.
     */
    ARCHIVER_RECONCILE_WINDOW_MS: envInt(30 * 60_000, { min: 10_000, max: 7 * 24 * 3_600_000 }),
    /**
     * TEST ONLY: commit nothing of a partition until this long after its last upload, so a test can kill -9
     * the process in exactly the window between upload and commit while it keeps uploading
     * (services/archiver/src/kill-restart.int.test.ts). Never set it in production: it only delays commits.
     */
    ARCHIVER_TEST_PAUSE_AFTER_UPLOAD_MS: envInt(0, { min: 0, max: 3_600_000 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkArchiveEnv(cfg, ctx);
    const inFlight = cfg.ARCHIVE_S3_REQUEST_TIMEOUT_MS * cfg.ARCHIVE_S3_MAX_ATTEMPTS;
    if (cfg.ARCHIVER_RECONCILE_WINDOW_MS < 2 * inFlight) {
      ctx.addIssue({
        code: 'custom',
        path: ['ARCHIVER_RECONCILE_WINDOW_MS'],
        message: `must be at least twice ARCHIVE_S3_REQUEST_TIMEOUT_MS × ARCHIVE_S3_MAX_ATTEMPTS (${2 * inFlight} ms): a former owner's upload can land that late`,
      });
    }
  });

export type ArchiverConfig = z.infer<typeof archiverConfigSchema>;
