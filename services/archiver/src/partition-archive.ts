import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ArchiveRow,
  archiveDate,
  archiveObjectKey,
  type DecodedArchiveMessage,
  decodeArchiveMessage,
  InvalidRecordError,
  type ObjectStore,
  type ParquetEngine,
  type ParquetFileBuffer,
  type ParquetFileInfo,
  parseArchiveObjectKey,
  partitionObjectsPrefix,
  recordToRows,
} from '@gridstream/archive';
import type { InMessage } from '@gridstream/kafka';
import { type Logger, sleep } from '@gridstream/runtime';

export type CloseReason = 'size' | 'rows' | 'age' | 'evicted' | 'shutdown' | 'recorded';

export interface ArchiveLimits {
  targetFileBytes: number;
  maxFileAgeMs: number;
  /** 0 = no row limit. */
  maxFileRows: number;
  maxOpenFiles: number;
  /** How often the days uploaded to recently are listed again for late uploads of a former owner. */
  reconcileIntervalMs: number;
  /** How long after its last upload to a day that day is still listed again. */
  reconcileWindowMs: number;
}

/** Hooks the service gives every partition: metrics, dead letters, and the test-only pause. */
export interface ArchiveHooks {
  deadLetter(messages: { message: InMessage; error: Error }[]): Promise<void>;
  onRows(rows: number): void;
  onSkipped(records: number): void;
  onClosed(reason: CloseReason): void;
  onUpload(outcome: 'ok' | 'error', info?: ParquetFileInfo, seconds?: number): void;
  onStoreError(error: unknown): void;
  onStoreOk(): void;
  /** An older generation's object overlapping a newer one was deleted (a late upload of a former owner). */
  onSuperseded(key: string, by: string): void;
  /** TEST ONLY (ARCHIVER_TEST_PAUSE_AFTER_UPLOAD_MS): no commit until this long after the last upload. */
  pauseAfterUploadMs: number;
}

/** Shared by all partitions: the engine, the store, and the open-file budget. */
export interface ArchiveShared {
  engine: ParquetEngine;
  store: ObjectStore;
  spoolDir: string;
  limits: ArchiveLimits;
  logger: Logger;
  hooks: ArchiveHooks;
  /** The archiver group's current generation, once known (ConsumerHandle.generation). */
  generation(): number | undefined;
  /** Whether the group has confirmed this member recently (ConsumerHandle.membershipConfirmed). */
  membershipConfirmed(): boolean;
  /** Every open file of every partition, oldest first (insertion order), for ARCHIVE_MAX_OPEN_FILES. */
  openFiles: Set<OpenFile>;
  /** Files being opened right now (count against the budget too). */
  opening: { count: number };
  nextSpoolId: { value: number };
}

interface OpenFile {
  owner: PartitionArchive;
  dt: string;
  buffer: ParquetFileBuffer;
  first: bigint;
  last: bigint;
  openedAt: number;
}

interface ClosedFile {
  dt: string;
  /** The object name, fixed at the first upload attempt (it carries this owner's generation). */
  key?: string;
  first: bigint;
  last: bigint;
  buffer: ParquetFileBuffer;
  path: string;
  /** The Parquet file being written to the spool; replaced by a new attempt if it failed. */
  writing: Promise<ParquetFileInfo>;
  info?: ParquetFileInfo;
}

/** An archived object's offset range and writer generation, as its name says. */
interface Range {
  key: string;
  first: bigint;
  last: bigint;
  generation: number;
}

const overlaps = (a: { first: bigint; last: bigint }, b: { first: bigint; last: bigint }) =>
  a.first <= b.last && b.first <= a.last;

/**
 * The coordinator has not confirmed this member for most of a session timeout (the brokers are out of
 * reach, or this process stalled): the group may have given its partitions to another member already, so
 * it uploads nothing until it hears back. Retried like any store failure.
 */
export class MembershipUnconfirmedError extends Error {}

/**
 * This member was overruled: a newer generation's owner archives the partition now. It carries Kafka's
 * ILLEGAL_GENERATION type, so the consumer loop treats it like any other sign of an out-of-date member:
 * the slice is abandoned uncommitted and the member rejoins the group.
 */
export class SupersededError extends Error {
  readonly type = 'ILLEGAL_GENERATION';
}

interface Decoded {
  message: InMessage;
  offset: bigint;
  /** The rows of the message's valid records (absent: none), all of day `dt`. */
  rows?: ArchiveRow[];
  dt?: string;
  /** What cannot be archived: the whole message, or single records of a message of several. */
  letters: { message: InMessage; error: Error }[];
}

/**
 * A parsed-topic message → its rows and its dead letters. A record of a message of several (format v2) that
 * cannot be archived goes alone, as a version-1 record, and the rest is archived. All rows of one offset go to
 * one file (archive verify counts an offset in two files as a duplicate), so a record whose UTC day differs
 * from its message's first record — the parser never writes such a message — is refused alone too.
 */
function decodeMessage(message: InMessage): Decoded {
  const offset = BigInt(message.offset);
  let decoded: DecodedArchiveMessage;
  try {
    decoded = decodeArchiveMessage(message.value);
  } catch (error) {
    return { message, offset, letters: [{ message, error: error as Error }] };
  }
  const alone = (record: unknown): InMessage =>
    decoded.bundle ? { ...message, value: Buffer.from(JSON.stringify(record)) } : message;
  const letters = decoded.invalid.map(({ record, error }) => ({ message: alone(record), error }));
  let rows: ArchiveRow[] | undefined;
  let dt: string | undefined;
  for (const record of decoded.records) {
    const own = recordToRows(record, message.partition, offset);
    if (own.length === 0) continue;
    const day = archiveDate(own[0]!.ts);
    if (dt === undefined) dt = day;
    else if (day !== dt) {
      letters.push({
        message: alone(record),
        error: new InvalidRecordError(
          `record of ${day} in a message of ${dt}: the records of one parsed message must share their UTC day`,
        ),
      });
      continue;
    }
    if (rows === undefined) rows = own;
    else for (const row of own) rows.push(row);
  }
  return { message, offset, ...(rows ? { rows } : {}), ...(dt ? { dt } : {}), letters };
}

const handled = <T>(promise: Promise<T>): Promise<T> => {
  // Awaited later by the upload step; without a handler now, a failure would count as unhandled and
  // runService would shut the process down.
  promise.catch(() => undefined);
  return promise;
};

/**
 * The archive of one Kafka partition of `telemetry.parsed`, owned by this process while the partition is
 * assigned to it. Holds one open Parquet file per UTC day (dt) of the records it has read, closes a file
 * by size, row count, age or when the open-file budget is exceeded, uploads closed files in the order they
 * were closed, and says which offset may be committed: the smallest first offset among its files not yet
 * uploaded (open or closed), or — with none — one past the last record it has dealt with.
 *
 * Idempotent names across restarts. A file is named after the first and last offset of the records
 * inside, and it holds every record of its partition and day between those offsets. Cut points depend on
 * timing (age, eviction, when the process stopped), so a process that re-reads records after a restart —
 * they were uploaded, but the kill came before the commit — cannot be trusted to cut them the same way.
 * So it does not rebuild them: the first time it meets a record of day D, it lists the objects that
 * already exist for this topic, partition and day (one narrow LIST per day, per assignment) and keeps
 * those whose last offset is at or after where this assignment started reading. A record inside one of
 * those ranges is already archived and is skipped, and an open file of that day is closed before such a
 * range so that no new name overlaps an existing one. Everything else is written as usual. The object set
 * after a kill -9 between upload and commit is therefore the same as without the kill.
 * (Listing by `first ≥ committed` would not be enough: a file of day D can start before the committed
 * offset — a file of another day held the commit back — and still hold records after it.)
 *
 * Rebalances and late uploads. A file is named with the group generation in which it was written, and
 * an owner deletes any older-generation object that overlaps another object of its partition and day:
 * when it lists a day (before relying on what is there) and again after each upload, before committing.
 * Such an object can only come from a former owner whose upload outlived its membership (the store hung
 * past the session timeout, the group moved on, the upload landed later): its records lie at or after the
 * offset the new owner started from, which the new owner archives itself, so nothing is lost by deleting
 * it. Such a late object can also land after the new owner's last upload to that day, so each owner lists
 * again, every ARCHIVER_RECONCILE_INTERVAL_MS, the days it uploaded to within ARCHIVER_RECONCILE_WINDOW_MS
 * (longer than an upload can stay in flight); a reading is never in two files for long. Fewer such
 * uploads start at all: a member the coordinator has not confirmed for most of a session timeout uploads
 * nothing (MembershipUnconfirmedError) until it hears back. An owner that finds a NEWER generation's
 * object over its own range has been overruled; it stops (SupersededError) and commits nothing.
 *
 * All work on one partition runs one step at a time (`run`); only closing for the open-file budget
 * reaches in from other partitions, and that is synchronous (the file is handed over to be written and
 * uploaded by its own partition later).
 */
export class PartitionArchive {
  private readonly open = new Map<string, OpenFile>();
  private readonly closed: ClosedFile[] = [];
  private readonly recorded = new Map<string, Range[]>();
  /** Keys this owner uploaded, and the days it uploaded to since the last reconciliation. */
  private readonly mine = new Set<string>();
  private readonly uploadedDays = new Set<string>();
  /** Each day this owner uploaded to, with when it last did: listed again until the window has passed. */
  private readonly recentDays = new Map<string, number>();
  private lastSweepAt = 0;
  /** This owner's generation, fixed at its first upload. */
  private generation: number | undefined;
  /** Offset of the first record read in this assignment (≈ the committed offset). */
  private startOffset: bigint | undefined;
  /** Next offset expected: every offset below it is archived, skipped or dead-lettered. */
  private position: bigint | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private running = 0;
  private revoked = false;
  /** Last offset committed for this partition (by the handler or the timer). */
  committed: bigint | undefined;
  /** When this partition last uploaded a file (ms since epoch); 0 = never. */
  lastUploadAt = 0;
  /** Timer-driven uploads back off after a failure instead of hammering a store that is down. */
  private retryAt = 0;
  private failures = 0;

  constructor(
    private readonly shared: ArchiveShared,
    readonly topic: string,
    readonly partition: number,
  ) {}

  get busy(): boolean {
    return this.running > 0;
  }

  get openFileCount(): number {
    return this.open.size;
  }

  /** Runs `fn` after everything queued before it on this partition. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    const next = this.chain.then(fn).finally(() => {
      this.running--;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Takes a slice of messages: dead-letters the invalid ones, writes the rest into open files, uploads
   * what was closed. Returns the offset that may be committed now (null: nothing yet). Throws when the
   * store or Kafka fails; the consumer loop then pauses the partition and hands the same slice again —
   * offsets below `position` are skipped, so nothing is appended or dead-lettered twice.
   */
  async accept(messages: InMessage[]): Promise<string | null> {
    if (this.revoked) return null;
    await this.uploadClosed();
    const position = this.position;
    const fresh = messages.filter((m) => position === undefined || BigInt(m.offset) >= position);
    if (fresh.length === 0) return this.commitOffset();
    this.startOffset ??= BigInt(fresh[0]!.offset);

    const decoded: Decoded[] = fresh.map((message) => decodeMessage(message));
    // Everything that can fail for reasons outside this process happens before any state changes:
    // listing what a previous owner archived, and the dead letters.
    for (const dt of new Set(decoded.map((d) => d.dt))) if (dt !== undefined) await this.recordedRanges(dt);
    const letters = decoded.flatMap((d) => d.letters);
    if (letters.length > 0) await this.shared.hooks.deadLetter(letters);

    let skipped = 0;
    for (const d of decoded) {
      if (this.revoked) return null;
      if (d.rows !== undefined && d.dt !== undefined) {
        const range = this.recorded.get(d.dt)!.find((r) => r.first <= d.offset && d.offset <= r.last);
        if (range) {
          const file = this.open.get(d.dt);
          if (file && file.first < range.first) this.close(d.dt, 'recorded');
          skipped++;
        } else {
          await this.append(d.dt, d.offset, d.rows);
        }
      }
      this.position = d.offset + 1n;
    }
    if (skipped > 0) this.shared.hooks.onSkipped(skipped);
    await this.uploadClosed();
    return this.commitOffset();
  }

  /**
   * Offsets up to `next` hold no records (the parser's transaction markers, aborted attempts): nothing to
   * archive there, so the commit may pass them once everything before is durable.
   */
  skipEmpty(next: bigint): void {
    if (this.revoked) return;
    if (this.position === undefined || this.position < next) this.position = next;
  }

  /** Closes files older than the age limit and uploads what is closed (the timer; no new data needed). */
  async tick(now: number): Promise<string | null> {
    if (this.revoked) return null;
    for (const file of [...this.open.values()]) {
      if (now - file.openedAt >= this.shared.limits.maxFileAgeMs) this.close(file.dt, 'age');
    }
    if (this.closed.length > 0 && now >= this.retryAt) {
      try {
        await this.uploadClosed();
        this.failures = 0;
      } catch (error) {
        this.retryAt = now + Math.min(10_000, 250 * 2 ** this.failures++);
        this.shared.logger.warn(
          { err: error, topic: this.topic, partition: this.partition },
          'upload failed; retrying',
        );
      }
    }
    try {
      await this.sweep(now);
    } catch (error) {
      // A store that is down is retried at the next interval; SupersededError has revoked this owner.
      this.shared.logger.warn(
        { err: error, topic: this.topic, partition: this.partition },
        'late-upload check failed',
      );
    }
    return this.commitOffset();
  }

  /** At shutdown: closes every open file and tries to upload it; returns the offset to commit. */
  async flush(attempts: number): Promise<string | null> {
    if (this.revoked) return null;
    for (const dt of [...this.open.keys()]) this.close(dt, 'shutdown');
    for (let attempt = 1; this.closed.length > 0; attempt++) {
      try {
        await this.uploadClosed();
      } catch (error) {
        this.shared.logger.warn(
          { err: error, topic: this.topic, partition: this.partition, attempt },
          'upload at shutdown failed',
        );
        if (attempt >= attempts) break;
        await sleep(500 * attempt);
      }
    }
    return this.commitOffset();
  }

  /**
   * The partition went to another member (or this one is stopping): forget everything not uploaded.
   * Those records are redelivered from the last commit to the new owner.
   */
  revoke(): Promise<void> {
    this.revoked = true;
    for (const file of this.open.values()) this.shared.openFiles.delete(file);
    const open = [...this.open.values()];
    this.open.clear();
    return this.run(async () => {
      for (const file of open) await file.buffer.discard().catch(() => undefined);
      for (const file of this.closed.splice(0)) {
        await file.writing.catch(() => undefined);
        await file.buffer.discard().catch(() => undefined);
        await rm(file.path, { force: true });
      }
    });
  }

  /** Synchronous, so that another partition can close this one's file for the open-file budget. */
  close(dt: string, reason: CloseReason): void {
    const file = this.open.get(dt);
    if (!file) return;
    this.open.delete(dt);
    this.shared.openFiles.delete(file);
    const path = join(this.shared.spoolDir, `${this.shared.nextSpoolId.value++}.parquet`);
    this.closed.push({
      dt,
      first: file.first,
      last: file.last,
      buffer: file.buffer,
      path,
      writing: handled(file.buffer.writeTo(path)),
    });
    this.shared.hooks.onClosed(reason);
  }

  /** What may be committed: nothing at or after the first record of a file that is not uploaded yet. */
  commitOffset(): string | null {
    // Revoked (even while a step was under way): the files behind `position` are gone, so committing it
    // would skip records nobody archived.
    if (this.revoked) return null;
    let min: bigint | undefined;
    for (const file of this.open.values()) if (min === undefined || file.first < min) min = file.first;
    for (const file of this.closed) if (min === undefined || file.first < min) min = file.first;
    const offset = min ?? this.position;
    return offset === undefined ? null : offset.toString();
  }

  private async append(dt: string, offset: bigint, rows: ArchiveRow[]): Promise<void> {
    let file = this.open.get(dt);
    if (!file) file = await this.openFile(dt, offset);
    file.buffer.append(rows);
    file.last = offset;
    this.shared.hooks.onRows(rows.length);
    const { limits } = this.shared;
    if (limits.maxFileRows > 0 && file.buffer.rows >= limits.maxFileRows) this.close(dt, 'rows');
    else if (file.buffer.estimatedBytes >= limits.targetFileBytes) this.close(dt, 'size');
  }

  private async openFile(dt: string, offset: bigint): Promise<OpenFile> {
    const { shared } = this;
    // Make room first, counting files other partitions are opening right now.
    while (
      shared.openFiles.size + shared.opening.count >= shared.limits.maxOpenFiles &&
      shared.openFiles.size > 0
    ) {
      const oldest = shared.openFiles.values().next().value as OpenFile;
      oldest.owner.close(oldest.dt, 'evicted');
    }
    shared.opening.count++;
    let buffer: ParquetFileBuffer;
    try {
      buffer = await shared.engine.openFile();
    } finally {
      shared.opening.count--;
    }
    const file: OpenFile = { owner: this, dt, buffer, first: offset, last: offset, openedAt: Date.now() };
    this.open.set(dt, file);
    shared.openFiles.add(file);
    return file;
  }

  /** Uploads closed files in the order they were closed; stops at the first failure (and throws it). */
  private async uploadClosed(): Promise<void> {
    while (this.closed.length > 0 && !this.revoked) {
      const file = this.closed[0]!;
      if (!file.info) {
        try {
          file.info = await file.writing;
        } catch (error) {
          // A full disk, say: try writing it again next time; the rows are still in the staging table.
          file.writing = handled(file.buffer.writeTo(file.path));
          throw error;
        }
      }
      file.key ??= archiveObjectKey({
        dt: file.dt,
        topic: this.topic,
        partition: this.partition,
        firstOffset: file.first,
        lastOffset: file.last,
        generation: await this.ownGeneration(),
      });
      if (this.revoked) return;
      if (!this.shared.membershipConfirmed()) {
        throw new MembershipUnconfirmedError(
          `partition ${this.partition}: the group has not confirmed this member lately; upload of ${file.key} waits`,
        );
      }
      const started = performance.now();
      try {
        await this.shared.store.putFile(file.key, file.path);
      } catch (error) {
        this.shared.hooks.onUpload('error');
        this.shared.hooks.onStoreError(error);
        throw error;
      }
      this.shared.hooks.onUpload('ok', file.info, (performance.now() - started) / 1000);
      this.shared.hooks.onStoreOk();
      this.shared.logger.info(
        { key: file.key, rows: file.info.rows, bytes: file.info.bytes, location: this.shared.store.location },
        'uploaded',
      );
      await rm(file.path, { force: true });
      this.closed.shift();
      this.mine.add(file.key);
      this.uploadedDays.add(file.dt);
      this.lastUploadAt = Date.now();
      this.recentDays.set(file.dt, this.lastUploadAt);
    }
  }

  /**
   * After uploads and before the commit that relies on them: lists the days uploaded to since the last
   * time and deletes older-generation objects that overlap (a former owner's late upload). Throws
   * SupersededError when a newer generation's object overlaps this owner's range.
   */
  async reconcile(): Promise<void> {
    if (this.revoked) return;
    for (const dt of [...this.uploadedDays]) {
      await this.listDay(dt);
      this.uploadedDays.delete(dt);
    }
  }

  /**
   * The timer's late-upload check: every reconcile interval, lists again each day uploaded to within the
   * window (a former owner's upload that was in flight can land after this owner's last upload there).
   */
  private async sweep(now: number): Promise<void> {
    const { reconcileIntervalMs, reconcileWindowMs } = this.shared.limits;
    if (now - this.lastSweepAt < reconcileIntervalMs) return;
    this.lastSweepAt = now;
    for (const [dt, at] of [...this.recentDays]) {
      if (now - at > reconcileWindowMs) this.recentDays.delete(dt);
      else await this.listDay(dt);
    }
  }

  /** Objects a previous owner (or a previous life of this process) already archived for this partition and day. */
  private async recordedRanges(dt: string): Promise<Range[]> {
    const known = this.recorded.get(dt);
    if (known) return known;
    const ranges = await this.listDay(dt);
    this.recorded.set(dt, ranges);
    if (ranges.length > 0) {
      this.shared.logger.info(
        { topic: this.topic, partition: this.partition, dt, objects: ranges.length },
        'found objects archived before this assignment; their records are skipped',
      );
    }
    return ranges;
  }

  /**
   * The partition's objects of one day that hold records at or after where this assignment started,
   * overlaps resolved: of two overlapping objects the older generation's is deleted.
   */
  private async listDay(dt: string): Promise<Range[]> {
    let objects: Awaited<ReturnType<ObjectStore['list']>>;
    try {
      objects = await this.shared.store.list(partitionObjectsPrefix(dt, this.topic, this.partition));
    } catch (error) {
      this.shared.hooks.onStoreError(error);
      throw error;
    }
    const named: Range[] = [];
    for (const object of objects) {
      const name = parseArchiveObjectKey(object.key);
      if (name && name.topic === this.topic && name.partition === this.partition) {
        named.push({
          key: object.key,
          first: name.firstOffset,
          last: name.lastOffset,
          generation: name.generation ?? 0,
        });
      }
    }
    // Newest generation first: each object is checked against the survivors that outrank it.
    named.sort((a, b) => b.generation - a.generation || (a.first < b.first ? -1 : 1));
    const survivors: Range[] = [];
    for (const object of named) {
      const over = survivors.find((s) => overlaps(s, object) && s.generation > object.generation);
      if (over) {
        if (
          this.mine.has(object.key) ||
          (this.generation !== undefined && over.generation > this.generation)
        ) {
          // Ours is the older one: the group moved on without this member noticing yet.
          this.revoked = true;
          throw new SupersededError(
            `partition ${this.partition}: ${over.key} (generation ${over.generation}) overlaps this owner's ${object.key}`,
          );
        }
        await this.shared.store.delete(object.key);
        this.shared.hooks.onSuperseded(object.key, over.key);
        this.shared.logger.warn(
          { topic: this.topic, partition: this.partition, deleted: object.key, kept: over.key },
          'deleted an older owner’s object that overlaps a newer one (a late upload after a rebalance)',
        );
        continue;
      }
      const twin = survivors.find((s) => overlaps(s, object));
      if (twin) {
        this.shared.logger.error(
          { topic: this.topic, partition: this.partition, a: twin.key, b: object.key },
          'two objects of the same generation overlap; left for `gridstream archive verify` to report',
        );
      }
      survivors.push(object);
    }
    const start = this.startOffset ?? 0n;
    return survivors.filter((r) => r.last >= start).sort((a, b) => (a.first < b.first ? -1 : 1));
  }

  /** The generation this owner writes under: the group's at its first upload (waits until it is known). */
  private async ownGeneration(): Promise<number> {
    if (this.generation !== undefined) return this.generation;
    for (let waited = 0; ; waited += 100) {
      const generation = this.shared.generation();
      if (generation !== undefined) {
        this.generation = generation;
        return generation;
      }
      if (this.revoked || waited > 30_000) throw new Error('the archiver group generation is not known yet');
      await sleep(100);
    }
  }
}
