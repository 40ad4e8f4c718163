import { DataType, type StatusCode, type Variant, VariantArrayType } from 'node-opcua-client';

export type StatusSeverity = 'good' | 'uncertain' | 'bad';

/** The two top bits of a StatusCode: 00 Good, 01 Uncertain, 1x Bad (OPC UA Part 4, 7.39). */
export function severityOf(status: StatusCode): StatusSeverity {
  const bits = (status.value >>> 30) & 0b11;
  return bits === 0 ? 'good' : bits === 1 ? 'uncertain' : 'bad';
}

export type ScalarValue =
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'empty' }
  | { kind: 'unsupported'; dataType: string };

/**
 * A Variant as a telemetry value. Numbers of every width become numbers (Int64/UInt64 arrive from
 * node-opcua as [high, low] words; beyond 2^53 they lose precision, which a meter counter never
 * reaches); booleans stay booleans (they become status flags). Strings, arrays and structures are not
 * readings and are reported as unsupported rather than coerced.
 */
export function scalarOf(variant: Variant | null | undefined): ScalarValue {
  if (!variant || variant.dataType === DataType.Null || variant.value === null || variant.value === undefined)
    return { kind: 'empty' };
  if (variant.arrayType !== undefined && variant.arrayType !== VariantArrayType.Scalar)
    return { kind: 'unsupported', dataType: `${DataType[variant.dataType]}[]` };
  switch (variant.dataType) {
    case DataType.Boolean:
      return { kind: 'boolean', value: Boolean(variant.value) };
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return { kind: 'number', value: Number(variant.value) };
    case DataType.Int64:
    case DataType.UInt64: {
      const words = variant.value as [number, number];
      const high = variant.dataType === DataType.Int64 ? words[0] | 0 : words[0] >>> 0;
      return { kind: 'number', value: high * 4_294_967_296 + (words[1] >>> 0) };
    }
    default:
      return { kind: 'unsupported', dataType: DataType[variant.dataType] ?? String(variant.dataType) };
  }
}

/** OPC UA's "no timestamp" (DateTime.MinValue, year 1601) arrives as a Date too; treat it as absent. */
export function usableTimestamp(date: Date | null | undefined): number | undefined {
  if (!date) return undefined;
  const ms = date.getTime();
  return Number.isFinite(ms) && ms > Date.UTC(1970, 0, 2) ? ms : undefined;
}
