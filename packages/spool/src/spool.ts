import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { OutMessage } from '@gridstream/kafka';
import { isProcessAlive, type Logger } from '@gridstream/runtime';
import { RAW_HEADER } from '@gridstream/schema';
import { decodeRecord, encodeRecord, FRAME_HEADER_BYTES, type SpooledMessage } from './record-codec.js';

export type FsyncPolicy = 'always' | 'interval' | 'never';
export type FullPolicy = 'drop-oldest' | 'drop-newest';

export interface SpoolOptions {
  /** The spool's own folder (one per source process); created if missing. */
  dir: string;
  /** Bytes on disk at most; past it `whenFull` decides what goes. */
  maxBytes: number;
  /** Segment size; the oldest segment is the unit of `drop-oldest`. Default: maxBytes/16, 1–64 MiB. */
  segmentBytes?: number;
  /**
   * `always`: fsync after every append (survives a power cut, costs a disk flush per batch); `interval`:
   * at most `fsyncIntervalMs` of appends can be lost to a power cut; `never`: the kernel decides. A killed
   * process loses nothing in any mode: what was written is in the page cache.
   */
  fsync: FsyncPolicy;
  fsyncIntervalMs?: number;
  /**
   * What a full spool gives up: `drop-oldest` (the newest data is kept; the default, as a device keeps no
   * history and operators want the latest stretch) or `drop-newest` (new appends are refused).
   */
  whenFull: FullPolicy;
  /** Recent records also kept in memory, so a spool that keeps up never reads its own disk. */
  memoryBytes?: number;
  /**
   * Delivered segments kept on disk up to this many bytes (default 0: deleted once delivered), oldest
   * deleted first and always before anything undelivered. What was collected can then be looked at (and
   * counted) afterwards with `gridstream spool dump`; the soak uses it as its ledger of polled samples.
   */
  retainBytes?: number;
  logger: Logger;
  /**
   * The owner's state, written as the first record of every new segment (never sent to Kafka). With it
   * the spool is the owner's write-ahead log: after a crash, the last checkpoint plus the messages
   * appended after it (`recovered`) rebuild the state exactly as it was (the OPC UA collector keeps which
   * value of each point it already took, so a re-sent initial value is not taken twice). A checkpoint may
   * already include the messages of the append during which it was taken: replaying `after` onto it must
   * be idempotent.
   */
  checkpoint?: () => Buffer;
  /** Records dropped by the full policy. */
  onDropped?: (records: number) => void;
  /** Bytes found unreadable on recovery (damage; how many records they held cannot be known). */
  onCorrupt?: (bytes: number) => void;
}

/** A spooled message as peek() hands it out; pass the last one of a delivered batch to ack(). */
export interface SpoolEntry extends SpooledMessage {
  /** Segment (its first sequence number) and the byte position just past this record. */
  segment: bigint;
  end: number;
  bytes: number;
}

interface Segment {
  first: bigint;
  path: string;
  size: number;
  records: number;
  /** Sequence number of its last record; undefined while empty. */
  last?: bigint;
}

const SEGMENT = /^(\d{20})\.seg$/;
/** Sequence number of checkpoint records; messages start at 1. */
const CHECKPOINT_SEQ = 0n;
const ACK_FILE = 'ack';
const META_FILE = 'spool.json';

/**
 * What a source has read from a device but Kafka has not acknowledged yet, on disk (DESIGN: a physical
 * process cannot be paused, so a Kafka outage must not cost readings, nor must a collector killed during
 * one). Append-only segment files of checksummed records, consumed in order from the head; `ack` moves
 * the head once Kafka has a batch, and whole segments behind the head are deleted. Every record gets a
 * sequence number and a message id (`<spool id>-<seq>`) that travels in its `gs-message-id` header, so a
 * batch sent again after a crash (Kafka had it, the ack had not been written yet) carries the same ids
 * and the parser drops the copy.
 *
 * Recovery after `kill -9` or a power cut: segments are read back record by record; the first record
 * whose checksum fails ends its segment (a torn last write, or damage: the rest of that segment is
 * counted as lost); everything up to the ack file's sequence number is skipped.
 *
 * All I/O is synchronous: appends are small and land in the page cache, and it keeps the order of
 * appends, acks and deletes obvious. One process owns a spool folder at a time (a lock file says which).
 */
export class Spool {
  readonly id: string;
  private readonly segments: Segment[] = [];
  private fd: number | undefined;
  private readonly dir: string;
  private acked: bigint;
  private nextSeq: bigint;
  /** Head: the first record not acknowledged, as a segment and a byte position in it. */
  private head: { segment: bigint; pos: number };
  private memory: SpoolEntry[] = [];
  private memoryBytes = 0;
  private dirty = false;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private syncInFlight = false;
  private readonly segmentBytes: number;
  private droppedFull = 0;
  private pendingCount = 0;
  private readonly lockPath: string;
  /** What recovery found for the owner: the newest checkpoint and every message appended after it. */
  recovered: { checkpoint?: Buffer; after: OutMessage[] } = { after: [] };

  private constructor(private readonly options: SpoolOptions) {
    this.dir = options.dir;
    mkdirSync(this.dir, { recursive: true });
    this.lockPath = join(this.dir, 'lock');
    this.takeLock();
    const metaPath = join(this.dir, META_FILE);
    if (existsSync(metaPath)) {
      this.id = (JSON.parse(readFileSync(metaPath, 'utf8')) as { id: string }).id;
    } else {
      this.id = randomBytes(6).toString('hex');
      writeAtomic(metaPath, JSON.stringify({ id: this.id, created: new Date().toISOString() }));
    }
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(64 * 1024 * 1024, Math.max(1024 * 1024, Math.floor(options.maxBytes / 16)));
    const ackPath = join(this.dir, ACK_FILE);
    this.acked = existsSync(ackPath) ? BigInt(readFileSync(ackPath, 'utf8').trim() || '0') : 0n;
    this.nextSeq = this.acked + 1n;
    this.head = { segment: this.nextSeq, pos: 0 };
  }

  /** Opens (and recovers) the spool in `options.dir`. */
  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    spool.recover();
    // The active segment opens with the first append: its checkpoint must be the owner's state after the
    // owner has restored it from `recovered`.
    if (options.fsync === 'interval') {
      spool.fsyncTimer = setInterval(() => spool.syncInBackground(), options.fsyncIntervalMs ?? 1_000);
      spool.fsyncTimer.unref();
    }
    return spool;
  }

  /**
   * Opens the active segment (with a checkpoint of the owner's state, when it keeps one) and lets go of
   * what recovery kept only for the owner's sake. Call it once the owner has restored its state from
   * `recovered`; the first append calls it otherwise.
   */
  begin(): void {
    if (this.fd !== undefined) return;
    this.openSegment();
    this.recovered = { after: [] };
    this.deleteConsumedSegments();
  }

  /** Records not acknowledged yet. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Bytes of every segment on disk (acknowledged records of the head segment included). */
  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  get droppedTotal(): number {
    return this.droppedFull;
  }

  /**
   * Appends messages (each gets the next sequence number and, unless it has one, a `gs-message-id`).
   * Returns how many were refused (only with `drop-newest` on a full spool).
   */
  append(messages: OutMessage[]): number {
    let refused = 0;
    const frames: Buffer[] = [];
    for (const message of messages) {
      const seq = this.nextSeq;
      const headers = { ...(message.headers ?? {}) };
      if (!headers[RAW_HEADER.messageId]) headers[RAW_HEADER.messageId] = `${this.id}-${seq}`;
      const stored: OutMessage = { ...message, headers };
      const frame = encodeRecord(seq, stored);
      if (!this.makeRoom(frame.length)) {
        refused++;
        continue;
      }
      this.rotateIfNeeded(frame.length);
      const segment = this.segments[this.segments.length - 1]!;
      if (segment.first > seq || this.fd === undefined) throw new Error('spool: no active segment');
      const start = segment.size;
      frames.push(frame);
      writeSync(this.fd!, frame, 0, frame.length, start);
      segment.size += frame.length;
      segment.records++;
      segment.last = seq;
      this.nextSeq++;
      this.pendingCount++;
      this.remember({ seq, message: stored, segment: segment.first, end: segment.size, bytes: frame.length });
    }
    if (frames.length > 0) {
      this.dirty = true;
      if (this.options.fsync === 'always') this.sync();
    }
    if (refused > 0) this.dropped(refused);
    return refused;
  }

  /** Up to `maxRecords` / about `maxBytes` of the oldest records not yet acknowledged, in order. */
  peek(maxRecords: number, maxBytes = 1024 * 1024): SpoolEntry[] {
    if (this.pendingCount === 0) return [];
    const first = this.memory[0];
    if (first !== undefined && first.seq <= this.acked + 1n) {
      const out: SpoolEntry[] = [];
      let bytes = 0;
      for (const entry of this.memory) {
        if (entry.seq <= this.acked) continue;
        if (out.length >= maxRecords || (out.length > 0 && bytes + entry.bytes > maxBytes)) break;
        out.push(entry);
        bytes += entry.bytes;
      }
      return out;
    }
    return this.readFromDisk(maxRecords, maxBytes);
  }

  /** Kafka has everything up to and including `last` (an entry from peek()): the head moves past it. */
  ack(last: SpoolEntry): void {
    if (last.seq <= this.acked) return;
    const released = Number(last.seq - this.acked);
    this.acked = last.seq;
    this.pendingCount = Math.max(0, this.pendingCount - released);
    this.head = { segment: last.segment, pos: last.end };
    while (this.memory.length > 0 && this.memory[0]!.seq <= last.seq)
      this.memoryBytes -= this.memory.shift()!.bytes;
    // Flushed to disk only under `always`: an fsync per send, on the event loop, stalled a collector's poll
    // schedule for seconds on a busy disk. An ack lost to a power cut re-sends messages Kafka has, with the
    // same ids, which the parser drops.
    writeAtomic(join(this.dir, ACK_FILE), String(this.acked), this.options.fsync === 'always');
    this.deleteConsumedSegments();
  }

  /** Flushes the active segment to disk now. */
  sync(): void {
    if (!this.dirty || this.fd === undefined) return;
    fsyncSync(this.fd);
    this.dirty = false;
  }

  /**
   * What `interval` does on its timer: the same flush on libuv's thread pool, so the collector's event loop
   * (its poll schedule) never waits on the disk. What is appended while it runs is flushed next time.
   */
  private syncInBackground(): void {
    if (!this.dirty || this.fd === undefined || this.syncInFlight) return;
    this.dirty = false;
    this.syncInFlight = true;
    fsync(this.fd, (error) => {
      this.syncInFlight = false;
      if (error) this.dirty = true;
    });
  }

  close(): void {
    clearInterval(this.fsyncTimer);
    if (this.fd !== undefined) {
      // A background flush still running may not reach the disk before the descriptor closes: flush here.
      if (this.syncInFlight) this.dirty = true;
      if (this.options.fsync !== 'never') this.sync();
      closeSync(this.fd);
      this.fd = undefined;
    }
    rmSync(this.lockPath, { force: true });
  }

  private remember(entry: SpoolEntry): void {
    const budget = this.options.memoryBytes ?? 8 * 1024 * 1024;
    this.memory.push(entry);
    this.memoryBytes += entry.bytes;
    // Dropping the oldest from memory is always safe: they are on disk, and peek() reads them from there.
    while (this.memoryBytes > budget && this.memory.length > 1)
      this.memoryBytes -= this.memory.shift()!.bytes;
  }

  /** Makes room for `bytes` more under maxBytes by the full policy; false if the record must be refused. */
  private makeRoom(bytes: number): boolean {
    while (this.bytes + bytes > this.options.maxBytes) {
      // Delivered segments kept for inspection go first: they cost nothing that is not in Kafka already.
      const delivered = this.segments.find(
        (seg) =>
          seg !== this.segments[this.segments.length - 1] && seg.last !== undefined && seg.last <= this.acked,
      );
      if (delivered) {
        this.segments.splice(this.segments.indexOf(delivered), 1);
        rmSync(delivered.path, { force: true });
        continue;
      }
      if (this.options.whenFull === 'drop-newest') return false;
      if (this.segments.length <= 1) {
        // Only the active segment: start a new one so the old one can go (a single record larger than
        // the whole spool is kept all the same; refusing it would lose it for certain).
        if ((this.segments[0]?.records ?? 0) === 0) return true;
        this.rotate();
        continue;
      }
      const oldest = this.segments.shift()!;
      const lost = this.unackedIn(oldest);
      rmSync(oldest.path, { force: true });
      if (oldest.last !== undefined && oldest.last > this.acked) {
        this.acked = oldest.last;
        this.pendingCount = Math.max(0, this.pendingCount - lost);
        writeAtomic(join(this.dir, ACK_FILE), String(this.acked), this.options.fsync === 'always');
      }
      const next = this.segments[0]!;
      if (this.head.segment <= oldest.first) this.head = { segment: next.first, pos: 0 };
      while (this.memory.length > 0 && this.memory[0]!.seq <= this.acked)
        this.memoryBytes -= this.memory.shift()!.bytes;
      if (lost > 0) this.dropped(lost);
    }
    return true;
  }

  private unackedIn(segment: Segment): number {
    if (segment.last === undefined || segment.last <= this.acked) return 0;
    const from = segment.first > this.acked ? segment.first : this.acked + 1n;
    return Number(segment.last - from + 1n);
  }

  private dropped(records: number): void {
    this.droppedFull += records;
    this.options.onDropped?.(records);
    this.options.logger.error(
      { records, policy: this.options.whenFull, maxBytes: this.options.maxBytes, dir: this.dir },
      `spool full: ${records} record(s) dropped (${this.options.whenFull})`,
    );
  }

  private rotateIfNeeded(bytes: number): void {
    if (this.fd === undefined) {
      this.begin();
      return;
    }
    const active = this.segments[this.segments.length - 1]!;
    if (active.records === 0 || active.size + bytes <= this.segmentBytes) return;
    this.rotate();
  }

  private rotate(): void {
    if (this.fd !== undefined) {
      if (this.syncInFlight) this.dirty = true; // as in close(): the background flush may miss the segment
      if (this.options.fsync !== 'never') this.sync();
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.openSegment();
  }

  private openSegment(): void {
    const first = this.nextSeq;
    const path = join(this.dir, `${first.toString().padStart(20, '0')}.seg`);
    // A leftover segment of the same name holds nothing that was kept (recovery dropped it): reused.
    // Read and write: peek() reads the active segment through this descriptor when memory no longer holds the head.
    this.fd = openSync(path, 'w+');
    const segment: Segment = { first, path, size: 0, records: 0 };
    this.segments.push(segment);
    const state = this.options.checkpoint?.();
    if (state !== undefined) {
      // Sequence number 0: never a message, never sent; recovery hands it back to the owner.
      const frame = encodeRecord(CHECKPOINT_SEQ, { key: null, value: state });
      writeSync(this.fd, frame, 0, frame.length, 0);
      segment.size = frame.length;
      this.dirty = true;
    }
  }

  /** Deletes delivered segments (the active one excepted), oldest first, down to `retainBytes`. */
  private deleteConsumedSegments(): void {
    const retain = this.options.retainBytes ?? 0;
    const delivered = (seg: Segment) =>
      seg !== this.segments[this.segments.length - 1] && (seg.last === undefined || seg.last <= this.acked);
    let retained = this.segments.filter(delivered).reduce((n, seg) => n + seg.size, 0);
    while (retained > retain) {
      const oldest = this.segments.find(delivered);
      if (oldest === undefined) break;
      this.segments.splice(this.segments.indexOf(oldest), 1);
      rmSync(oldest.path, { force: true });
      retained -= oldest.size;
    }
    const head =
      this.segments.find((seg) => seg.last !== undefined && seg.last > this.acked) ?? this.segments.at(-1);
    if (head && this.head.segment < head.first) this.head = { segment: head.first, pos: 0 };
  }

  private readFromDisk(maxRecords: number, maxBytes: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let bytes = 0;
    let index = Math.max(
      0,
      this.segments.findIndex((s) => s.first === this.head.segment),
    );
    let pos = this.segments[index]?.first === this.head.segment ? this.head.pos : 0;
    while (index < this.segments.length) {
      const segment = this.segments[index]!;
      if (pos >= segment.size) {
        index++;
        pos = 0;
        continue;
      }
      const active = index === this.segments.length - 1 && this.fd !== undefined;
      const fd = active ? this.fd! : openSync(segment.path, 'r');
      try {
        let buf = Buffer.allocUnsafe(Math.min(segment.size - pos, Math.max(64 * 1024, maxBytes - bytes)));
        readSync(fd, buf, 0, buf.length, pos);
        let at = 0;
        for (;;) {
          const result = decodeRecord(buf, at);
          if (result.kind === 'short') {
            if (at > 0) {
              pos += at; // the next chunk starts at this record
              break;
            }
            // One record larger than the chunk: read exactly that record.
            const need = buf.length >= 4 ? buf.readUInt32BE(0) + FRAME_HEADER_BYTES : 0;
            if (need <= buf.length || need > segment.size - pos)
              return this.unreadable(out, segment, pos, 'short record');
            buf = Buffer.allocUnsafe(need);
            readSync(fd, buf, 0, need, pos);
            continue;
          }
          if (result.kind === 'corrupt') return this.unreadable(out, segment, pos + at, result.reason);
          const size = result.end - at;
          if (result.record.seq > this.acked) {
            if (out.length > 0 && bytes + size > maxBytes) return out;
            out.push({ ...result.record, segment: segment.first, end: pos + result.end, bytes: size });
            bytes += size;
            if (out.length >= maxRecords) return out;
          }
          at = result.end;
          if (pos + at >= segment.size) {
            pos += at;
            break;
          }
        }
      } finally {
        if (!active) closeSync(fd);
      }
    }
    return out;
  }

  /** Damage found after recovery had checked the segment: stop there; the record stays pending. */
  private unreadable(out: SpoolEntry[], segment: Segment, pos: number, reason: string): SpoolEntry[] {
    this.options.logger.error({ segment: segment.path, pos, reason }, 'spool: unreadable record');
    return out;
  }

  /** Reads every segment back: sizes, sequence numbers, where the head is; cuts torn or damaged tails. */
  private recover(): void {
    const names = readdirSync(this.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    let lastSeq = this.acked;
    let corruptBytes = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      const first = BigInt(SEGMENT.exec(name)![1]!);
      const size = statSync(path).size;
      const buf = size > 0 ? readFileSync(path) : Buffer.alloc(0);
      let at = 0;
      let records = 0;
      let last: bigint | undefined;
      let pendingHere = 0;
      while (at < buf.length) {
        const result = decodeRecord(buf, at);
        if (result.kind === 'record' && result.record.seq === CHECKPOINT_SEQ) {
          this.recovered = { checkpoint: result.record.message.value as Buffer, after: [] };
          at = result.end;
          continue;
        }
        if (result.kind === 'record') this.recovered.after.push(result.record.message);
        if (result.kind !== 'record') {
          const rest = buf.length - at;
          // A torn append ends the last segment; anything else is damage, and the rest of this segment
          // (records cannot be found again past a broken length) is lost.
          if (!(result.kind === 'short' && name === names[names.length - 1])) corruptBytes += rest;
          this.options.logger.warn(
            {
              segment: path,
              at,
              bytes: rest,
              reason: result.kind === 'corrupt' ? result.reason : 'torn write',
            },
            'spool: cutting a segment at the first unreadable record',
          );
          const fd = openSync(path, 'r+');
          ftruncateSync(fd, at);
          closeSync(fd);
          break;
        }
        records++;
        last = result.record.seq;
        if (last > this.acked) pendingHere++;
        at = result.end;
      }
      const keep = (this.options.retainBytes ?? 0) > 0 || this.options.checkpoint !== undefined;
      if (at === 0 || (last !== undefined && last <= this.acked && !keep) || (last === undefined && !keep)) {
        // Empty, or everything in it was delivered and nothing needs it (no retention, no checkpoint
        // that the state must be rebuilt from until begin() has written a newer one): nothing to keep.
        rmSync(path, { force: true });
        continue;
      }
      const segment: Segment = { first, path, size: at, records };
      if (last !== undefined) segment.last = last;
      this.segments.push(segment);
      this.pendingCount += pendingHere;
      if (last !== undefined && last > lastSeq) lastSeq = last;
    }
    this.nextSeq = lastSeq + 1n;
    const head = this.segments.find((seg) => seg.last !== undefined && seg.last > this.acked);
    this.head = head ? { segment: head.first, pos: 0 } : { segment: this.nextSeq, pos: 0 };
    if (corruptBytes > 0) {
      this.options.onCorrupt?.(corruptBytes);
      this.options.logger.error(
        { bytes: corruptBytes, dir: this.dir },
        'spool: damaged records could not be read back and are lost',
      );
    }
    if (this.pendingCount > 0)
      this.options.logger.info(
        { pending: this.pendingCount, segments: this.segments.length, dir: this.dir },
        'spool recovered: records not yet in Kafka are sent first',
      );
  }

  private takeLock(): void {
    if (existsSync(this.lockPath)) {
      const pid = Number(readFileSync(this.lockPath, 'utf8'));
      if (Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid))
        throw new Error(
          `spool ${this.dir} is in use by process ${pid}: give each source process its own folder`,
        );
    }
    writeFileSync(this.lockPath, String(process.pid));
  }
}

/**
 * Every record in a spool folder, delivered (retained) or not, oldest first, without opening it for
 * writing (a running collector may hold it): for `gridstream spool dump` and for audits.
 */
export function* readSpoolFolder(dir: string): Generator<SpooledMessage & { delivered: boolean }> {
  const ackPath = join(dir, ACK_FILE);
  const acked = existsSync(ackPath) ? BigInt(readFileSync(ackPath, 'utf8').trim() || '0') : 0n;
  const names = readdirSync(dir)
    .filter((n) => SEGMENT.test(n))
    .sort();
  for (const name of names) {
    const buf = readFileSync(join(dir, name));
    let at = 0;
    while (at < buf.length) {
      const result = decodeRecord(buf, at);
      if (result.kind !== 'record') break;
      if (result.record.seq !== CHECKPOINT_SEQ)
        yield { ...result.record, delivered: result.record.seq <= acked };
      at = result.end;
    }
  }
}

function writeAtomic(path: string, content: string, durable = true): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
