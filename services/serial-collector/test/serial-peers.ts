import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

/**
 * The serial collector's peers: socat linking two pseudo-terminals (what one end writes the other reads,
 * like two transceivers on an RS485 line; killing socat is the USB adapter unplugged) and a Python meter
 * (pyserial, Debian python3-serial: deploy/local/pymodbus.sh installs it with socat) writing lines on the
 * other end at 9600 baud.
 */
const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PYTHON = process.env.PYMODBUS_PYTHON ?? '/usr/bin/python3';

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill(signal);
  });
}

/** `socat pty,raw,echo=0,link=<dir>/<name>-a pty,raw,echo=0,link=<dir>/<name>-b`, restartable on the same links. */
export class PtyPair {
  readonly a: string;
  readonly b: string;
  private child: ChildProcess | undefined;

  private constructor(dir: string, name: string) {
    this.a = join(dir, `${name}-a`);
    this.b = join(dir, `${name}-b`);
  }

  static async start(dir: string, name: string): Promise<PtyPair> {
    const pair = new PtyPair(dir, name);
    await pair.restart();
    return pair;
  }

  /** Starts socat (again): the same link names, new pseudo-terminals behind them. */
  async restart(): Promise<void> {
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    let stderr = '';
    await new Promise<void>((ready, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not link two ptys: ${stderr}`)), 10_000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/starting data transfer loop/.test(stderr)) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `socat exited (${code}): ${stderr}; is socat installed (deploy/local/pymodbus.sh install)?`,
          ),
        );
      });
    });
  }

  /** SIGKILL: both pseudo-terminals vanish at once, as an unplugged adapter does. */
  async kill(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGKILL');
  }

  stop(): Promise<void> {
    return this.child ? stopChild(this.child) : Promise.resolve();
  }
}

/** test/peers/serial_meter.py: writes what it is told on its ports, answering each command when done. */
export class MeterPeer {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private stderr = '';
  private readonly lines: Interface;

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(line);
      else this.answers.push(line);
    });
  }

  static start(): MeterPeer {
    return new MeterPeer(
      spawn(PYTHON, [join(REPO_ROOT, 'test/peers/serial_meter.py')], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  }

  private command(cmd: Record<string, unknown>): Promise<string> {
    const answer = new Promise<string>((done, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serial peer did not answer ${JSON.stringify(cmd)}: ${this.stderr}`)),
        15_000,
      );
      const take = (line: string) => {
        clearTimeout(timer);
        done(line);
      };
      const queued = this.answers.shift();
      if (queued !== undefined) take(queued);
      else this.waiting = take;
    });
    this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    return answer;
  }

  private async expect(cmd: Record<string, unknown>, ok: RegExp): Promise<string> {
    const answer = await this.command(cmd);
    if (!ok.test(answer)) throw new Error(`serial peer: ${JSON.stringify(cmd)} → ${answer}; ${this.stderr}`);
    return answer;
  }

  async open(port: string, path: string, baud = 9600): Promise<void> {
    await this.expect({ cmd: 'open', port, path, baud }, /^OPEN$/);
  }

  async write(port: string, text: string): Promise<void> {
    await this.expect({ cmd: 'write', port, text }, /^WROTE \d+$/);
  }

  async writeBytes(port: string, bytes: Buffer): Promise<void> {
    await this.expect({ cmd: 'write', port, hex: bytes.toString('hex') }, /^WROTE \d+$/);
  }

  /** A write that may fail (the port vanished): the peer's answer. */
  tryWrite(port: string, text: string): Promise<string> {
    return this.command({ cmd: 'write', port, text });
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    await stopChild(this.child);
  }
}
