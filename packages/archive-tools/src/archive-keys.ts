import { archiveObjectKey, parseArchiveObjectKey } from '@gridstream/archive';
import { compactInstant } from './time-range.js';

/**
 * Object names inside the archive (relative to its root: the local dir or `s3://bucket/prefix`).
 *
 *   dt=YYYY-MM-DD/<topic>+<partition>+<firstOffset>+<lastOffset>.parquet      written by the archiver
 *                                                                               (@gridstream/archive object-key.ts)
 *   dt=YYYY-MM-DD/export+<measurement>+<from>+<to>.parquet                     written by `gridstream export`
 *
 * Both names are a function of the content only, so writing the same content again replaces the object.
 */

const DT = /^dt=(\d{4}-\d{2}-\d{2})\/([^/]+)$/;
const EXPORT_NAME = /^export\+([^+]+)\+(\d{8}T\d{6}(?:\d{3})?Z)\+(\d{8}T\d{6}(?:\d{3})?Z)\.parquet$/;

export type ArchiveFileInfo =
  | {
      kind: 'archiver';
      dt: string;
      name: string;
      topic: string;
      partition: number;
      first: bigint;
      last: bigint;
    }
  | { kind: 'export'; dt: string; name: string; measurement: string; from: string; to: string }
  | { kind: 'other'; dt: string; name: string };

/** Parses `dt=…/<name>`; undefined for anything that is not a Parquet file in a dt folder. */
export function parseArchiveKey(key: string): ArchiveFileInfo | undefined {
  const m = DT.exec(key);
  // Hidden (`.x`, `_x`) files are skipped, as Athena and Hive skip them.
  if (!m || !m[2]!.endsWith('.parquet') || /^[._]/.test(m[2]!)) return undefined;
  const dt = m[1]!;
  const name = m[2]!;
  const exp = EXPORT_NAME.exec(name);
  if (exp) {
    return { kind: 'export', dt, name, measurement: decodeNamePart(exp[1]!), from: exp[2]!, to: exp[3]! };
  }
  const arc = parseArchiveObjectKey(key);
  if (arc) {
    return {
      kind: 'archiver',
      dt,
      name,
      topic: arc.topic,
      partition: arc.partition,
      first: arc.firstOffset,
      last: arc.lastOffset,
    };
  }
  return { kind: 'other', dt, name };
}

/** `dt=2024-03-01/export+pv+20240301T000000Z+20240302T000000Z.parquet` */
export function exportKey(dt: string, measurement: string, fromMs: number, toMs: number): string {
  return `dt=${dt}/export+${encodeNamePart(measurement)}+${compactInstant(fromMs)}+${compactInstant(toMs)}.parquet`;
}

/** The archiver's name for a file (@gridstream/archive's rule), for tests that build archives by hand. */
export function archiverKey(
  dt: string,
  topic: string,
  partition: number,
  first: bigint,
  last: bigint,
): string {
  return archiveObjectKey({ dt, topic, partition, firstOffset: first, lastOffset: last });
}

/**
 * Measurements are lower snake case when gridstream wrote them, but an exported InfluxDB may hold any
 * name; `+` separates the name's parts and `/` would make a folder, so both (and `%`) are escaped.
 */
export function encodeNamePart(s: string): string {
  return s.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what gets escaped
    /[%+/\\\u0000-\u001f\u007f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
}

export function decodeNamePart(s: string): string {
  return s.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
