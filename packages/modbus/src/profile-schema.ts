import { EquipmentName, FieldName, Identifier } from '@gridstream/schema';
import { z } from 'zod';
import { registerCount } from './codec.js';

/**
 * A device profile: what to read from one Modbus unit and what each value means. Written in YAML
 * (docs/device-profiles.md), validated here with every cross-field rule, and resolved so that consumers
 * (collector, simulator, probe) never re-apply defaults themselves and so can never disagree about them.
 */

export const MODBUS_FUNCTIONS = ['coil', 'discrete_input', 'holding', 'input'] as const;
export type ModbusFunction = (typeof MODBUS_FUNCTIONS)[number];

export const POINT_TYPES = [
  'bool',
  'bit',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
  'string',
] as const;
export type PointType = (typeof POINT_TYPES)[number];

export const REGISTER_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type RegisterOrder = (typeof REGISTER_ORDERS)[number];

/** Protocol limits of one request (Modbus application protocol v1.1b3, function codes 0x01..0x04). */
export const MAX_REGISTERS_PER_READ = 125;
export const MAX_BITS_PER_READ = 2000;

const Endian = z.enum(['big', 'little']);
const Order = z.enum(REGISTER_ORDERS);
const Address = z
  .int('must be an integer')
  .min(0, 'must be 0..65535 (0-based protocol address)')
  .max(65535, 'must be 0..65535 (0-based protocol address)');

const RangeSchema = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max');
export type PointRange = z.infer<typeof RangeSchema>;

/** Where a point's value lands: the record (equipment/device/rack) it is a field of. */
// YAML reads `rack: 1` as a number; an id is text, so numbers are taken as their decimal spelling.
const IdText = z.preprocess(
  (v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v),
  Identifier,
);
const Placement = {
  equipment: EquipmentName.optional(),
  device: IdText.optional(),
  rack: IdText.optional(),
};

/** Word/byte order, given either as one `order` or as `wordOrder` and/or `byteOrder`. */
const Ordering = {
  order: Order.optional(),
  wordOrder: Endian.optional(),
  byteOrder: Endian.optional(),
};

export const PointInputSchema = z.strictObject({
  // `__proto__` would vanish from the sample's plain objects (and the parser refuses it): never a field name.
  name: FieldName.refine((n) => n !== '__proto__', 'cannot be __proto__'),
  function: z.enum(MODBUS_FUNCTIONS),
  address: Address,
  type: z.enum(POINT_TYPES),
  bit: z
    .int('must be an integer')
    .min(0, 'bit must be 0..15 (0 = least significant bit of the register)')
    .max(15, 'bit must be 0..15 (0 = least significant bit of the register)')
    .optional(),
  length: z.int('must be an integer').min(1, 'must be at least 1 register').optional(),
  ...Ordering,
  scale: z
    .number()
    .refine(Number.isFinite, 'must be a finite number')
    .refine((s) => s !== 0, 'must not be 0 (every value would read 0)')
    .optional(),
  offset: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  unit: z.string().min(1).max(32).optional(),
  range: RangeSchema.optional(),
  ...Placement,
  description: z.string().optional(),
});

export const DeviceProfileInputSchema = z.strictObject({
  name: Identifier,
  description: z.string().optional(),
  site: Identifier,
  unitId: z.int('must be an integer').min(0).max(255),
  pollIntervalMs: z.int('must be an integer').min(10).max(86_400_000).default(1000),
  timeoutMs: z.int('must be an integer').min(10).max(600_000).default(300),
  retries: z.int('must be an integer').min(0).max(10).default(1),
  maxRegistersPerRead: z
    .int('must be an integer')
    .min(1)
    .max(MAX_REGISTERS_PER_READ)
    .default(MAX_REGISTERS_PER_READ),
  maxBitsPerRead: z.int('must be an integer').min(1).max(MAX_BITS_PER_READ).default(MAX_BITS_PER_READ),
  maxGap: z.int('must be an integer').min(0).max(MAX_REGISTERS_PER_READ).default(10),
  ...Placement,
  ...Ordering,
  points: z.array(PointInputSchema).min(1, 'a profile needs at least one point'),
});
export type DeviceProfileInput = z.input<typeof DeviceProfileInputSchema>;
type ParsedInput = z.output<typeof DeviceProfileInputSchema>;
type PointInput = z.output<typeof PointInputSchema>;

/** A point with every default applied. */
export interface ProfilePoint {
  name: string;
  function: ModbusFunction;
  /** 0-based protocol address (register 40001 in "Modicon" numbering is holding address 0). */
  address: number;
  type: PointType;
  /** Registers (or, for coils/discrete inputs, bits) the point occupies. */
  words: number;
  bit?: number;
  length?: number;
  order: RegisterOrder;
  scale: number;
  offset: number;
  unit?: string;
  range?: PointRange;
  equipment: string;
  device: string;
  rack?: string;
  description?: string;
}

export interface DeviceProfile {
  name: string;
  description?: string;
  site: string;
  unitId: number;
  pollIntervalMs: number;
  timeoutMs: number;
  retries: number;
  maxRegistersPerRead: number;
  maxBitsPerRead: number;
  maxGap: number;
  points: ProfilePoint[];
}

const BIT_FUNCTIONS: ReadonlySet<ModbusFunction> = new Set(['coil', 'discrete_input']);
const NUMERIC_TYPES: ReadonlySet<PointType> = new Set([
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
]);

function orderOf(
  spec: { order?: RegisterOrder; wordOrder?: 'big' | 'little'; byteOrder?: 'big' | 'little' },
  inherited: RegisterOrder,
): RegisterOrder {
  if (spec.order) return spec.order;
  const word = spec.wordOrder ?? (inherited === 'CDAB' || inherited === 'DCBA' ? 'little' : 'big');
  const byte = spec.byteOrder ?? (inherited === 'BADC' || inherited === 'DCBA' ? 'little' : 'big');
  if (word === 'big') return byte === 'big' ? 'ABCD' : 'BADC';
  return byte === 'big' ? 'CDAB' : 'DCBA';
}

function recordKey(p: { equipment?: string; device?: string; rack?: string }): string {
  return `${p.equipment}/${p.device}/${p.rack ?? ''}`;
}

/**
 * The cross-field rules zod's shape cannot express. Each issue's path names the point and the key, so
 * the loader can say "points[12] (soc, input 2): scale: …".
 *
 * Overlapping points are an ERROR: two numeric points sharing a register almost always mean a wrong
 * address or word count (the classic off-by-one), and decoding both would store one of them as garbage.
 * `bit` points are the exception: several flags live in one status register, which may also be read whole.
 */
function checkProfile(input: ParsedInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (input.order && (input.wordOrder || input.byteOrder)) {
    issue(['order'], 'give either order or wordOrder/byteOrder, not both');
  }
  // Occupied registers (or bits) per function, to find overlaps: address -> index of the point there.
  const occupied = new Map<ModbusFunction, Map<number, number>>();
  const bitsTaken = new Map<string, number>();
  const namesTaken = new Map<string, number>();
  input.points.forEach((p, i) => {
    const at = (key: string) => ['points', i, key];
    if (p.order && (p.wordOrder || p.byteOrder))
      issue(at('order'), 'give either order or wordOrder/byteOrder, not both');
    const isBitFunction = BIT_FUNCTIONS.has(p.function);
    if (isBitFunction && p.type !== 'bool') {
      issue(at('type'), `a ${p.function} is a single bit: its type must be bool`);
      return;
    }
    if (!isBitFunction && p.type === 'bool') {
      issue(
        at('type'),
        `bool is for coil/discrete_input; for a flag inside a ${p.function} register use type bit with bit: 0..15`,
      );
      return;
    }
    if (p.type === 'bit' && p.bit === undefined) issue(at('bit'), 'a bit point needs bit: 0..15');
    if (p.type !== 'bit' && p.bit !== undefined)
      issue(at('bit'), `bit only applies to type bit, not ${p.type}`);
    if (p.type === 'string' && p.length === undefined)
      issue(at('length'), 'a string needs length (registers)');
    if (p.type !== 'string' && p.length !== undefined)
      issue(at('length'), `length only applies to type string, not ${p.type}`);
    if (!NUMERIC_TYPES.has(p.type)) {
      for (const key of ['scale', 'offset', 'range'] as const) {
        if (p[key] !== undefined) issue(at(key), `${key} has no meaning for type ${p.type}`);
      }
    }
    if ((p.type === 'bool' || p.type === 'bit') && (p.order || p.wordOrder || p.byteOrder)) {
      issue(at('order'), `order has no meaning for type ${p.type}`);
    }
    if (p.type === 'string' && p.length === undefined) return;
    const words = registerCount(p.type, p.length);
    if (p.address + words > 65536) {
      issue(
        at('address'),
        `address ${p.address} + ${words} register(s) runs past the end of the address space (65535)`,
      );
      return;
    }
    const limit = isBitFunction ? input.maxBitsPerRead : input.maxRegistersPerRead;
    if (words > limit) {
      issue(at('length'), `${words} registers do not fit one read (maxRegistersPerRead ${limit})`);
    }
    const equipment = p.equipment ?? input.equipment;
    const device = p.device ?? input.device;
    if (equipment === undefined) issue(at('equipment'), 'no equipment here and no device-level default');
    if (device === undefined) issue(at('device'), 'no device here and no device-level default');
    const key = `${recordKey({ equipment, device, rack: p.rack ?? input.rack })}/${p.name}`;
    const sameName = namesTaken.get(key);
    if (sameName !== undefined) {
      issue(
        at('name'),
        `${p.name} is already points[${sameName}] of the same record: one would overwrite the other`,
      );
    } else namesTaken.set(key, i);
    if (p.type === 'bit') {
      const bitKey = `${p.function}:${p.address}:${p.bit}`;
      const other = bitsTaken.get(bitKey);
      if (other !== undefined)
        issue(at('bit'), `bit ${p.bit} of ${p.function} ${p.address} is already points[${other}]`);
      else bitsTaken.set(bitKey, i);
      return;
    }
    let space = occupied.get(p.function);
    if (!space) {
      space = new Map();
      occupied.set(p.function, space);
    }
    for (let a = p.address; a < p.address + words; a++) {
      const other = space.get(a);
      if (other !== undefined) {
        const o = input.points[other]!;
        issue(
          at('address'),
          `${p.function} ${a} is already used by points[${other}] (${o.name} at ${o.address})`,
        );
        return;
      }
    }
    for (let a = p.address; a < p.address + words; a++) space.set(a, i);
  });
}

function resolvePoint(p: PointInput, device: ParsedInput, deviceOrder: RegisterOrder): ProfilePoint {
  const point: ProfilePoint = {
    name: p.name,
    function: p.function,
    address: p.address,
    type: p.type,
    words: registerCount(p.type, p.length),
    order: orderOf(p, deviceOrder),
    scale: p.scale ?? 1,
    offset: p.offset ?? 0,
    equipment: (p.equipment ?? device.equipment)!,
    device: (p.device ?? device.device)!,
  };
  if (p.bit !== undefined) point.bit = p.bit;
  if (p.length !== undefined) point.length = p.length;
  if (p.unit !== undefined) point.unit = p.unit;
  if (p.range !== undefined) point.range = p.range;
  const rack = p.rack ?? device.rack;
  if (rack !== undefined) point.rack = rack;
  if (p.description !== undefined) point.description = p.description;
  return point;
}

function resolveProfile(input: ParsedInput): DeviceProfile {
  const deviceOrder = orderOf(input, 'ABCD');
  const profile: DeviceProfile = {
    name: input.name,
    site: input.site,
    unitId: input.unitId,
    pollIntervalMs: input.pollIntervalMs,
    timeoutMs: input.timeoutMs,
    retries: input.retries,
    maxRegistersPerRead: input.maxRegistersPerRead,
    maxBitsPerRead: input.maxBitsPerRead,
    maxGap: input.maxGap,
    points: input.points.map((p) => resolvePoint(p, input, deviceOrder)),
  };
  if (input.description !== undefined) profile.description = input.description;
  return profile;
}

/** Validates the shape and every cross-field rule, then resolves defaults into a DeviceProfile. */
export const DeviceProfileSchema =
  DeviceProfileInputSchema.superRefine(checkProfile).transform(resolveProfile);

export interface ProfileIssue {
  /** Path inside the profile, e.g. ['points', 12, 'scale']. */
  path: (string | number)[];
  /** Human location: `points[12] (soc, input 2): scale`. */
  where: string;
  message: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

/** A profile that cannot be used; the message lists every issue, each naming the file, point and key. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly source: string,
    readonly issues: ProfileIssue[],
  ) {
    const shown = issues
      .slice(0, 25)
      .map((i) => `  ${source}${i.line ? `:${i.line}` : ''}: ${i.where}: ${i.message}`);
    const more = issues.length > 25 ? [`  … and ${issues.length - 25} more`] : [];
    super(
      [
        `invalid device profile ${source} (${issues.length} problem${issues.length === 1 ? '' : 's'}):`,
        ...shown,
        ...more,
      ].join('\n'),
    );
  }
}

export interface ParsedProfile {
  profile: DeviceProfile;
  /** Usable but suspicious settings (e.g. retries that can outlast the poll interval). */
  warnings: string[];
}

/** `points[12] (soc, input 2): scale` — the point is named by field and register so the YAML is easy to find. */
export function describePath(input: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === 'points' && typeof path[1] === 'number') {
    const raw = (input as { points?: unknown[] } | null)?.points?.[path[1]] as
      | Record<string, unknown>
      | undefined;
    const name = typeof raw?.name === 'string' ? raw.name : '?';
    const fn = typeof raw?.function === 'string' ? raw.function : '?';
    const address = raw?.address ?? '?';
    const head = `points[${path[1]}] (${name}, ${fn} ${String(address)})`;
    const rest = path.slice(2).map(String).join('.');
    return rest ? `${head}: ${rest}` : head;
  }
  return path.length === 0 ? '(profile)' : path.map(String).join('.');
}

function warningsFor(profile: DeviceProfile): string[] {
  const warnings: string[] = [];
  const worst = profile.timeoutMs * (profile.retries + 1);
  if (worst >= profile.pollIntervalMs) {
    warnings.push(
      `timeoutMs ${profile.timeoutMs} × (retries ${profile.retries} + 1) = ${worst} ms is not below pollIntervalMs ${profile.pollIntervalMs}: while the device is silent its polls will skip cycles`,
    );
  }
  return warnings;
}

/**
 * Validates a profile object (from YAML or code). Throws ProfileError naming every problem; `source` is
 * the file name used in messages. `lineOf` maps an issue path to a source line when the caller knows it.
 */
export function parseProfile(
  input: unknown,
  source = '<profile>',
  lineOf?: (path: readonly PropertyKey[]) => number | undefined,
): ParsedProfile {
  const result = DeviceProfileSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i): ProfileIssue => {
      const path = i.path.map((k) => (typeof k === 'number' ? k : String(k)));
      const issue: ProfileIssue = { path, where: describePath(input, i.path), message: i.message };
      const line = lineOf?.(i.path);
      if (line !== undefined) issue.line = line;
      return issue;
    });
    throw new ProfileError(source, issues);
  }
  return { profile: result.data, warnings: warningsFor(result.data) };
}
