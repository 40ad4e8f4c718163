import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Protocol peers for the Modbus tests: pymodbus (Debian python3-pymodbus, installed by
 * deploy/local/pymodbus.sh) as a TCP or RTU slave, and socat for a pty pair standing in for an RS485 line.
 */
export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const DEBIAN_PYTHON = process.env.PYMODBUS_PYTHON ?? '/usr/bin/python3';
const PEER_SCRIPT = join(REPO_ROOT, 'test/peers/pymodbus_server.py');

export interface PymodbusUnit {
  input?: Record<number, number>;
  holding?: Record<number, number>;
  coils?: Record<number, 0 | 1>;
  discrete?: Record<number, 0 | 1>;
}

export interface PymodbusSpec {
  /** framer 'rtu': RTU frames (with CRC) over TCP, like a serial-to-Ethernet gateway in transparent mode. */
  tcp?: { host?: string; port?: number; framer?: 'socket' | 'rtu' };
  serial?: {
    port: string;
    baudrate?: number;
    parity?: 'N' | 'E' | 'O';
    bytesize?: number;
    stopbits?: number;
  };
  units: Record<number, PymodbusUnit>;
}

export interface RunningPeer {
  /** TCP port (tcp mode). */
  port: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** A scratch folder removed by `cleanup`. */
export function scratchDir(prefix: string): {
  dir: string;
  write: (name: string, text: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

/** Starts test/peers/pymodbus_server.py and resolves once it prints LISTENING. */
export async function startPymodbus(spec: PymodbusSpec, dir: string): Promise<RunningPeer> {
  const specPath = join(dir, `pymodbus-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(specPath, JSON.stringify(spec));
  const child = spawn(DEBIAN_PYTHON, [PEER_SCRIPT, specPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pymodbus did not start within 20 s: ${stderr}`)),
      20_000,
    );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = /^LISTENING (tcp|serial) (\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolveReady(m[1] === 'tcp' ? Number(m[2]) : 0);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `pymodbus exited (${code}) before listening; run deploy/local/pymodbus.sh install if it is missing: ${stderr}`,
        ),
      );
    });
  });
  return { port, stderr: () => stderr, stop: () => stopChild(child) };
}

/**
 * `socat` linking two pseudo-terminals: what one end writes the other reads, like two transceivers on a
 * serial line. Resolves with both paths once they exist.
 */
export async function startPtyPair(
  dir: string,
): Promise<{ a: string; b: string; stop: () => Promise<void> }> {
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not link two ptys: ${stderr}`)), 10_000);
    const check = () => {
      if (/starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited (${code}): ${stderr}`));
    });
  });
  return { a, b, stop: () => stopChild(child) };
}
