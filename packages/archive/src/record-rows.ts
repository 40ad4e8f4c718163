import { decodeParsed, type ParsedRecord, ParsedRecordSchema } from '@gridstream/schema';
import { isCertainlyValidRecord } from './fast-record.js';

/** One row of the archive table (the long layout of ARCHIVE_COLUMNS): one value of one record. */
export interface ArchiveRow {
  /** Source timestamp, ms since epoch (UTC). */
  ts: number;
  site: string;
  equipment: string;
  device: string;
  rack: string | null;
  field: string;
  value: number;
  is_flag: boolean;
  quality: string | null;
  kafka_partition: number;
  kafka_offset: bigint;
}

/** A message that can never become rows: the archiver dead-letters it (`invalid_record`). */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

/**
 * A single-record `telemetry.parsed` value (format v1) → the record, checked against the one schema the
 * parser wrote it with. Anything else — not JSON, JSON that is not a record, a value that is not finite —
 * throws InvalidRecordError with a message naming the first problems.
 */
export function decodeArchiveRecord(value: Buffer | string | null): ParsedRecord {
  if (value === null || value.length === 0) throw new InvalidRecordError('empty message');
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new InvalidRecordError(`not JSON: ${(error as Error).message}`);
  }
  return checkArchiveRecord(json);
}

/** A decoded record → itself once valid; InvalidRecordError naming the first problems otherwise. */
export function checkArchiveRecord(json: unknown): ParsedRecord {
  // The common case — a record the parser wrote — is settled without zod; zod decides (and explains) the rest.
  if (isCertainlyValidRecord(json)) return json;
  const parsed = ParsedRecordSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
      .join('; ');
    throw new InvalidRecordError(`not a parsed record: ${problems}`);
  }
  return parsed.data;
}

export interface DecodedArchiveMessage {
  /** Format v2 (records bundled): a record that cannot be archived is dead-lettered alone. */
  bundle: boolean;
  /** The valid records, in the message's order. */
  records: ParsedRecord[];
  /** Records of the message that cannot be archived, each with the reason (dead-lettered alone). */
  invalid: { record: unknown; error: InvalidRecordError }[];
}

/**
 * A `telemetry.parsed` value of either format (docs/messages.md) → its valid records and its invalid ones.
 * Throws InvalidRecordError when the value as a whole is neither format.
 */
export function decodeArchiveMessage(value: Buffer | string | null): DecodedArchiveMessage {
  let decoded: ReturnType<typeof decodeParsed>;
  try {
    decoded = decodeParsed(value);
  } catch (error) {
    throw new InvalidRecordError((error as Error).message);
  }
  const out: DecodedArchiveMessage = { bundle: decoded.format === 'v2', records: [], invalid: [] };
  for (const record of decoded.records) {
    try {
      out.records.push(checkArchiveRecord(record));
    } catch (error) {
      out.invalid.push({ record, error: error as InvalidRecordError });
    }
  }
  return out;
}

/**
 * A record → its rows: one per numeric field, then one per status flag (1.0 / 0.0, is_flag true), each
 * with the field's quality flags joined by commas (null when good) and the record's Kafka position.
 */
export function recordToRows(record: ParsedRecord, partition: number, offset: bigint): ArchiveRow[] {
  const ts = Date.parse(record.ts);
  const rack = record.rack ?? null;
  const quality = record.quality;
  const rows: ArchiveRow[] = [];
  const push = (field: string, value: number, isFlag: boolean) => {
    const flags = quality?.[field];
    rows.push({
      ts,
      site: record.site,
      equipment: record.equipment,
      device: record.device,
      rack,
      field,
      value,
      is_flag: isFlag,
      quality: flags && flags.length > 0 ? flags.join(',') : null,
      kafka_partition: partition,
      kafka_offset: offset,
    });
  };
  for (const [field, value] of Object.entries(record.fields)) push(field, value, false);
  for (const [field, on] of Object.entries(record.flags)) push(field, on ? 1 : 0, true);
  return rows;
}
