/**
 * Object names of the archive, relative to its root (the local directory, or `s3://bucket/prefix/`):
 *
 *   dt=YYYY-MM-DD/<topic>+<partition>+<firstOffset>+<lastOffset>.parquet
 *
 * `dt` is the UTC date of the rows' source timestamps (Hive-style, projected by Glue). The offsets are
 * those of the first and last `telemetry.parsed` record inside, zero-padded to 20 digits so that names
 * sort by offset. A name is a function of the content, so writing the same records again replaces the
 * object instead of adding a duplicate (the restart rule is in services/archiver/src/partition-archive.ts).
 */

export const OFFSET_DIGITS = 20;

export interface ArchiveObjectName {
  /** `YYYY-MM-DD` (UTC). */
  dt: string;
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

const DT = /^\d{4}-\d{2}-\d{2}$/;
/** Kafka's own rule for topic names: no `+` or `/`, so the name splits unambiguously. */
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const KEY = /^dt=(\d{4}-\d{2}-\d{2})\/([a-zA-Z0-9._-]{1,249})\+(\d{1,10})\+(\d{20})\+(\d{20})\.parquet$/;

/** UTC date of an instant (ms since epoch) as the archive's `dt`. */
export function archiveDate(tsMs: number): string {
  return new Date(tsMs).toISOString().slice(0, 10);
}

const pad = (offset: bigint) => offset.toString().padStart(OFFSET_DIGITS, '0');

export function archiveObjectKey(name: ArchiveObjectName): string {
  if (!DT.test(name.dt)) throw new Error(`not a dt (YYYY-MM-DD): ${name.dt}`);
  if (!TOPIC.test(name.topic)) throw new Error(`not a Kafka topic name: ${name.topic}`);
  if (!Number.isInteger(name.partition) || name.partition < 0)
    throw new Error(`bad partition ${name.partition}`);
  if (name.firstOffset < 0n || name.lastOffset < name.firstOffset)
    throw new Error(`bad offsets ${name.firstOffset}..${name.lastOffset}`);
  return `dt=${name.dt}/${name.topic}+${name.partition}+${pad(name.firstOffset)}+${pad(name.lastOffset)}.parquet`;
}

/** The archiver's files of one topic partition on one day share this prefix (a cheap, narrow listing). */
export function partitionObjectsPrefix(dt: string, topic: string, partition: number): string {
  return `dt=${dt}/${topic}+${partition}+`;
}

/** Parses an archiver object key; undefined for anything else (exports, temp files, other names). */
export function parseArchiveObjectKey(key: string): ArchiveObjectName | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const firstOffset = BigInt(m[4]!);
  const lastOffset = BigInt(m[5]!);
  if (lastOffset < firstOffset) return undefined;
  return { dt: m[1]!, topic: m[2]!, partition: Number(m[3]), firstOffset, lastOffset };
}
