import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Identifier } from '@gridstream/schema';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The collector config file (MODBUS_CONFIG, YAML or JSON): which Modbus lines to open and which devices
 * (a device profile plus per-installation overrides) sit on each. Profiles say what a device model
 * holds; this file says where the installed units are. docs/modbus-collector.md documents it.
 */

const Port = z.int().min(1).max(65535);
const Millis = (min: number, max: number) => z.int('must be an integer (milliseconds)').min(min).max(max);

const BreakerSchema = z.strictObject({
  /** Consecutive failed polls that open the breaker. */
  failureThreshold: z.int().min(1).max(1000).default(3),
  /**
   * Wait after opening before one probe poll. Default: one poll interval for a device alone on its
   * connection (a probe can only cost itself), five intervals on a shared line (each probe of a dead
   * slave costs the bus one timeout).
   */
  coolDownMs: Millis(10, 86_400_000).optional(),
});

const DeviceSchema = z.strictObject({
  /** Unique within the collector; metrics and the readiness body use it. Default: `<profile name>-<unitId>`. */
  name: Identifier.optional(),
  /** Device profile file, relative to this config file. */
  profile: z.string().min(1),
  /** Overrides of the profile's values for this installation. */
  unitId: z.int().min(0).max(255).optional(),
  site: Identifier.optional(),
  pollIntervalMs: Millis(10, 86_400_000).optional(),
  timeoutMs: Millis(10, 600_000).optional(),
  retries: z.int().min(0).max(10).optional(),
  /** Shift of the poll slots against the wall-clock multiples of the interval. */
  phaseMs: Millis(0, 86_400_000).default(0),
  breaker: BreakerSchema.optional(),
});

const common = {
  name: Identifier.optional(),
  /** Time allowed to open the socket or serial port. */
  connectTimeoutMs: Millis(10, 600_000).default(3000),
  devices: z.array(DeviceSchema).min(1, 'a connection needs at least one device'),
};

const TcpSchema = z.strictObject({
  transport: z.literal('tcp'),
  host: z.string().min(1),
  port: Port.default(502),
  ...common,
});

const RtuOverTcpSchema = z.strictObject({
  transport: z.literal('rtu-over-tcp'),
  host: z.string().min(1),
  port: Port,
  ...common,
});

const RtuSchema = z.strictObject({
  transport: z.literal('rtu'),
  /** Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/… (stable across reboots). */
  path: z.string().min(1),
  baudRate: z.int().min(300).max(4_000_000).default(9600),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  ...common,
});

const ConnectionSchema = z.discriminatedUnion('transport', [TcpSchema, RtuOverTcpSchema, RtuSchema]);

export const CollectorConfigSchema = z
  .strictObject({
    /** Default site for every device whose entry does not set one (else the profile's site). */
    site: Identifier.optional(),
    connections: z.array(ConnectionSchema).min(1, 'list at least one connection'),
  })
  .superRefine((cfg, ctx) => {
    const names = new Map<string, string>();
    cfg.connections.forEach((c, i) => {
      const name = c.name ?? (c.transport === 'rtu' ? c.path : `${c.host}:${c.port}`);
      const other = names.get(name);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i],
          message: `${name} is also ${other}: two connections to one line would interleave frames on it`,
        });
      else names.set(name, `connections[${i}]`);
    });
  });

export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;
export type ConnectionConfig = CollectorConfig['connections'][number];
export type DeviceConfig = ConnectionConfig['devices'][number];

export class CollectorConfigError extends Error {
  override readonly name = 'CollectorConfigError';
}

/** Reads and validates the collector config; profile paths come back absolute. */
export function loadCollectorConfig(path: string): CollectorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CollectorConfigError(`cannot read collector config ${path}: ${(error as Error).message}`);
  }
  return parseCollectorConfig(text, path);
}

export function parseCollectorConfig(text: string, source: string): CollectorConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON: one parser for both
  } catch (error) {
    throw new CollectorConfigError(`${source}: not YAML/JSON: ${(error as Error).message}`);
  }
  const result = CollectorConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CollectorConfigError(`invalid collector config ${source}:\n${lines.join('\n')}`);
  }
  const base = dirname(resolve(source));
  for (const connection of result.data.connections) {
    for (const device of connection.devices) device.profile = resolve(base, device.profile);
  }
  return result.data;
}
