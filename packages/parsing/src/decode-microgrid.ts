import {
  type DeadLetterReason,
  gatewayTimeToUtcIso,
  LocalTimeError,
  MICROGRID_EQUIPMENT,
  type ParsedRecord,
  type Problem,
  type QualityFlag,
} from '@gridstream/schema';
import { isFieldName, toIdentifier } from './identifiers.js';
import { childPath } from './json-path.js';
import { NONFINITE_PREFIX } from './tolerant-json.js';

/**
 * `microgrid.v1` -> record drafts. A hand-written walk instead of zod: this runs for every gateway message
 * and the format's own rules (numbers are readings, booleans flags, strings metadata, numeric-looking
 * strings an error) are not shape rules zod could check anyway. The zod schemas in @gridstream/schema
 * document the format; decode-microgrid.test.ts checks that every draft passes ParsedRecordSchema.
 */

/** A canonical record before the caller adds where it came from (`schema`, `lineage`). */
export type RecordDraft = Omit<ParsedRecord, 'lineage' | 'schema'>;

export interface DecodeResult {
  records: RecordDraft[];
  problems: Problem[];
  /** NaN/Infinity readings left out (each flagged `bad` on its record). */
  nonFinite?: number;
}

export interface MicrogridOptions {
  /** IANA zone of a site's wall clock; header timestamps carry no offset. */
  zoneForSite(site: string): string;
}

type JsonObject = Record<string, unknown>;

const LAYER = 'FieldDeviceLayer';

/**
 * A string that is really a number: `"31.5"`, `" 12 "`, `"-1e3"`, also `"NaN"`/`"Infinity"` (a failed
 * reading stringified by the gateway). Such a value is a reading sent with the wrong type, not metadata;
 * taking it as metadata would drop the reading without anyone noticing.
 */
const NUMERIC_STRING = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity|NaN)\s*$/;

/**
 * Decodes one parsed `microgrid.v1` message. Message-level defects (no header, bad timestamp, no
 * FieldDeviceLayer) give exactly one problem and no records. Below that, a defect rejects only its own part:
 * a group without `service`, an instance without an id, a record with a wrong-typed reading. Records come in
 * document order: group, instance, the instance before its racks.
 */
export function decodeMicrogrid(value: unknown, opts: MicrogridOptions): DecodeResult {
  if (!isObject(value)) {
    return failed('missing_header', '', `the message is ${describe(value)}, not an object with a header`);
  }
  const header = value.header;
  if (!isObject(header)) {
    const what = header === undefined ? 'the message has no header' : `header is ${describe(header)}`;
    return failed('missing_header', 'header', `${what}; expected an object with site_id and timestamp`);
  }
  const rawSite = header.site_id;
  const site = toIdentifier(rawSite);
  if (site === undefined) {
    return failed(
      'missing_header',
      'header.site_id',
      rawSite == null
        ? 'header has no site_id'
        : `header.site_id is ${describe(rawSite)} that is not a usable site id ` +
            '(non-empty string or non-negative integer, at most 128 characters, no control characters)',
    );
  }
  const localTs = header.timestamp;
  if (localTs == null) return failed('missing_header', 'header.timestamp', 'header has no timestamp');
  if (typeof localTs !== 'string') {
    return failed(
      'bad_timestamp',
      'header.timestamp',
      `header.timestamp is ${describe(localTs)}, not a "YYYY-MM-DD HH:MM:SS" string (or ISO 8601 with an offset)`,
    );
  }
  let ts: string;
  try {
    ts = gatewayTimeToUtcIso(localTs, opts.zoneForSite(site));
  } catch (err) {
    if (err instanceof LocalTimeError) return failed('bad_timestamp', 'header.timestamp', err.message);
    throw err;
  }
  const layer = value.FieldDeviceLayer;
  if (!isObject(layer)) {
    return failed(
      'bad_structure',
      LAYER,
      `${LAYER} is ${describe(layer)}, not an object of equipment groups`,
    );
  }

  const walk = new Walk(site, ts);
  for (const groupKey in layer) {
    const group = layer[groupKey];
    const service = isObject(group) ? group.service : undefined;
    if (!Array.isArray(service)) {
      const what = !isObject(group)
        ? `the group is ${describe(group)}, not an object`
        : service === undefined
          ? 'the group has no service array'
          : `service is ${describe(service)}, not an array`;
      walk.problem('missing_service', childPath(childPath(LAYER, groupKey), 'service'), what);
      continue;
    }
    const equipment = equipmentFor(groupKey);
    if (equipment === undefined) {
      walk.problem(
        'bad_structure',
        childPath(LAYER, groupKey),
        `group key ${quote(groupKey)} has no letters or digits to name its equipment type after`,
      );
      continue;
    }
    for (let i = 0; i < service.length; i++) walk.instance(groupKey, equipment, i, service[i]);
  }
  if (walk.records.length === 0 && walk.problems.length === 0) {
    walk.problem('no_readings', LAYER, 'no device instance holds a numeric reading or a boolean flag');
  }
  return walk.nonFinite > 0
    ? { records: walk.records, problems: walk.problems, nonFinite: walk.nonFinite }
    : { records: walk.records, problems: walk.problems };
}

/** State of one message's walk; methods keep the per-instance code free of closures. */
class Walk {
  readonly records: RecordDraft[] = [];
  readonly problems: Problem[] = [];
  /** Readings that were NaN/Infinity tokens: left out, flagged bad. */
  nonFinite = 0;
  /**
   * Device ids seen so far, per equipment. A repeated (equipment, device, rack) at the one timestamp of a
   * message is the same InfluxDB point, so the second would silently overwrite the first.
   */
  private readonly devices = new Map<string, Set<string>>();

  constructor(
    private readonly site: string,
    private readonly ts: string,
  ) {}

  problem(reason: DeadLetterReason, path: string, message: string): void {
    this.problems.push({ reason, path, message });
  }

  instance(groupKey: string, equipment: string, i: number, inst: unknown): void {
    if (!isObject(inst)) {
      this.problem(
        'bad_structure',
        instancePath(groupKey, i),
        `the device instance is ${describe(inst)}, not an object`,
      );
      return;
    }
    // Batteries are identified by `id` ("01"), everything else by `index` (1).
    const idKey = inst.id != null ? 'id' : 'index';
    const rawId = inst[idKey];
    if (rawId == null) {
      this.problem(
        'bad_structure',
        instancePath(groupKey, i),
        'the device instance has neither id nor index',
      );
      return;
    }
    const device = toIdentifier(rawId);
    if (device === undefined) {
      this.problem(
        'bad_structure',
        childPath(instancePath(groupKey, i), idKey),
        `${idKey} is ${describe(rawId)} that is not a usable device id`,
      );
      return;
    }
    let seen = this.devices.get(equipment);
    if (seen === undefined) {
      seen = new Set();
      this.devices.set(equipment, seen);
    }
    if (seen.has(device)) {
      this.problem(
        'bad_structure',
        instancePath(groupKey, i),
        `${equipment} device ${device} appears more than once in the message; only the first is kept`,
      );
      return;
    }
    seen.add(device);
    const fields: Record<string, number> = {};
    const flags: Record<string, boolean> = {};
    const quality: Record<string, QualityFlag[]> = {};
    if (this.readings(inst, fields, flags, quality, groupKey, i, undefined) > 0) {
      const record: RecordDraft = { v: 1, site: this.site, equipment, device, ts: this.ts, fields, flags };
      if (hasKeys(quality)) record.quality = quality;
      this.records.push(record);
    }
    const racks = inst.racks;
    if (racks == null) return;
    if (Array.isArray(racks)) {
      const taken: string[] = [];
      for (let j = 0; j < racks.length; j++) this.rack(groupKey, equipment, device, i, racks[j], j, taken);
    } else if (isObject(racks)) {
      this.rack(groupKey, equipment, device, i, racks, -1, undefined);
    } else {
      this.problem(
        'bad_structure',
        childPath(instancePath(groupKey, i), 'racks'),
        `racks is ${describe(racks)}, not an object or an array of objects`,
      );
    }
  }

  /**
   * `position` is the index in a racks array, or -1 when racks is a single object; `taken` holds the rack
   * ids of the array so far (a handful: a linear search beats building a Set).
   */
  private rack(
    groupKey: string,
    equipment: string,
    device: string,
    i: number,
    rack: unknown,
    position: number,
    taken: string[] | undefined,
  ): void {
    if (!isObject(rack)) {
      this.problem(
        'bad_structure',
        rackPath(groupKey, i, position),
        `the rack is ${describe(rack)}, not an object`,
      );
      return;
    }
    const idKey = rack.index != null ? 'index' : 'id';
    const rawId = rack[idKey];
    let rackId: string | undefined;
    if (rawId == null) {
      rackId = String(position < 0 ? 1 : position + 1);
    } else {
      rackId = toIdentifier(rawId);
      if (rackId === undefined) {
        this.problem(
          'bad_structure',
          childPath(rackPath(groupKey, i, position), idKey),
          `${idKey} is ${describe(rawId)} that is not a usable rack id`,
        );
        return;
      }
    }
    if (taken !== undefined) {
      if (taken.includes(rackId)) {
        this.problem(
          'bad_structure',
          rackPath(groupKey, i, position),
          `rack ${rackId} of ${equipment} device ${device} appears more than once; only the first is kept`,
        );
        return;
      }
      taken.push(rackId);
    }
    const fields: Record<string, number> = {};
    const flags: Record<string, boolean> = {};
    const quality: Record<string, QualityFlag[]> = {};
    if (this.readings(rack, fields, flags, quality, groupKey, i, position) > 0) {
      const record: RecordDraft = {
        v: 1,
        site: this.site,
        equipment,
        device,
        rack: rackId,
        ts: this.ts,
        fields,
        flags,
      };
      if (hasKeys(quality)) record.quality = quality;
      this.records.push(record);
    }
  }

  /**
   * Copies numbers into `fields` and booleans into `flags`; returns how many, or -1 if the unit is rejected.
   * A rejected unit yields no record at all: a record missing the one reading that was sent as a string
   * would look complete downstream. Every bad key is reported, not just the first, so one dead letter
   * shows everything a gateway fix has to address.
   *
   * A NaN or Infinity (a failed sensor, as Python's json.dumps writes it) is not a rejection: that reading
   * is left out and flagged `bad`, which still counts as something to report for the unit.
   */
  private readings(
    unit: JsonObject,
    fields: Record<string, number>,
    flags: Record<string, boolean>,
    quality: Record<string, QualityFlag[]>,
    groupKey: string,
    i: number,
    rackPosition: number | undefined,
  ): number {
    let count = 0;
    let rejected = false;
    for (const key in unit) {
      if (key === 'id' || key === 'index' || key === 'racks') continue;
      const v = unit[key];
      if (typeof v === 'number') {
        if (!Number.isFinite(v) || !isFieldName(key)) {
          rejected = true;
          this.badKey(groupKey, i, rackPosition, key, v);
        } else if (!rejected) {
          fields[key] = v; // isFieldName refused `__proto__`, so this cannot hit the prototype
          count++;
        }
      } else if (typeof v === 'boolean') {
        if (!isFieldName(key)) {
          rejected = true;
          this.badKey(groupKey, i, rackPosition, key, v);
        } else if (!rejected) {
          flags[key] = v;
          count++;
        }
      } else if (typeof v === 'string' && v.startsWith(NONFINITE_PREFIX)) {
        this.nonFinite++;
        if (!isFieldName(key)) {
          rejected = true;
          this.badKey(groupKey, i, rackPosition, key, Number.NaN);
        } else if (!rejected) {
          quality[key] = ['bad'];
          count++;
        }
      } else if (typeof v === 'string' && NUMERIC_STRING.test(v)) {
        rejected = true;
        this.problem(
          'wrong_type',
          childPath(unitPath(groupKey, i, rackPosition), key),
          `the reading is the string ${quote(v)}; it must be sent as a JSON number`,
        );
      }
      // null is "no reading this interval"; other strings, objects and arrays are metadata.
    }
    return rejected ? -1 : count;
  }

  private badKey(
    groupKey: string,
    i: number,
    rackPosition: number | undefined,
    key: string,
    v: number | boolean,
  ): void {
    const path = childPath(unitPath(groupKey, i, rackPosition), key);
    if (!isFieldName(key)) {
      this.problem(
        'invalid_record',
        path,
        'a reading name must be 1-200 characters without control characters, and not __proto__',
      );
    } else {
      this.problem(
        'invalid_record',
        path,
        `the reading is ${v}, not a finite number (too large for a double)`,
      );
    }
  }
}

/** Equipment type of a FieldDeviceLayer group: the known name, else the key as lower snake case. */
const slugCache = new Map<string, string | undefined>();
const MAX_SLUGS = 1000;

export function equipmentFor(groupKey: string): string | undefined {
  // hasOwn, not `in`/`??`: a group called "constructor" or "__proto__" must not resolve via the prototype.
  if (Object.hasOwn(MICROGRID_EQUIPMENT, groupKey)) return MICROGRID_EQUIPMENT[groupKey];
  if (slugCache.has(groupKey)) return slugCache.get(groupKey);
  let slug = groupKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug !== '' && !/^[a-z]/.test(slug)) slug = `group_${slug}`;
  const result = slug === '' ? undefined : slug.slice(0, 63).replace(/_+$/, '');
  if (slugCache.size >= MAX_SLUGS) slugCache.clear();
  slugCache.set(groupKey, result);
  return result;
}

function failed(reason: DeadLetterReason, path: string, message: string): DecodeResult {
  return { records: [], problems: [{ reason, path, message }] };
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function instancePath(groupKey: string, i: number): string {
  return `${childPath(childPath(LAYER, groupKey), 'service')}[${i}]`;
}

function rackPath(groupKey: string, i: number, position: number): string {
  const racks = childPath(instancePath(groupKey, i), 'racks');
  return position < 0 ? racks : `${racks}[${position}]`;
}

function unitPath(groupKey: string, i: number, rackPosition: number | undefined): string {
  return rackPosition === undefined ? instancePath(groupKey, i) : rackPath(groupKey, i, rackPosition);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return `the string ${quote(v)}`;
    case 'number':
    case 'boolean':
      return `${typeof v} ${v}`;
    default:
      return `an ${typeof v}`;
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? s.slice(0, 64) + '…' : s);
}
