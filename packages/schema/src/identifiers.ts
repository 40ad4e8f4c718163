import { z } from 'zod';

// Identifiers end up as InfluxDB tag values, Kafka keys and Parquet partition values. Control characters
// in any of them would corrupt line protocol or object keys, so they are refused at the schema boundary.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the regex exists to refuse control characters
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]+$/;

export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(NO_CONTROL_CHARS, 'must not contain control characters');

/** Equipment type, also the InfluxDB measurement and archive partition name: lower snake case. */
export const EquipmentName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower snake case');

/** A reading's name as the device sent it (`soc`, `AC_ACTIVE`): kept verbatim so operators recognise it. */
export const FieldName = z
  .string()
  .min(1)
  .max(200)
  .regex(NO_CONTROL_CHARS, 'must not contain control characters');

/** UTC instant as ISO 8601 with a `Z` suffix, millisecond precision at most. */
export const UtcTimestamp = z.iso.datetime({ offset: false });

/** Formats a raw message can be in; carried in the `gs-schema` header. */
export const SCHEMA_IDS = ['microgrid.v1', 'samples.v1'] as const;
export const SchemaId = z.enum(SCHEMA_IDS);
export type SchemaId = z.infer<typeof SchemaId>;
