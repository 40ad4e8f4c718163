import { type ParsedRecord, parsedRecordKey } from './parsed-record.js';

/**
 * The value formats of `telemetry.parsed` (docs/messages.md):
 * - version 1: one Kafka message per record, the record itself (`{"v":1,"site":…}`), keyed by device;
 * - version 2 (the parser's default): one Kafka message per raw message, site and UTC day, carrying its
 *   records — `{"v":2,"site":…,"schema":…,"lineage":{…},"records":[{equipment, device, rack, ts, fields,
 *   flags, quality}, …]}` — keyed by site.
 * Version 2 exists because the per-message costs (client, broker, consumer objects) were most of the
 * parser's and the writer's CPU and memory with 17 records per gateway message (docs/benchmarks.md).
 * Readers take both, so a topic written partly in each (a parser upgraded mid-stream) reads as one.
 */
export type ParsedFormat = 'v1' | 'v2';

/** A value that is neither format: the reader dead-letters it (`invalid_record`). */
export class ParsedMessageError extends Error {
  override readonly name = 'ParsedMessageError';
}

/** One record inside a version-2 message: what varies from record to record of one raw message. */
interface Entry {
  equipment: string;
  device: string;
  rack?: string;
  ts: string;
  fields: Record<string, number>;
  flags: Record<string, boolean>;
  quality?: ParsedRecord['quality'];
}

export interface ParsedOutMessage {
  key: string;
  value: string;
}

/** Kafka key of a version-2 message: one site's readings stay in one partition, in order. */
export function parsedMessageKey(site: string): string {
  return site;
}

/**
 * Records → the parsed topic's messages in `format`. Version 2 groups the records of one raw message
 * (lineage) by site and UTC day — the archive files records by day, and one Kafka offset must land in one
 * file for `archive verify` — keeping the records' order inside each group and the groups' order of first
 * appearance, so one device's readings keep their order within the site's partition.
 */
export function encodeParsedMessages(
  records: readonly ParsedRecord[],
  format: ParsedFormat,
): ParsedOutMessage[] {
  if (format === 'v1') return records.map((r) => ({ key: parsedRecordKey(r), value: JSON.stringify(r) }));
  const groups = new Map<string, { first: ParsedRecord; entries: Entry[] }>();
  for (const r of records) {
    const l = r.lineage;
    const group = `${r.site}\u0000${r.ts.slice(0, 10)}\u0000${l.topic}\u0000${l.partition}\u0000${l.offset}\u0000${r.schema}`;
    const entry: Entry = {
      equipment: r.equipment,
      device: r.device,
      ts: r.ts,
      fields: r.fields,
      flags: r.flags,
    };
    if (r.rack !== undefined) entry.rack = r.rack;
    if (r.quality !== undefined) entry.quality = r.quality;
    const found = groups.get(group);
    if (found) found.entries.push(entry);
    else groups.set(group, { first: r, entries: [entry] });
  }
  const out: ParsedOutMessage[] = [];
  for (const { first, entries } of groups.values()) {
    out.push({
      key: parsedMessageKey(first.site),
      value: JSON.stringify({
        v: 2,
        site: first.site,
        schema: first.schema,
        lineage: first.lineage,
        records: entries,
      }),
    });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A parsed-topic value (either version) → its records, each in the version-1 shape the sinks know. Only the
 * envelope is checked here; each record is still the reader's to validate (the writer and the archiver do,
 * and dead-letter a bad record alone). Throws ParsedMessageError for a value that is neither format.
 */
export function decodeParsedMessage(value: Buffer | string | null): ParsedRecord[] {
  return decodeParsed(value).records;
}

/**
 * decodeParsedMessage() saying which format the value was: a reader dead-letters a bad record of a v2
 * message alone (as a v1 record), and a v1 message whole.
 */
export function decodeParsed(value: Buffer | string | null): {
  format: ParsedFormat;
  records: ParsedRecord[];
} {
  if (value === null || value.length === 0) throw new ParsedMessageError('empty message');
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new ParsedMessageError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw new ParsedMessageError('not a parsed record: not a JSON object');
  if (json.v !== 2) return { format: 'v1', records: [json as unknown as ParsedRecord] };
  const { site, schema, lineage, records } = json;
  if (typeof site !== 'string') throw new ParsedMessageError('parsed message v2: "site" must be a string');
  if (typeof schema !== 'string')
    throw new ParsedMessageError('parsed message v2: "schema" must be a string');
  if (!isObject(lineage)) throw new ParsedMessageError('parsed message v2: "lineage" must be an object');
  if (!Array.isArray(records) || records.length === 0)
    throw new ParsedMessageError('parsed message v2: "records" must be a non-empty array');
  const out: ParsedRecord[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const e = records[i];
    if (!isObject(e)) throw new ParsedMessageError(`parsed message v2: records[${i}] is not an object`);
    const record = {
      v: 1,
      site,
      equipment: e.equipment,
      device: e.device,
      ts: e.ts,
      fields: e.fields,
      flags: e.flags,
      schema,
      lineage,
    } as Record<string, unknown>;
    if (e.rack !== undefined) record.rack = e.rack;
    if (e.quality !== undefined) record.quality = e.quality;
    out[i] = record as unknown as ParsedRecord;
  }
  return { format: 'v2', records: out };
}
