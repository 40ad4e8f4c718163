/**
 * Serialises a message the way the gateway does: its firmware (Python) writes every reading as a float,
 * so whole numbers appear as `14.0`, while counters and ids stay integers (`"index": 1`,
 * `"total_racks": 1`). JSON.stringify would print `14`, which is the same JSON number but not the same
 * bytes; keeping the gateway's spelling makes simulated traffic a faithful test of downstream decoders.
 */
const INTEGER_KEYS = new Set([
  'index',
  'total_racks',
  'EnergyPlatformLayer',
  'FieldDeviceLayer',
  'test1',
  'test2',
]);

export function gatewayJson(value: unknown): string {
  return write(value, undefined);
}

function write(value: unknown, key: string | undefined): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) return 'null';
      if (key !== undefined && INTEGER_KEYS.has(key)) return String(Math.round(value));
      return Number.isInteger(value) ? value.toFixed(1) : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => write(v, key)).join(', ')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        parts.push(`${JSON.stringify(k)}: ${write(v, k)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    default:
      return 'null';
  }
}
