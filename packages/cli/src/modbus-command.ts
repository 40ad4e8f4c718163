import { parseArgs } from 'node:util';
import {
  type DeviceProfile,
  decodePoint,
  decodePointBit,
  decodeRegisters,
  describeModbusError,
  loadProfile,
  MAX_BITS_PER_READ,
  MAX_REGISTERS_PER_READ,
  type ModbusFunction,
  type PointRange,
  type PointReading,
  type PointType,
  type ProfilePoint,
  REGISTER_ORDERS,
  type RegisterOrder,
} from '@gridstream/modbus';
import modbusSerial from 'modbus-serial';

// modbus-serial is CommonJS: its module object is the client class, which TypeScript sees as `.default`.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

const USAGE = `gridstream modbus probe --host H [--port 502] --unit U --address A --count N
                         [--function holding|input|coil|discrete] [--profile file.yaml] [--timeout ms] [--json]

  Reads N registers (or bits) from A and prints each raw word with every decoding side by side:
  uint16/int16, and int32/uint32/float32 of the pair starting there in all four word orders
  (ABCD, CDAB, BADC, DCBA). With --profile, each address also shows the profile's point, its
  scale, unit, range and decoded value, so a new device's map can be checked before it is collected.

  Addresses are 0-based protocol addresses (holding register "40001" is --address 0); 0x… is accepted.
  --unit defaults to the profile's unitId when --profile is given. --function defaults to holding.

  --json prints one JSON document instead of the table (errors go to stderr; same exit codes):
    {"host", "port", "unit", "function", "address", "count", "ms", "profile": file|null,
     "registers": [{"address", "value" (the raw word), "hex", "uint16", "int16",
                    "pair": null | {"ABCD"|"CDAB"|"BADC"|"DCBA": {"int32", "uint32", "float32"}},
                    "points": [...], "within": [{"point", "word"}]}]}
    or, for coils and discrete inputs, "bits": [{"address", "value": true|false, "points": [...]}].
    "pair" decodes the register and the next one (null for the last). A point is the profile's point
    starting at that address: {"name", "equipment", "device", "rack"?, "type", "bit"?, "order", "words",
    "scale", "offset", "unit"?, "range"?, "reading": null | {"value"?, "bad", "reason"?, "outOfRange"}}
    (reading null when not all of its registers were read); "within" names the points covering it.
    A float32 that is NaN or ±Infinity is the string "NaN", "Infinity" or "-Infinity".`;

const FUNCTIONS: Record<string, ModbusFunction> = {
  holding: 'holding',
  input: 'input',
  coil: 'coil',
  coils: 'coil',
  discrete: 'discrete_input',
  discrete_input: 'discrete_input',
};

export interface ProbeOptions {
  host: string;
  port: number;
  unit: number;
  address: number;
  count: number;
  fn: ModbusFunction;
  timeoutMs: number;
  profile?: DeviceProfile;
  profilePath?: string;
  /** Print the JSON document of `probeToJson` instead of the table. */
  json?: boolean;
}

/** A mistake on the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

function integer(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer ${min}..${max}, not "${text}"`);
  }
  return value;
}

async function parseProbeArgs(argv: string[]): Promise<ProbeOptions> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string', default: '502' },
        unit: { type: 'string' },
        address: { type: 'string' },
        count: { type: 'string' },
        function: { type: 'string', default: 'holding' },
        profile: { type: 'string' },
        timeout: { type: 'string', default: '2000' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const host = values.host;
  if (typeof host !== 'string' || host === '') throw new UsageError('--host is required');
  const fnName = String(values.function);
  const fn = FUNCTIONS[fnName];
  if (fn === undefined)
    throw new UsageError(`--function must be holding, input, coil or discrete, not "${fnName}"`);
  const bits = fn === 'coil' || fn === 'discrete_input';
  const options: ProbeOptions = {
    host,
    port: integer('port', values.port as string, 1, 65535),
    unit: 0,
    address: integer('address', values.address as string | undefined, 0, 65535),
    count: integer(
      'count',
      values.count as string | undefined,
      1,
      bits ? MAX_BITS_PER_READ : MAX_REGISTERS_PER_READ,
    ),
    fn,
    timeoutMs: integer('timeout', values.timeout as string, 1, 600_000),
    json: values.json === true,
  };
  if (options.address + options.count > 65536)
    throw new UsageError('--address + --count runs past address 65535');
  if (typeof values.profile === 'string') {
    options.profilePath = values.profile;
    // A broken profile is reported with every problem (ProfileError) and stops the probe: guessing would
    // show point names next to the wrong registers.
    options.profile = (await loadProfile(values.profile)).profile;
  }
  options.unit =
    values.unit === undefined && options.profile
      ? options.profile.unitId
      : integer('unit', values.unit as string | undefined, 0, 255);
  return options;
}

/**
 * `gridstream modbus …`; `argv` starts after `modbus`. Returns the exit code; never throws. With --json,
 * `out` gets the JSON document alone and every message goes to `err`.
 */
export async function runModbusCommand(
  argv: string[],
  out: { write(s: string): void },
  err: { write(s: string): void } = process.stderr,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    out.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'probe') {
    out.write(`gridstream modbus: unknown command "${sub}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const messages = rest.includes('--json') ? err : out;
  let options: ProbeOptions;
  try {
    options = await parseProbeArgs(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      messages.write(`gridstream modbus probe: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    messages.write(`gridstream modbus probe: ${(error as Error).message}\n`);
    return 2;
  }
  return probe(options, out, messages);
}

async function probe(
  options: ProbeOptions,
  out: { write(s: string): void },
  messages: { write(s: string): void },
): Promise<number> {
  const where = `${options.host}:${options.port}`;
  const client = new ModbusRTU();
  try {
    try {
      await connectWithin(client, options);
    } catch (error) {
      messages.write(
        `gridstream modbus probe: cannot connect to ${where}: ${describeModbusError(error).message}\n`,
      );
      return 1;
    }
    client.setID(options.unit);
    client.setTimeout(options.timeoutMs);
    const started = performance.now();
    let data: number[] | boolean[];
    try {
      data = await read(client, options);
    } catch (error) {
      const info = describeModbusError(error);
      const what = info.kind === 'exception' ? 'the device answered with' : 'the read failed:';
      messages.write(
        `gridstream modbus probe: ${where} unit ${options.unit}, ${functionLabel(options.fn)} ${options.address} (${options.count}): ${what} ${info.message}\n`,
      );
      return 1;
    }
    const ms = Math.round(performance.now() - started);
    out.write(
      options.json ? `${JSON.stringify(probeToJson(options, data, ms))}\n` : formatProbe(options, data, ms),
    );
    return 0;
  } finally {
    await closeQuietly(client);
  }
}

/** connectTCP with a deadline of its own: a host that drops SYNs would otherwise hang for the OS's minutes. */
async function connectWithin(client: ModbusClient, options: ProbeOptions): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`no TCP connection within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      options.timeoutMs,
    );
  });
  try {
    await Promise.race([client.connectTCP(options.host, { port: options.port }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(client: ModbusClient, options: ProbeOptions): Promise<number[] | boolean[]> {
  const { address, count } = options;
  switch (options.fn) {
    case 'holding':
      return (await client.readHoldingRegisters(address, count)).data;
    case 'input':
      return (await client.readInputRegisters(address, count)).data;
    case 'coil':
      return (await client.readCoils(address, count)).data.slice(0, count);
    case 'discrete_input':
      return (await client.readDiscreteInputs(address, count)).data.slice(0, count);
  }
}

async function closeQuietly(client: ModbusClient): Promise<void> {
  if (!client.isOpen) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    client.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function functionLabel(fn: ModbusFunction): string {
  return {
    holding: 'holding registers',
    input: 'input registers',
    coil: 'coils',
    discrete_input: 'discrete inputs',
  }[fn];
}

/** Shortest text that reads back as the same float32 (π prints as 3.1415927, not 3.1415927410125732). */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    const shortest = Number(text);
    if (Math.fround(shortest) === value) {
      const magnitude = Math.abs(shortest);
      // 17-digit integers of zeros hide the magnitude; exponent form keeps the column readable.
      return magnitude !== 0 && (magnitude >= 1e9 || magnitude < 1e-6)
        ? shortest.toExponential()
        : String(shortest);
    }
  }
  return String(value);
}

function rangeHint(point: ProfilePoint): string {
  if (!point.range) return '';
  const { min, max } = point.range;
  return ` range ${min ?? '-∞'}..${max ?? '∞'}`;
}

function describePoint(point: ProfilePoint): string {
  const scale =
    point.scale === 1 && point.offset === 0
      ? ''
      : ` ×${point.scale}${point.offset ? ` ${point.offset >= 0 ? '+' : ''}${point.offset}` : ''}`;
  const order = point.words > 1 && point.type !== 'string' ? ` ${point.order}` : '';
  const bit = point.type === 'bit' ? ` bit ${point.bit}` : '';
  const record = `${point.equipment}/${point.device}${point.rack ? `/rack ${point.rack}` : ''}`;
  return `${point.name} [${record}] ${point.type}${bit}${order}${scale}${point.unit ? ` ${point.unit}` : ''}${rangeHint(point)}`;
}

/** The profile column for one address: the point starting there (with its decoded value) or the one covering it. */
function profileNote(options: ProbeOptions, address: number, words: number[] | undefined): string {
  const points = options.profile?.points.filter((p) => p.function === options.fn) ?? [];
  const notes: string[] = [];
  for (const p of points) {
    if (p.address === address) {
      let note = describePoint(p);
      if (words && p.type !== 'bool') {
        const start = address - options.address;
        if (start + p.words <= words.length) {
          const reading = decodePoint(p, words, start);
          if (reading.bad) note += ` = bad (${reading.reason})`;
          else {
            const value =
              typeof reading.value === 'string' ? JSON.stringify(reading.value) : String(reading.value);
            note += ` = ${value}${p.unit && typeof reading.value === 'number' ? ` ${p.unit}` : ''}`;
            if (reading.outOfRange) note += ' OUT OF RANGE';
          }
        } else note += ' (not all of its registers were read)';
      }
      notes.push(note);
    } else if (p.type !== 'bit' && p.address < address && address < p.address + p.words) {
      notes.push(`(word ${address - p.address + 1} of ${p.name})`);
    }
  }
  return notes.join('; ');
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          if (i === row.length - 1) return cell;
          return rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The printed result of a successful read (pure; tested without a device). */
export function formatProbe(options: ProbeOptions, data: number[] | boolean[], ms: number): string {
  const head =
    `${options.host}:${options.port} unit ${options.unit}, ${functionLabel(options.fn)} ` +
    `${options.address}..${options.address + options.count - 1} (${options.count}), answered in ${ms} ms` +
    (options.profilePath ? `, profile ${options.profilePath}` : '');
  if (options.fn === 'coil' || options.fn === 'discrete_input') {
    const rows = [['address', 'value', 'profile']];
    (data as boolean[]).forEach((bit, i) => {
      rows.push([
        String(options.address + i),
        bit ? '1' : '0',
        profileNote(options, options.address + i, undefined),
      ]);
    });
    return `${head}\n\n${table(rows, new Set([0, 1]))}\n`;
  }
  const words = (data as number[]).map((w) => w & 0xffff);
  const rows = [['address', 'hex', 'uint16', 'int16', 'order', 'int32', 'uint32', 'float32', 'profile']];
  words.forEach((word, i) => {
    const address = options.address + i;
    const first = [
      String(address),
      `0x${word.toString(16).toUpperCase().padStart(4, '0')}`,
      String(decodeRegisters(words, 'uint16', 'ABCD', {}, i)),
      String(decodeRegisters(words, 'int16', 'ABCD', {}, i)),
    ];
    const note = profileNote(options, address, words);
    if (i + 1 >= words.length) {
      rows.push([...first, '', '', '', '', note]);
      return;
    }
    const pairPoint = options.profile?.points.find(
      (p) => p.function === options.fn && p.address === address && p.words === 2,
    );
    REGISTER_ORDERS.forEach((order, k) => {
      const lead = k === 0 ? first : ['', '', '', ''];
      const marker = pairPoint?.order === order ? `◀ ${pairPoint.name} reads ${pairPoint.type} ${order}` : '';
      rows.push([
        ...lead,
        order,
        String(decodeRegisters(words, 'int32', order, {}, i)),
        String(decodeRegisters(words, 'uint32', order, {}, i)),
        formatFloat32(decodeRegisters(words, 'float32', order, {}, i) as number),
        k === 0 ? [note, marker].filter(Boolean).join('  ') : marker,
      ]);
    });
  });
  const tail =
    "(32-bit columns decode the register and the next one; read one more register for the last row's pair)";
  return `${head}\n\n${table(rows, new Set([0, 2, 3, 5, 6, 7]))}\n${tail}\n`;
}

/** A float32 for JSON: the shortest number that reads back as it; NaN and ±Infinity as strings. */
function float32Json(value: number): number | string {
  return Number.isFinite(value) ? Number(formatFloat32(value)) : String(value);
}

/** A profile point of `probe --json`, with what the read gives for it. */
export interface ProbePointJson {
  name: string;
  equipment: string;
  device: string;
  rack?: string;
  type: PointType;
  bit?: number;
  order: RegisterOrder;
  words: number;
  scale: number;
  offset: number;
  unit?: string;
  range?: PointRange;
  /** null when the read does not hold all of the point's registers (or a bool point sits on registers). */
  reading: { value?: number | string | boolean; bad: boolean; reason?: string; outOfRange: boolean } | null;
}

export type PairJson = Record<RegisterOrder, { int32: number; uint32: number; float32: number | string }>;

export interface ProbeJson {
  host: string;
  port: number;
  unit: number;
  function: ModbusFunction;
  address: number;
  count: number;
  /** How long the read took. */
  ms: number;
  profile: string | null;
  registers?: {
    address: number;
    /** The raw word, 0..65535. */
    value: number;
    hex: string;
    uint16: number;
    int16: number;
    /** This register and the next one as 32 bits, in every word order; null for the last one read. */
    pair: PairJson | null;
    points: ProbePointJson[];
    /** Points that cover this register without starting at it: which of their words it is (1-based). */
    within: { point: string; word: number }[];
  }[];
  bits?: { address: number; value: boolean; points: ProbePointJson[] }[];
}

function pointJson(point: ProfilePoint, reading: PointReading | null): ProbePointJson {
  const json: ProbePointJson = {
    name: point.name,
    equipment: point.equipment,
    device: point.device,
    ...(point.rack === undefined ? {} : { rack: point.rack }),
    type: point.type,
    ...(point.bit === undefined ? {} : { bit: point.bit }),
    order: point.order,
    words: point.words,
    scale: point.scale,
    offset: point.offset,
    ...(point.unit === undefined ? {} : { unit: point.unit }),
    ...(point.range === undefined ? {} : { range: point.range }),
    reading: null,
  };
  if (reading) {
    json.reading = {
      ...(reading.value === undefined ? {} : { value: reading.value }),
      bad: reading.bad,
      ...(reading.reason === undefined ? {} : { reason: reading.reason }),
      outOfRange: reading.outOfRange,
    };
  }
  return json;
}

/** The result of a successful read as `--json` prints it (pure; the same decodings as `formatProbe`). */
export function probeToJson(options: ProbeOptions, data: number[] | boolean[], ms: number): ProbeJson {
  const head = {
    host: options.host,
    port: options.port,
    unit: options.unit,
    function: options.fn,
    address: options.address,
    count: options.count,
    ms,
    profile: options.profilePath ?? null,
  };
  const points = options.profile?.points.filter((p) => p.function === options.fn) ?? [];
  if (options.fn === 'coil' || options.fn === 'discrete_input') {
    return {
      ...head,
      bits: (data as boolean[]).map((bit, i) => {
        const address = options.address + i;
        return {
          address,
          value: Boolean(bit),
          points: points
            .filter((p) => p.address === address)
            .map((p) => pointJson(p, p.type === 'bool' ? decodePointBit(p, bit) : null)),
        };
      }),
    };
  }
  const words = (data as number[]).map((w) => w & 0xffff);
  return {
    ...head,
    registers: words.map((word, i) => {
      const address = options.address + i;
      let pair: PairJson | null = null;
      if (i + 1 < words.length) {
        const orders: Partial<PairJson> = {};
        for (const order of REGISTER_ORDERS) {
          orders[order] = {
            int32: decodeRegisters(words, 'int32', order, {}, i) as number,
            uint32: decodeRegisters(words, 'uint32', order, {}, i) as number,
            float32: float32Json(decodeRegisters(words, 'float32', order, {}, i) as number),
          };
        }
        pair = orders as PairJson;
      }
      return {
        address,
        value: word,
        hex: `0x${word.toString(16).toUpperCase().padStart(4, '0')}`,
        uint16: decodeRegisters(words, 'uint16', 'ABCD', {}, i) as number,
        int16: decodeRegisters(words, 'int16', 'ABCD', {}, i) as number,
        pair,
        points: points
          .filter((p) => p.address === address)
          .map((p) =>
            pointJson(p, p.type !== 'bool' && i + p.words <= words.length ? decodePoint(p, words, i) : null),
          ),
        within: points
          .filter((p) => p.type !== 'bit' && p.address < address && address < p.address + p.words)
          .map((p) => ({ point: p.name, word: address - p.address + 1 })),
      };
    }),
  };
}
