import type { AlarmAction, AlarmEvent, ParsedRecord } from '@gridstream/schema';
import { copyBoolean, copyNullableText, copyNumber, copyText } from './copy-text.js';

/** The tables the writer fills (docs/timescale-writer.md). */
export type TableName = 'readings' | 'alarms' | 'alarm_actions';

/**
 * One row of one table, already in COPY text format: the writer's point. The key columns come first in
 * `line`, so its first `keyLength` characters are the row's identity (escaped values hold no raw tab, so
 * the tab-separated prefix is unambiguous): two rows with the same prefix are the same row, and the later
 * one wins (dedupeRows). Built once while the message is decoded; a write only joins lines.
 */
export interface PgRow {
  readonly table: TableName;
  /** Tab-separated COPY text, without the newline. */
  readonly line: string;
  /** Length of the identity prefix of `line` (the key columns and the tab after the last of them). */
  readonly keyLength: number;
}

/** A record the writer cannot store: dead-lettered `invalid_record` with this message. */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the regex exists to refuse control characters
const CONTROL = /[\u0000-\u001f\u007f]/;
const EQUIPMENT = /^[a-z][a-z0-9_]{0,62}$/;
const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** Site, device, rack: the schema's Identifier (1–128 characters, no control characters). */
function identifier(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || CONTROL.test(value))
    throw new InvalidRecordError(
      `${path}: must be a string of 1 to 128 characters without control characters`,
    );
  return value;
}

/** A reading's or flag's name: the schema's FieldName (1–200 characters, no control characters). */
function fieldName(name: string, path: string): string {
  if (name.length === 0 || name.length > 200 || CONTROL.test(name))
    throw new InvalidRecordError(`${path}: a name must have 1 to 200 characters and no control characters`);
  return name;
}

/**
 * A UTC instant in one spelling (`toISOString`, ms): `…:06Z` and `…:06.000Z` are the same key to
 * PostgreSQL, and two spellings of one key in a batch would fail its upsert ("cannot affect row a second
 * time") unless they are deduplicated as one.
 */
function utcInstant(value: unknown, path: string): string {
  const ms = typeof value === 'string' && UTC_ISO.test(value) ? Date.parse(value) : Number.NaN;
  const iso = Number.isFinite(ms) ? new Date(ms).toISOString() : '';
  // Date.parse rolls 30 February over into March: the date and time must read back as written.
  if (iso === '' || iso.slice(0, 19) !== (value as string).slice(0, 19))
    throw new InvalidRecordError(`${path}: must be a UTC timestamp in ISO 8601 with Z, not ${String(value)}`);
  return iso;
}

function qualityText(flags: unknown, path: string): string | null {
  if (flags === undefined) return null;
  if (!Array.isArray(flags)) throw new InvalidRecordError(`${path}: must be a list of quality flags`);
  for (const flag of flags)
    if (typeof flag !== 'string' || flag === '' || flag.includes(',') || CONTROL.test(flag))
      throw new InvalidRecordError(`${path}: "${String(flag)}" is not a quality flag`);
  return flags.length === 0 ? null : flags.join(',');
}

/**
 * `readings`: one row per reading and per status flag of a record — (time, site, equipment, device, rack,
 * field) → value, is_flag, quality — the archive's long layout. A flag is 1 (true) or 0 (false) with
 * is_flag; `rack` is '' for the device itself (a key column cannot be NULL). Throws InvalidRecordError for
 * a record that is not one the schema allows (the parser never writes one; anything else on the topic might).
 */
export function readingRows(record: ParsedRecord): PgRow[] {
  const time = utcInstant(record.ts, 'ts');
  const site = identifier(record.site, 'site');
  const equipment = record.equipment;
  if (typeof equipment !== 'string' || !EQUIPMENT.test(equipment))
    throw new InvalidRecordError('equipment: must be lower snake case');
  const device = identifier(record.device, 'device');
  const rack = record.rack === undefined ? '' : identifier(record.rack, 'rack');
  const quality = record.quality ?? {};
  if (typeof quality !== 'object' || quality === null || Array.isArray(quality))
    throw new InvalidRecordError('quality: must be an object of field → flags');
  // The identity columns but `field`, shared by every row of the record.
  const head = `${time}\t${copyText(site)}\t${equipment}\t${copyText(device)}\t${copyText(rack)}\t`;
  const rows: PgRow[] = [];
  const push = (field: string, value: string, isFlag: boolean) => {
    const name = copyText(field);
    const q = qualityText((quality as Record<string, unknown>)[field], `quality.${field}`);
    rows.push({
      table: 'readings',
      line: `${head}${name}\t${value}\t${isFlag ? 't' : 'f'}\t${copyNullableText(q)}`,
      keyLength: head.length + name.length + 1,
    });
  };
  for (const [field, value] of Object.entries(record.fields)) {
    fieldName(field, 'fields');
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new InvalidRecordError(`fields.${field}: must be a finite number`);
    push(field, String(value), false);
  }
  for (const [flag, on] of Object.entries(record.flags)) {
    fieldName(flag, 'flags');
    if (typeof on !== 'boolean') throw new InvalidRecordError(`flags.${flag}: must be true or false`);
    push(flag, on ? '1' : '0', true);
  }
  return rows;
}

/** Joins values (already in COPY text) and tells where the first `keyColumns` of them end. */
function row(table: TableName, values: string[], keyColumns: number): PgRow {
  const line = values.join('\t');
  let keyLength = 0;
  for (let i = 0; i < keyColumns; i++) keyLength += values[i]!.length + 1;
  return { table, line, keyLength };
}

/**
 * `alarms`: one row per event, keyed like its InfluxDB point — (site, equipment, device, rack, rule, level,
 * state, time) — so a redelivered event overwrites itself and the events of one episode never overwrite
 * each other. The event was validated in full by the seam (AlarmEventSchema).
 */
export function alarmRows(event: AlarmEvent): PgRow[] {
  return [
    row(
      'alarms',
      [
        copyText(event.site),
        event.equipment,
        copyText(event.device),
        copyText(event.rack ?? ''),
        event.rule,
        event.level,
        event.state,
        utcInstant(event.ts, 'ts'),
        copyText(event.field),
        copyNumber(event.value),
        copyNumber(event.threshold),
        copyBoolean(event.state !== 'cleared'),
        copyText(event.message),
        copyText(event.id),
        utcInstant(event.raisedAt, 'raisedAt'),
      ],
      8,
    ),
  ];
}

/**
 * `alarm_actions`: one row per operator action, keyed by its id (a UUID) and time: a redelivered action
 * overwrites itself, and two operators acting in the same millisecond are two rows.
 */
export function alarmActionRows(action: AlarmAction): PgRow[] {
  return [
    row(
      'alarm_actions',
      [
        copyText(action.id),
        utcInstant(action.at, 'at'),
        action.action,
        copyText(action.site),
        action.equipment,
        copyText(action.device),
        copyText(action.rack ?? ''),
        action.rule,
        copyNullableText(action.episode),
        copyNullableText(action.level),
        copyText(action.by),
        copyText(action.comment),
        action.shelvedUntil === undefined ? '\\N' : utcInstant(action.shelvedUntil, 'shelvedUntil'),
      ],
      2,
    ),
  ];
}
