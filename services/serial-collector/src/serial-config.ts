import { issuePath, readConfigFile } from '@gridstream/config';
import { EquipmentName, FieldName, Identifier, isValidTimeZone } from '@gridstream/schema';
import { z } from 'zod';

/**
 * The serial collector's config file (YAML or JSON, docs/serial-collector.md): which ports, their line
 * settings, and how to read a line of each. Environment variables carry process settings; this file carries
 * the meters, which is too nested for variables.
 */

/** A column, group or key name of a line (`-` in a column list: a column that is not read). */
const ValueName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'must be a name: letters, digits, _ . -');

const Delimited = z
  .object({
    type: z.literal('delimited'),
    /** Between columns: `,` (default), `;`, `\t`, or a space (runs of spaces count as one). */
    separator: z.string().min(1).max(8).default(','),
    /** One name per column, in order; `-` for a column that is not read. The line must have exactly as many. */
    columns: z.array(z.union([ValueName, z.literal('-')])).min(1),
  })
  .strict();

const Pattern = z
  .object({
    type: z.literal('regex'),
    /** A JavaScript regular expression with named groups (`(?<flow>[0-9.]+)`), matched against the whole line. */
    pattern: z.string().min(1),
  })
  .strict();

const KeyValue = z
  .object({
    type: z.literal('keyvalue'),
    /** Between pairs: default any run of spaces, tabs, `,` or `;`. */
    pairSeparator: z.string().min(1).max(8).optional(),
    /** Between key and value (default `=`; `:` is common too). */
    separator: z.string().min(1).max(8).default('='),
  })
  .strict();

export const LineFormatSchema = z.discriminatedUnion('type', [Delimited, Pattern, KeyValue]);
export type LineFormat = z.infer<typeof LineFormatSchema>;

const Field = z
  .object({
    /** The column, group or key it is read from (default: the field's own name). */
    from: ValueName.optional(),
    /** value × scale + offset (engineering units from counts: `scale: 0.01`). */
    scale: z.number().finite().default(1),
    offset: z.number().finite().default(0),
    /** A missing or empty value leaves the field out of the sample instead of making the line bad. */
    optional: z.boolean().default(false),
  })
  .strict();

export const TIME_FORMATS = ['YYYY-MM-DD HH:mm:ss', 'epoch_s', 'epoch_ms'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const Time = z
  .object({
    /** The column, group or key holding the time. */
    from: ValueName,
    /**
     * `YYYY-MM-DD HH:mm:ss` (also with `T`, fractions, and `Z` or an offset, which then say the instant
     * themselves), `epoch_s`, `epoch_ms`.
     */
    format: z.enum(TIME_FORMATS).default('YYYY-MM-DD HH:mm:ss'),
    /** Zone of a time without offset (IANA name); default the file's `timeZone`. */
    timeZone: z.string().optional(),
  })
  .strict();

export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export const CHECKSUMS = ['none', 'nmea', 'sum8'] as const;

const Port = z
  .object({
    /** Names the port in metrics (`endpoint`), readiness (`serial:<name>`) and logs. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . -'),
    /** The device: `/dev/ttyUSB0`, `/dev/serial/by-id/…` (stable across replugs), a pty link. */
    path: z.string().min(1),
    baudRate: z.number().int().min(50).max(4_000_000).default(9600),
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(PARITIES).default('none'),
    stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
    /** Ends a line (default `\n`; a `\r` before it is dropped, so CRLF meters need nothing). `\r` for CR-only. */
    delimiter: z.string().min(1).max(4).default('\n'),
    /** A longer run of bytes without a delimiter is dead-lettered `oversized` (a meter talking at the wrong baud). */
    maxLineBytes: z
      .number()
      .int()
      .min(16)
      .max(1024 * 1024)
      .default(4096),
    /** Lines matching one of these regular expressions are skipped (banners, a CSV header printed at power-up). */
    ignore: z.array(z.string().min(1)).default([]),
    site: Identifier.optional(),
    equipment: EquipmentName,
    /** The device id, fixed (one meter on the port) … */
    device: Identifier.optional(),
    /** … or read from each line (several meters on one RS485 bus). */
    deviceFrom: ValueName.optional(),
    format: LineFormatSchema,
    /** `nmea`: `$…*hh`, XOR of the bytes between `$` and `*`; `sum8`: `…*hh`, sum of the bytes before `*` mod 256. */
    checksum: z.enum(CHECKSUMS).default('none'),
    fields: z.record(FieldName, Field).refine((f) => Object.keys(f).length > 0, 'name at least one field'),
    /** Where the timestamp comes from; default: the time the line was received. */
    time: Time.optional(),
    /** Reconnect backoff after the port vanished or could not be opened: from 250 ms doubling up to this. */
    reconnectMaxMs: z.number().int().min(100).max(600_000).default(5_000),
  })
  .strict();

export const SerialFileSchema = z
  .object({
    /** Default site of every port. */
    site: Identifier.optional(),
    /** Default zone of line times without offset (IANA name). */
    timeZone: z.string().default('UTC'),
    ports: z.array(Port).min(1),
  })
  .strict();

export type PortConfig = z.infer<typeof Port>;

/** A port with everything resolved: site, zone and compiled patterns. */
export interface ResolvedPort extends Omit<PortConfig, 'site' | 'ignore'> {
  site: string;
  timeZone: string;
  ignore: RegExp[];
}

export interface SerialFileConfig {
  path: string;
  ports: ResolvedPort[];
}

export function loadSerialConfigFile(path: string): { config?: SerialFileConfig; problems: string[] } {
  const file = readConfigFile(path);
  if (file.problems.length > 0) return { problems: file.problems };
  return parseSerialConfig(file.raw, path);
}

/** Checks a parsed file; every problem is named with its place in the file, all at once. */
export function parseSerialConfig(
  raw: unknown,
  path = '(inline)',
): { config?: SerialFileConfig; problems: string[] } {
  const parsed = SerialFileSchema.safeParse(raw);
  if (!parsed.success)
    return { problems: parsed.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`) };
  const file = parsed.data;
  const problems: string[] = [];
  if (!isValidTimeZone(file.timeZone)) problems.push(`timeZone: ${file.timeZone} is not a known time zone`);
  const names = new Set<string>();
  const paths = new Set<string>();
  const ports: ResolvedPort[] = [];
  file.ports.forEach((port, i) => {
    const at = `ports[${i}]`;
    if (names.has(port.name))
      problems.push(`${at}.name: "${port.name}" is used twice; give each port its own name`);
    names.add(port.name);
    if (paths.has(port.path))
      problems.push(`${at}.path: ${port.path} is read by another port already; a port can be opened once`);
    paths.add(port.path);
    const site = port.site ?? file.site;
    if (site === undefined) problems.push(`${at}.site: set site on the port or at the top of the file`);
    if ((port.device === undefined) === (port.deviceFrom === undefined))
      problems.push(`${at}: give exactly one of device (a fixed id) or deviceFrom (the value holding it)`);
    const timeZone = port.time?.timeZone ?? file.timeZone;
    if (port.time?.timeZone !== undefined && !isValidTimeZone(timeZone))
      problems.push(`${at}.time.timeZone: ${timeZone} is not a known time zone`);
    const ignore: RegExp[] = [];
    port.ignore.forEach((pattern, j) => {
      try {
        ignore.push(new RegExp(pattern));
      } catch (error) {
        problems.push(`${at}.ignore[${j}]: ${(error as Error).message}`);
      }
    });
    // The names a line gives; undefined: any (key=value lines name their own values).
    let given: Set<string> | undefined;
    if (port.format.type === 'delimited') {
      given = new Set(port.format.columns.filter((c) => c !== '-'));
      const seen = new Set<string>();
      for (const c of port.format.columns) {
        if (c !== '-' && seen.has(c)) problems.push(`${at}.format.columns: "${c}" is named twice`);
        seen.add(c);
      }
    } else if (port.format.type === 'regex') {
      try {
        const re = new RegExp(port.format.pattern);
        given = new Set(Object.keys(new RegExp(`${re.source}|`).exec('')?.groups ?? {}));
        if (given.size === 0)
          problems.push(`${at}.format.pattern: has no named group; name what it captures: (?<flow>[0-9.]+)`);
      } catch (error) {
        problems.push(`${at}.format.pattern: ${(error as Error).message}`);
      }
    }
    if (given) {
      const need = (name: string | undefined, where: string) => {
        if (name !== undefined && !given.has(name))
          problems.push(
            `${at}.${where}: "${name}" is not a ${port.format.type === 'regex' ? 'named group of the pattern' : 'column'}`,
          );
      };
      for (const [field, f] of Object.entries(port.fields)) need(f.from ?? field, `fields.${field}`);
      need(port.deviceFrom, 'deviceFrom');
      need(port.time?.from, 'time.from');
    }
    const { site: _site, ignore: _ignore, ...rest } = port;
    ports.push({ ...rest, site: site ?? '', timeZone, ignore });
  });
  return problems.length > 0 ? { problems } : { config: { path, ports }, problems };
}
