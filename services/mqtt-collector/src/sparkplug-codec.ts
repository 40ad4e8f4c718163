import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/**
 * Sparkplug B payloads (Eclipse Tahu's protobuf, from the `sparkplug-payload` package) and topics
 * (`spBv1.0/<group>/<type>/<edge node>[/<device>]`). Decoded at the protobuf level, not with the package's
 * `decodePayload`: data messages may leave the datatype out (the spec says they should; it is in the
 * birth), and that helper then returns null for every value.
 */

const { Payload } = proto.org.eclipse.tahu.protobuf;

export const SPARKPLUG_NAMESPACE = 'spBv1.0';
export const MESSAGE_TYPES = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'DBIRTH',
  'DDATA',
  'DDEATH',
  'NCMD',
  'DCMD',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface SparkplugTopic {
  group: string;
  type: MessageType;
  node: string;
  device?: string;
}

/** The parts of a Sparkplug B topic, or undefined for anything else (STATE, other namespaces). */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== SPARKPLUG_NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, group, type, node, device] = parts as [string, string, string, string, string | undefined];
  if (!(MESSAGE_TYPES as readonly string[]).includes(type) || !group || !node) return undefined;
  const isDevice = type.startsWith('D');
  if (isDevice !== (device !== undefined) || device === '') return undefined;
  const out: SparkplugTopic = { group, type: type as MessageType, node };
  if (device !== undefined) out.device = device;
  return out;
}

/** Sparkplug datatype codes (sparkplug_b.proto, DataType). */
export const DATATYPE = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
} as const;

const DATATYPE_NAMES = new Map<number, string>(Object.entries(DATATYPE).map(([k, v]) => [v, k]));
export const datatypeName = (code: number): string => DATATYPE_NAMES.get(code) ?? `datatype ${code}`;

/** The value as sent: which field of the protobuf oneof held it. */
export type RawValue =
  | { kind: 'int'; value: number }
  | { kind: 'long'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'double'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'other' }
  | { kind: 'none' };

export interface DecodedMetric {
  name?: string;
  alias?: bigint;
  /** ms since the epoch */
  timestamp?: number;
  datatype?: number;
  isNull: boolean;
  isHistorical: boolean;
  value: RawValue;
  /** The `Quality` property (Ignition's convention: 192 good, 500 stale, else bad), when present. */
  quality?: number;
}

export interface DecodedPayload {
  timestamp?: number;
  seq?: number;
  metrics: DecodedMetric[];
}

type LongLike = number | { low: number; high: number; unsigned?: boolean } | null | undefined;

function toBigInt(v: LongLike, unsigned = true): bigint | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? big : BigInt.asIntN(64, big);
}

const has = (o: object, key: string) => Object.hasOwn(o, key);

/** Decodes a Sparkplug B payload; throws on bytes that are not one. */
export function decodeSparkplug(bytes: Uint8Array): DecodedPayload {
  const p = Payload.decode(bytes);
  const out: DecodedPayload = { metrics: [] };
  if (has(p, 'timestamp')) out.timestamp = Number(toBigInt(p.timestamp as LongLike));
  if (has(p, 'seq')) out.seq = Number(toBigInt(p.seq as LongLike));
  for (const m of p.metrics ?? []) {
    const metric: DecodedMetric = {
      isNull: m.isNull === true,
      isHistorical: m.isHistorical === true,
      value: { kind: 'none' },
    };
    if (has(m, 'name') && typeof m.name === 'string') metric.name = m.name;
    if (has(m, 'alias')) metric.alias = toBigInt(m.alias as LongLike);
    if (has(m, 'timestamp')) metric.timestamp = Number(toBigInt(m.timestamp as LongLike));
    if (typeof m.datatype === 'number' && m.datatype !== 0) metric.datatype = m.datatype;
    if (has(m, 'intValue')) metric.value = { kind: 'int', value: m.intValue! };
    else if (has(m, 'longValue')) metric.value = { kind: 'long', value: toBigInt(m.longValue as LongLike)! };
    else if (has(m, 'floatValue')) metric.value = { kind: 'float', value: m.floatValue! };
    else if (has(m, 'doubleValue')) metric.value = { kind: 'double', value: m.doubleValue! };
    else if (has(m, 'booleanValue')) metric.value = { kind: 'boolean', value: m.booleanValue! };
    else if (has(m, 'stringValue')) metric.value = { kind: 'string', value: m.stringValue! };
    else if (
      has(m, 'bytesValue') ||
      has(m, 'datasetValue') ||
      has(m, 'templateValue') ||
      has(m, 'extensionValue')
    )
      metric.value = { kind: 'other' };
    const props = m.properties;
    if (props?.keys && props.values) {
      const i = props.keys.indexOf('Quality');
      const pv = i >= 0 ? props.values[i] : undefined;
      if (pv && has(pv, 'intValue')) metric.quality = pv.intValue!;
      else if (pv && has(pv, 'longValue')) metric.quality = Number(toBigInt(pv.longValue as LongLike));
    }
    out.metrics.push(metric);
  }
  return out;
}

/**
 * What a metric's value is for gridstream: a number (a reading), a boolean (a status flag), or skipped
 * (strings, bytes, data sets, templates; date-times are metadata), by the metric's datatype.
 */
export type MetricReading =
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'skipped'; why: string };

export function readMetricValue(datatype: number, metric: DecodedMetric): MetricReading {
  if (metric.isNull) return { kind: 'null' };
  const v = metric.value;
  switch (datatype) {
    case DATATYPE.Int8:
    case DATATYPE.Int16:
    case DATATYPE.Int32:
    case DATATYPE.UInt8:
    case DATATYPE.UInt16:
    case DATATYPE.UInt32:
    case DATATYPE.Int64:
    case DATATYPE.UInt64: {
      let n: bigint;
      if (v.kind === 'int') n = BigInt(v.value >>> 0);
      else if (v.kind === 'long') n = v.value;
      else return { kind: 'skipped', why: `${datatypeName(datatype)} without an integer value` };
      return { kind: 'number', value: Number(integerOf(datatype, n)) };
    }
    case DATATYPE.Float:
    case DATATYPE.Double: {
      if (v.kind !== 'float' && v.kind !== 'double')
        return { kind: 'skipped', why: `${datatypeName(datatype)} without a floating-point value` };
      if (!Number.isFinite(v.value)) return { kind: 'skipped', why: `${v.value} is not a finite number` };
      return { kind: 'number', value: v.kind === 'float' ? shortestFloat32(v.value) : v.value };
    }
    case DATATYPE.Boolean:
      if (v.kind === 'boolean') return { kind: 'boolean', value: v.value };
      return { kind: 'skipped', why: 'Boolean without a boolean value' };
    default:
      return { kind: 'skipped', why: datatypeName(datatype) };
  }
}

/**
 * A Float is a 32-bit value: the device's 230.1 arrives as 230.10000610351562. The shortest decimal that
 * is the same 32-bit float is what the device meant (and what its own display shows).
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/** Two's complement of the declared width, whichever width the sender encoded it in. */
function integerOf(datatype: number, n: bigint): bigint {
  switch (datatype) {
    case DATATYPE.Int8:
      return BigInt.asIntN(8, n);
    case DATATYPE.Int16:
      return BigInt.asIntN(16, n);
    case DATATYPE.Int32:
      return BigInt.asIntN(32, n);
    case DATATYPE.UInt8:
      return BigInt.asUintN(8, n);
    case DATATYPE.UInt16:
      return BigInt.asUintN(16, n);
    case DATATYPE.UInt32:
      return BigInt.asUintN(32, n);
    case DATATYPE.Int64:
      return BigInt.asIntN(64, n);
    default:
      return BigInt.asUintN(64, n);
  }
}

/** An NCMD asking an edge node to publish its births again (`Node Control/Rebirth` = true). */
export function encodeRebirthRequest(now: number): Uint8Array {
  return Payload.encode(
    Payload.create({
      timestamp: now,
      metrics: [
        { name: 'Node Control/Rebirth', timestamp: now, datatype: DATATYPE.Boolean, booleanValue: true },
      ],
    }),
  ).finish();
}
