import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createObjectStore, ParquetEngine } from '@gridstream/archive';
import {
  type ConsumerHandle,
  counter,
  createKafka,
  deadLetterFor,
  ensureConfiguredTopics,
  gauge,
  histogram,
  type InMessage,
  ReliableProducer,
  runConsumer,
} from '@gridstream/kafka';
import { isProcessAlive, type RunningService, type ServiceContext } from '@gridstream/runtime';
import type { ArchiverConfig } from './config.js';
import { type ArchiveShared, PartitionArchive } from './partition-archive.js';

/** Upload attempts per partition at shutdown before its files are left to be redelivered. */
const SHUTDOWN_UPLOAD_ATTEMPTS = 3;

/**
 * telemetry.parsed → Parquet files (DuckDB) → the archive (S3 or a local directory). Offsets are committed
 * only once every record below them is in an uploaded file (or dead-lettered); while the store is down,
 * uploads are retried with the partitions paused, so an outage delays the archive but never loses or
 * skips a record. See partition-archive.ts for the file rules and why restarts never duplicate objects.
 */
export async function startArchiver(ctx: ServiceContext<ArchiverConfig>): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const kafka = createKafka(config, logger);
  const topic = config.KAFKA_TOPIC_PARSED;
  await ensureConfiguredTopics(kafka, config, [topic, config.KAFKA_TOPIC_DLQ], logger);

  const store = createObjectStore(config);
  let storeProblem: string | undefined;
  try {
    await store.ensureReady();
  } catch (error) {
    // Not fatal: a store that is down at start is the same outage as one that goes down later. The
    // archiver starts unready and its uploads keep retrying.
    storeProblem = (error as Error).message;
    logger.error({ err: error, location: store.location }, 'archive store not ready; uploads will retry');
  }

  const spoolDir = await createSpoolDir(config.ARCHIVE_SPOOL_DIR);
  const engine = await ParquetEngine.create({
    memoryLimit: config.ARCHIVE_DUCKDB_MEMORY_LIMIT,
    threads: config.ARCHIVE_DUCKDB_THREADS,
    tempDirectory: join(spoolDir, 'duckdb'),
  });
  const producer = new ReliableProducer(kafka, logger);
  await producer.connect();

  const rowsTotal = counter(metrics, 'gridstream_archiver_rows_total', 'Rows written into Parquet files');
  const skipped = counter(
    metrics,
    'gridstream_archiver_skipped_records_total',
    'Records read again after a restart that were already in an archived object',
  );
  const filesClosed = counter(metrics, 'gridstream_archiver_files_total', 'Parquet files closed', ['reason']);
  const uploads = counter(metrics, 'gridstream_archiver_uploads_total', 'Uploads to the archive store', [
    'outcome',
  ]);
  const uploadBytes = counter(metrics, 'gridstream_archiver_upload_bytes_total', 'Parquet bytes uploaded');
  const uploadSeconds = histogram(metrics, 'gridstream_archiver_upload_seconds', 'Time per file upload');
  const openFilesGauge = gauge(metrics, 'gridstream_archiver_open_files', 'Parquet files open');
  const deadLetters = counter(metrics, 'gridstream_dead_letters_total', 'Messages dead-lettered', [
    'stage',
    'reason',
  ]);
  const superseded = counter(
    metrics,
    'gridstream_archiver_superseded_objects_total',
    'Objects of a former owner deleted because they overlapped a newer generation’s (a late upload)',
  );

  const shared: ArchiveShared = {
    engine,
    store,
    spoolDir,
    logger,
    limits: {
      targetFileBytes: config.ARCHIVE_TARGET_FILE_BYTES,
      maxFileAgeMs: config.ARCHIVE_MAX_FILE_AGE_MS,
      maxFileRows: config.ARCHIVE_MAX_FILE_ROWS,
      maxOpenFiles: config.ARCHIVE_MAX_OPEN_FILES,
      reconcileIntervalMs: config.ARCHIVER_RECONCILE_INTERVAL_MS,
      reconcileWindowMs: config.ARCHIVER_RECONCILE_WINDOW_MS,
    },
    generation: () => consumer?.generation(),
    membershipConfirmed: () => consumer?.membershipConfirmed() ?? false,
    openFiles: new Set(),
    opening: { count: 0 },
    nextSpoolId: { value: 0 },
    hooks: {
      async deadLetter(items) {
        const letters = items.map(({ message, error }) =>
          deadLetterFor(message, { stage: 'archiver', reason: 'invalid_record', message: error.message }),
        );
        await producer.send(config.KAFKA_TOPIC_DLQ, letters);
        deadLetters.inc({ stage: 'archiver', reason: 'invalid_record' }, letters.length);
      },
      onRows: (n) => rowsTotal.inc(n),
      onSkipped: (n) => skipped.inc(n),
      onClosed: (reason) => filesClosed.inc({ reason }),
      onUpload(outcome, info, seconds) {
        uploads.inc({ outcome });
        if (info) uploadBytes.inc(info.bytes);
        if (seconds !== undefined) uploadSeconds.observe(seconds);
      },
      onStoreError(error) {
        storeProblem = (error as Error).message;
      },
      onStoreOk() {
        storeProblem = undefined;
      },
      onSuperseded: () => superseded.inc(),
      pauseAfterUploadMs: config.ARCHIVER_TEST_PAUSE_AFTER_UPLOAD_MS,
    },
  };

  const partitions = new Map<number, PartitionArchive>();
  const archiveOf = (partition: number) => {
    let archive = partitions.get(partition);
    if (!archive) {
      archive = new PartitionArchive(shared, topic, partition);
      partitions.set(partition, archive);
    }
    return archive;
  };

  // Every commit of a partition happens inside its run() queue, after the step that made the offset
  // durable, so commits of one partition are in order and never go backwards (the handler and the timer
  // both commit). The handler therefore tells the consumer loop to commit nothing itself.
  let consumer: ConsumerHandle | undefined;
  let consumerStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    consumerStarted = resolve;
  });
  async function commitIfAhead(archive: PartitionArchive, offset: string | null): Promise<void> {
    if (offset === null) return;
    const next = BigInt(offset);
    if (archive.committed !== undefined && next <= archive.committed) return;
    // TEST ONLY: hold commits back after an upload, so a test can kill -9 in the window between the two
    // while the partition goes on uploading. A later round (the timer) commits.
    const pause = config.ARCHIVER_TEST_PAUSE_AFTER_UPLOAD_MS;
    if (pause > 0 && Date.now() - archive.lastUploadAt < pause) return;
    // Every object this commit relies on is there, and no late upload of a former owner overlaps it.
    await archive.reconcile();
    // The first batch can arrive before runConsumer() has returned its handle.
    if (!consumer) await started;
    await consumer!.commit([{ topic, partition: archive.partition, offset }]);
    archive.committed = next;
  }

  const handle = async (messages: InMessage[]) => {
    const archive = archiveOf(messages[0]!.partition);
    await archive.run(async () => commitIfAhead(archive, await archive.accept(messages)));
    return { commitOffset: null };
  };

  consumer = await runConsumer({
    kafka,
    groupId: config.ARCHIVER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    topics: [topic],
    logger,
    metrics,
    handle,
    partitionsConsumedConcurrently: config.ARCHIVER_CONCURRENCY,
    maxMessagesPerCall: config.ARCHIVER_BATCH_SIZE,
    maxBytesPerPartition: config.ARCHIVER_FETCH_BYTES,
    onEmptyBatch(_topic, partition, next) {
      const archive = archiveOf(partition);
      void archive
        .run(async () => {
          archive.skipEmpty(BigInt(next));
          await commitIfAhead(archive, archive.commitOffset());
        })
        .catch((error: unknown) =>
          logger.warn({ err: error, partition }, 'commit past transaction markers failed'),
        );
    },
    onAssignment(assigned) {
      // After a rebalance kafkajs reads again from the last commit, and whoever owned a partition in the
      // meantime (this member may have been out of the group without knowing) may have archived and
      // committed more. So every partition starts over from the commit, kept or not: what was held and not
      // uploaded is read again, and the day listings are taken anew under the new generation.
      const mine = new Set(assigned.filter((a) => a.topic === topic).flatMap((a) => a.partitions));
      for (const [partition, archive] of partitions) {
        partitions.delete(partition);
        void archive
          .revoke()
          .catch((error: unknown) => logger.warn({ err: error, partition }, 'revoke failed'));
      }
      logger.info({ partitions: [...mine].sort((a, b) => a - b) }, 'partitions assigned');
    },
    async beforeLeave() {
      // Graceful stop: every open file is closed and uploaded, then committed, while the partitions are
      // still ours. A store that stays down leaves them uncommitted: they are read again after the restart.
      clearInterval(timer);
      await ticking;
      await Promise.all(
        [...partitions.values()].map((archive) =>
          archive.run(async () => commitIfAhead(archive, await archive.flush(SHUTDOWN_UPLOAD_ATTEMPTS))),
        ),
      );
    },
  });
  consumerStarted();

  // The age limit holds even when no data arrives: a timer closes old files, uploads and commits. A
  // partition busy with a slice is skipped this round (its handler uploads anyway).
  const tickMs = Math.max(50, Math.min(1_000, Math.floor(config.ARCHIVE_MAX_FILE_AGE_MS / 4)));
  let ticking: Promise<void> = Promise.resolve();
  let tickInProgress = false;
  const timer = setInterval(() => {
    openFilesGauge.set(shared.openFiles.size);
    // One round at a time: while uploads hang on a store that is down, rounds must not pile up.
    if (tickInProgress) return;
    tickInProgress = true;
    ticking = Promise.all(
      [...partitions.values()]
        .filter((archive) => !archive.busy)
        .map((archive) =>
          archive
            .run(async () => commitIfAhead(archive, await archive.tick(Date.now())))
            .catch((error: unknown) =>
              logger.warn({ err: error, partition: archive.partition }, 'archive tick failed'),
            ),
        ),
    ).then(() => {
      tickInProgress = false;
    });
  }, tickMs);

  readiness.add('consumer', () => consumer!.check());
  readiness.add('archive-store', () =>
    storeProblem === undefined
      ? { ok: true, detail: store.location }
      : { ok: false, detail: `${store.location}: ${storeProblem}` },
  );
  logger.info({ location: store.location, spoolDir, tickMs }, 'archiving');

  return {
    async stop() {
      clearInterval(timer);
      // consumer.stop(): intake stops, handlers in hand finish, beforeLeave flushes and commits, leave.
      await consumer!.stop();
      for (const archive of partitions.values()) await archive.revoke().catch(() => undefined);
      engine.close();
      store.close();
      await producer.disconnect();
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/**
 * A scratch folder of this process under ARCHIVE_SPOOL_DIR (default: the system temp dir). Folders of
 * processes that died (kill -9) are removed: their files were never committed, so nothing there is needed.
 */
async function createSpoolDir(configured: string | undefined): Promise<string> {
  const root = resolve(configured ?? join(tmpdir(), 'gridstream-archiver'));
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
  }
  const dir = join(root, `${process.pid}-${randomBytes(3).toString('hex')}`);
  await mkdir(join(dir, 'duckdb'), { recursive: true });
  return dir;
}
