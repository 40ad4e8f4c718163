import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFloat32, runModbusCommand } from './modbus-command.js';

/**
 * The probe against a real Modbus TCP server (modbus-serial's ServerTCP, in this process, on a free
 * port) and against real sockets that refuse or stay silent. No client is mocked.
 */

const { ServerTCP } = modbusSerial;

/** Register images served by the test server: address -> word. Anything else is "illegal data address". */
const HOLDING: Record<number, number> = {
  100: 0x4049,
  101: 0x0fdb,
  102: 0xff9c,
  103: 40000,
  104: 0x1000,
  105: 0x4400,
};
const INPUT: Record<number, number> = { 0: 0x0357, 1: 998, 2: 40000, 3: 0xff9c };
const COILS: Record<number, boolean> = { 0: true, 1: false, 2: true };

function illegalAddress(): never {
  throw { modbusErrorCode: 0x02, msg: 'Illegal data address' };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function capture() {
  let text = '';
  return {
    out: {
      write(s: string) {
        text += s;
      },
    },
    text: () => text,
  };
}

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const c = capture();
  const code = await runModbusCommand(args, c.out);
  return { code, text: c.text() };
}

/** The printed row for `address` (first line of its block). */
function rowOf(text: string, address: number): string {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(`${address} `));
  if (!line) throw new Error(`no row for ${address} in:\n${text}`);
  return line;
}

/** The line of the block for `address` that decodes its pair in `order`. */
function orderRow(text: string, address: number, order: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith(`${address} `));
  const line = lines.slice(start, start + 4).find((l) => new RegExp(`\\s${order}\\s`).test(l));
  if (!line) throw new Error(`no ${order} row for ${address} in:\n${text}`);
  return line;
}

const cells = (line: string) => line.trim().split(/\s+/);

/** int32, uint32, float32 of four big-endian bytes (hex), as the probe prints them. */
function expectedPair(hex: string): string[] {
  const b = Buffer.from(hex, 'hex');
  return [String(b.readInt32BE()), String(b.readUInt32BE()), formatFloat32(b.readFloatBE())];
}

let server: InstanceType<typeof ServerTCP>;
let port: number;
let silent: Server;
let silentPort: number;
const silentSockets = new Set<Socket>();

beforeAll(async () => {
  port = await freePort();
  server = new ServerTCP(
    {
      getHoldingRegister: (addr: number) => HOLDING[addr] ?? illegalAddress(),
      getInputRegister: (addr: number) => INPUT[addr] ?? illegalAddress(),
      getCoil: (addr: number) => COILS[addr] ?? illegalAddress(),
    },
    { host: '127.0.0.1', port, unitID: 1 },
  );
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  // Accepts connections and never answers: the shape of a wrong unit id behind a gateway, or a hung device.
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('gridstream modbus probe', () => {
  it('prints every decoding of holding registers side by side', async () => {
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--unit',
      '1',
      '--address',
      '100',
      '--count',
      '6',
    ]);
    expect(code).toBe(0);
    expect(text).toContain(`127.0.0.1:${port} unit 1, holding registers 100..105 (6)`);
    // address, hex, uint16, int16, order, int32, uint32, float32
    expect(cells(rowOf(text, 100))).toEqual([
      '100',
      '0x4049',
      '16457',
      '16457',
      'ABCD',
      '1078530011',
      '1078530011',
      '3.1415927',
    ]);
    expect(cells(rowOf(text, 102)).slice(0, 4)).toEqual(['102', '0xFF9C', '65436', '-100']);
    expect(cells(rowOf(text, 103)).slice(0, 4)).toEqual(['103', '0x9C40', '40000', '-25536']);
    // 104-105 = 0x1000 0x4400: 512.25 read low word first.
    expect(cells(orderRow(text, 104, 'CDAB'))).toEqual(['CDAB', '1140854784', '1140854784', '512.25']);
    expect(cells(orderRow(text, 104, 'ABCD')).slice(5)).toEqual(expectedPair('10004400'));
    // The last register has no pair in the read.
    expect(cells(rowOf(text, 105))).toEqual(['105', '0x4400', '17408', '17408']);
  });

  it('--json: the registers and every decoding as one JSON document; errors on stderr only', async () => {
    const c = capture();
    const e = capture();
    const args = ['--host', '127.0.0.1', '--port', String(port), '--unit', '1', '--address', '100'];
    const code = await runModbusCommand(['probe', ...args, '--count', '6', '--json'], c.out, e.out);
    expect(e.text()).toBe('');
    expect(code).toBe(0);
    expect(c.text().split('\n')).toHaveLength(2); // one document, one line
    const json = JSON.parse(c.text());
    expect(json).toMatchObject({
      host: '127.0.0.1',
      port,
      unit: 1,
      function: 'holding',
      address: 100,
      count: 6,
      profile: null,
    });
    expect(typeof json.ms).toBe('number');
    expect(json.registers.map((r: { address: number }) => r.address)).toEqual([100, 101, 102, 103, 104, 105]);
    const asJson = (hex: string) => {
      const [int32, uint32, float32] = expectedPair(hex);
      return { int32: Number(int32), uint32: Number(uint32), float32: Number(float32) };
    };
    // The values the table test checks.
    expect(json.registers[0]).toEqual({
      address: 100,
      value: 0x4049,
      hex: '0x4049',
      uint16: 16457,
      int16: 16457,
      pair: {
        ABCD: { int32: 1078530011, uint32: 1078530011, float32: Number('3.1415927') },
        CDAB: asJson('0fdb4049'),
        BADC: asJson('4940db0f'),
        DCBA: asJson('db0f4940'),
      },
      points: [],
      within: [],
    });
    expect(json.registers[2]).toMatchObject({ hex: '0xFF9C', uint16: 65436, int16: -100 });
    expect(json.registers[3]).toMatchObject({ hex: '0x9C40', uint16: 40000, int16: -25536 });
    expect(json.registers[4].pair.CDAB).toEqual({ int32: 1140854784, uint32: 1140854784, float32: 512.25 });
    expect(json.registers[4].pair.ABCD).toEqual(asJson('10004400'));
    expect(json.registers[5]).toEqual({
      address: 105,
      value: 0x4400,
      hex: '0x4400',
      uint16: 17408,
      int16: 17408,
      pair: null,
      points: [],
      within: [],
    });

    // A failure prints nothing on stdout: the message goes to stderr, the exit code is the table's.
    const closed = await freePort();
    const refusedOut = capture();
    const refusedErr = capture();
    const refusedArgs = ['--host', '127.0.0.1', '--port', String(closed), '--unit', '1', '--address', '0'];
    expect(
      await runModbusCommand(
        ['probe', ...refusedArgs, '--count', '1', '--json'],
        refusedOut.out,
        refusedErr.out,
      ),
    ).toBe(1);
    expect(refusedOut.text()).toBe('');
    expect(refusedErr.text()).toContain(`cannot connect to 127.0.0.1:${closed}: connection refused`);
  });

  it('decodes the pair in all four orders', async () => {
    const { text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--unit',
      '1',
      '--address',
      '0x64',
      '--count',
      '2',
    ]);
    expect(cells(orderRow(text, 100, 'ABCD')).slice(-1)).toEqual(['3.1415927']);
    // Expected values from node's Buffer reading the bytes each order implies, independent of the decoder.
    expect(cells(orderRow(text, 100, 'CDAB'))).toEqual(['CDAB', ...expectedPair('0fdb4049')]);
    expect(cells(orderRow(text, 100, 'BADC'))).toEqual(['BADC', ...expectedPair('4940db0f')]);
    expect(cells(orderRow(text, 100, 'DCBA'))).toEqual(['DCBA', ...expectedPair('db0f4940')]);
    expect(expectedPair('db0f4940')).toEqual(['-619755200', '3675212096', '-4.033146e+16']);
  });

  it('shows the profile point, scale, unit, range and value for each address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-probe-'));
    const profile = join(dir, 'bank.yaml');
    writeFileSync(
      profile,
      `name: bank
site: s
unitId: 1
equipment: battery
device: bank
points:
  - { name: soc, function: input, address: 0, type: uint16, scale: 0.1, unit: '%', range: { min: 0, max: 100 } }
  - { name: soh, function: input, address: 1, type: uint16, scale: 0.1, unit: '%', range: { min: 0, max: 100 } }
  - { name: voltage, function: input, address: 2, type: uint16, scale: 0.1, unit: V, range: { min: 0, max: 1000 } }
  - { name: current, function: input, address: 3, type: int16, scale: 0.1, unit: A }
`,
    );
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--function',
      'input',
      '--address',
      '0',
      '--count',
      '4',
      '--profile',
      profile,
    ]);
    expect(code).toBe(0);
    expect(text).toContain('unit 1, input registers 0..3 (4)'); // unit from the profile
    expect(rowOf(text, 0)).toContain('soc [battery/bank] uint16 ×0.1 % range 0..100 = 85.5 %');
    expect(rowOf(text, 1)).toContain('soh [battery/bank] uint16 ×0.1 % range 0..100 = 99.8 %');
    expect(rowOf(text, 2)).toContain(
      'voltage [battery/bank] uint16 ×0.1 V range 0..1000 = 4000 V OUT OF RANGE',
    );
    expect(rowOf(text, 3)).toContain('current [battery/bank] int16 ×0.1 A = -10 A');
  });

  it('reads coils', async () => {
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--unit',
      '1',
      '--function',
      'coil',
      '--address',
      '0',
      '--count',
      '3',
    ]);
    expect(code).toBe(0);
    expect(cells(rowOf(text, 0))).toEqual(['0', '1']);
    expect(cells(rowOf(text, 1))).toEqual(['1', '0']);
    expect(cells(rowOf(text, 2))).toEqual(['2', '1']);
  });

  it('explains a Modbus exception and exits non-zero', async () => {
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--unit',
      '1',
      '--address',
      '200',
      '--count',
      '2',
    ]);
    expect(code).toBe(1);
    expect(text).toContain(
      'holding registers 200 (2): the device answered with Modbus exception 2: illegal data address',
    );
  });

  it('reports a refused connection and exits non-zero', async () => {
    const closed = await freePort();
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(closed),
      '--unit',
      '1',
      '--address',
      '0',
      '--count',
      '1',
    ]);
    expect(code).toBe(1);
    expect(text).toContain(`cannot connect to 127.0.0.1:${closed}: connection refused`);
  });

  it('reports a device that never answers as a timeout', async () => {
    const started = Date.now();
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--port',
      String(silentPort),
      '--unit',
      '1',
      '--address',
      '0',
      '--count',
      '1',
      '--timeout',
      '300',
    ]);
    expect(code).toBe(1);
    expect(text).toContain('the read failed: no answer in time');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses bad arguments with the usage and exit code 2', async () => {
    for (const args of [
      ['probe', '--unit', '1', '--address', '0', '--count', '1'],
      ['probe', '--host', 'h', '--unit', '1', '--address', '0', '--count', '126'],
      ['probe', '--host', 'h', '--unit', '1', '--address', '0', '--count', '1', '--function', 'register'],
      ['probe', '--host', 'h', '--address', '0', '--count', '1'],
      ['probe', '--host', 'h', '--unit', '1', '--address', '65535', '--count', '2'],
      ['probe', '--host', 'h', '--bogus'],
      ['scan'],
    ]) {
      const { code, text } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(text).toContain('gridstream modbus probe --host H');
    }
    expect((await run(['probe', '--help'])).code).toBe(0);
  });

  it('stops on a broken profile, naming the file and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-probe-'));
    const profile = join(dir, 'broken.yaml');
    writeFileSync(
      profile,
      'name: x\nsite: s\nunitId: 1\npoints:\n  - { name: a, function: input, address: 0, type: int16, bit: 3 }\n',
    );
    const { code, text } = await run([
      'probe',
      '--host',
      '127.0.0.1',
      '--address',
      '0',
      '--count',
      '1',
      '--profile',
      profile,
    ]);
    expect(code).toBe(2);
    expect(text).toContain(
      `${profile}:5: points[0] (a, input 0): bit: bit only applies to type bit, not int16`,
    );
  });
});

describe('formatFloat32', () => {
  it('prints the shortest text that reads back as the same float32', () => {
    expect(formatFloat32(Math.fround(Math.PI))).toBe('3.1415927');
    expect(formatFloat32(512.25)).toBe('512.25');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Number.NaN)).toBe('NaN');
    expect(formatFloat32(Math.fround(1.5e10))).toBe('1.5e+10');
    expect(formatFloat32(0)).toBe('0');
  });
});
