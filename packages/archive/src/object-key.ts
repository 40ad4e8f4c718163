/**
 * Object names of the archive, relative to its root (the local directory, or `s3://bucket/prefix/`):
 *
 *   dt=YYYY-MM-DD/<topic>+<partition>+<firstOffset>+<lastOffset>+g<generation>.parquet
 *
 * `dt` is the UTC date of the rows' source timestamps (Hive-style, projected by Glue). The offsets are
 * those of the first and last `telemetry.parsed` record inside, zero-padded to 20 digits so that names
 * sort by offset; the file holds every record of its partition and day between them. `generation` is the
 * archiver group's generation in which the writer owned the partition: when two files overlap — an old
 * owner's upload that hung past a rebalance and landed after the new owner listed the day — the newer
 * generation's file wins and the older one is deleted (services/archiver/src/partition-archive.ts). Names
 * written before generations were recorded (no `+g…`) count as generation 0.
 */

export const OFFSET_DIGITS = 20;

export interface ArchiveObjectName {
  /** `YYYY-MM-DD` (UTC). */
  dt: string;
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** Group generation of the writer; 0 for names without one. */
  generation?: number;
}

const DT = /^\d{4}-\d{2}-\d{2}$/;
/** Kafka's own rule for topic names: no `+` or `/`, so the name splits unambiguously. */
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const KEY =
  /^dt=(\d{4}-\d{2}-\d{2})\/([a-zA-Z0-9._-]{1,249})\+(\d{1,10})\+(\d{20})\+(\d{20})(?:\+g(\d{1,10}))?\.parquet$/;

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
  const generation = name.generation ?? 0;
  if (!Number.isInteger(generation) || generation < 0) throw new Error(`bad generation ${generation}`);
  const suffix = generation > 0 ? `+g${generation}` : '';
  return `dt=${name.dt}/${name.topic}+${name.partition}+${pad(name.firstOffset)}+${pad(name.lastOffset)}${suffix}.parquet`;
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
  return {
    dt: m[1]!,
    topic: m[2]!,
    partition: Number(m[3]),
    firstOffset,
    lastOffset,
    generation: m[6] === undefined ? 0 : Number(m[6]),
  };
}
