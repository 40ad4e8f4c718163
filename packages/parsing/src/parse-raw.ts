import {
  type DeadLetterReason,
  isValidTimeZone,
  type Lineage,
  type ParsedRecord,
  type Problem,
  RAW_HEADER,
  type SchemaId,
} from '@gridstream/schema';
import { decodeMicrogrid, type RecordDraft } from './decode-microgrid.js';
import { decodeSamples } from './decode-samples.js';
import { JsonDecodeError, parseJsonTolerant } from './tolerant-json.js';

/** One message from `telemetry.raw`, as the Kafka loop hands it over (headers already decoded to strings). */
export interface RawMessage {
  value: Buffer | null;
  headers: Record<string, string | undefined>;
  topic: string;
  partition: number;
  /** int64 offset as a decimal string. */
  offset: string;
}

export interface ParseOptions {
  /** Larger payloads are dead-lettered as `oversized` without being decoded. */
  maxBytes: number;
  zoneForSite(site: string): string;
}

export interface ParseResult {
  /** Records to produce to `telemetry.parsed`. */
  records: ParsedRecord[];
  /** Non-empty means the message goes to `telemetry.dlq` (possibly besides the records of its good parts). */
  problems: Problem[];
  /** Raw control characters escaped inside JSON strings; worth a metric, since it means a sloppy source. */
  controlCharsEscaped: number;
  /** NaN/Infinity readings left out and flagged bad (a failed sensor). */
  nonFiniteValues?: number;
}

/** Schema assumed when a message has no `gs-schema` header: the AMQP gateway path predates the header. */
const DEFAULT_SCHEMA: SchemaId = 'microgrid.v1';

/**
 * The parser stage for one raw message. Never throws: any exception, including one from a bug in a
 * decoder, becomes an `invalid_record` problem, so one poisonous message is dead-lettered instead of
 * crash-looping the consumer on the same offset forever.
 */
export function parseRaw(msg: RawMessage, opts: ParseOptions): ParseResult {
  try {
    return parseUnsafe(msg, opts);
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return rejected('invalid_record', '', `unexpected error while parsing: ${detail}`);
  }
}

function parseUnsafe(msg: RawMessage, opts: ParseOptions): ParseResult {
  const bytes = msg.value;
  if (bytes === null || bytes.length === 0) return rejected('not_json', '', 'the message value is empty');
  // Checked before decoding: parsing a huge payload is exactly the cost the limit exists to avoid.
  if (bytes.length > opts.maxBytes) {
    return rejected('oversized', '', `the message is ${bytes.length} bytes; the limit is ${opts.maxBytes}`);
  }
  const schemaHeader = msg.headers[RAW_HEADER.schema];
  const schema = schemaHeader === undefined ? DEFAULT_SCHEMA : schemaHeader;
  if (schema !== 'microgrid.v1' && schema !== 'samples.v1') {
    return rejected(
      'unknown_schema',
      '',
      `${RAW_HEADER.schema} is ${JSON.stringify(schema.slice(0, 100))}; known: microgrid.v1, samples.v1`,
    );
  }
  let json: ReturnType<typeof parseJsonTolerant>;
  try {
    json = parseJsonTolerant(bytes);
  } catch (err) {
    if (err instanceof JsonDecodeError) return rejected('not_json', '', err.message);
    throw err;
  }
  const decoded = schema === 'microgrid.v1' ? decodeMicrogrid(json.value, opts) : decodeSamples(json.value);
  // One lineage object per message, shared by its records: they all point at the same raw offset.
  const lineage: Lineage = { topic: msg.topic, partition: msg.partition, offset: msg.offset };
  const records = decoded.records as ParsedRecord[];
  for (const draft of decoded.records as (RecordDraft & Partial<ParsedRecord>)[]) {
    draft.v = 1;
    draft.schema = schema;
    draft.lineage = lineage;
  }
  const result: ParseResult = {
    records,
    problems: decoded.problems,
    controlCharsEscaped: json.controlCharsEscaped,
  };
  if (decoded.nonFinite) result.nonFiniteValues = decoded.nonFinite;
  return result;
}

function rejected(reason: DeadLetterReason, path: string, message: string): ParseResult {
  return { records: [], problems: [{ reason, path, message }], controlCharsEscaped: 0 };
}

/**
 * Site -> IANA zone for header timestamps. Every zone is checked here, at configuration time, so that a
 * typo fails the service's start instead of dead-lettering every message of a site as a bad timestamp.
 * A Map, not the object itself: a site id like "constructor" must not find Object.prototype's.
 */
export function zoneResolver(
  defaultZone: string,
  perSite: Record<string, string> = {},
): (site: string) => string {
  const bad: string[] = [];
  if (!isValidTimeZone(defaultZone)) bad.push(`default zone ${JSON.stringify(defaultZone)}`);
  const zones = new Map<string, string>();
  for (const [site, zone] of Object.entries(perSite)) {
    if (!isValidTimeZone(zone)) bad.push(`zone ${JSON.stringify(zone)} of site ${JSON.stringify(site)}`);
    zones.set(site, zone);
  }
  if (bad.length > 0) throw new RangeError(`unknown time zone(s): ${bad.join(', ')}`);
  return (site) => zones.get(site) ?? defaultZone;
}
