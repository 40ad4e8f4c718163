import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EquipmentName, FieldName, Identifier, SchemaId, UtcTimestamp } from './identifiers.js';
import { QualityFlag } from './quality.js';

/** Where a record came from in `telemetry.raw`; offsets are int64, so they travel as strings. */
export const LineageSchema = z.object({
  topic: z.string().min(1),
  partition: z.number().int().min(0),
  offset: z.string().regex(/^\d+$/),
});
export type Lineage = z.infer<typeof LineageSchema>;

/**
 * The canonical record on `telemetry.parsed`: one device (or sub-unit) reading at one source instant.
 * A point in InfluxDB is (measurement = equipment, tags = site/device/rack, ts), so a redelivered record
 * overwrites itself instead of duplicating.
 */
export const ParsedRecordSchema = z.object({
  v: z.literal(1),
  site: Identifier,
  equipment: EquipmentName,
  device: Identifier,
  /** Sub-unit of the device, e.g. a battery rack; absent for the device itself. */
  rack: Identifier.optional(),
  /** Source timestamp, converted to UTC. */
  ts: UtcTimestamp,
  fields: z.record(FieldName, z.number().refine(Number.isFinite, 'must be a finite number')),
  /** Boolean status flags (run, fault, warning, …). */
  flags: z.record(FieldName, z.boolean()),
  /** Quality flags per field name; a field without an entry is good. */
  quality: z.record(FieldName, z.array(QualityFlag)).optional(),
  /** Format of the raw message the record was parsed from. */
  schema: SchemaId,
  lineage: LineageSchema,
});
export type ParsedRecord = z.infer<typeof ParsedRecordSchema>;

/** Kafka key of a parsed record: one device's readings stay in one partition, in order. */
export function parsedRecordKey(record: Pick<ParsedRecord, 'site' | 'equipment' | 'device'>): string {
  return `${record.site}/${record.equipment}/${record.device}`;
}

/**
 * What makes a reading the same reading: the (sub)device and its source instant. InfluxDB's point identity
 * (measurement, tags, time) is the same, which is why a redelivered record overwrites itself there.
 */
export function recordIdentity(
  record: Pick<ParsedRecord, 'site' | 'equipment' | 'device' | 'rack' | 'ts'>,
): string {
  return `${record.site}/${record.equipment}/${record.device}/${record.rack ?? ''}@${record.ts}`;
}

/** A short, fixed-size digest of recordIdentity() (12 base64url characters), for headers. */
export function recordDigest(
  record: Pick<ParsedRecord, 'site' | 'equipment' | 'device' | 'rack' | 'ts'>,
): string {
  return createHash('sha256').update(recordIdentity(record)).digest('base64url').slice(0, 12);
}
