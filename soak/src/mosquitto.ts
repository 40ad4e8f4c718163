import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep } from '@gridstream/testkit';

/** Debian's broker (deploy/local/mosquitto.sh install, part of make infra-test). */
const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/**
 * The soak's MQTT broker: Mosquitto on its own port and folder, persistence on, so a restart keeps the
 * collector's session and the QoS 1 messages queued for it (saved on SIGTERM and every second). Restarted
 * with SIGTERM, never killed: Mosquitto's persistence is a periodic snapshot, so a `kill -9` loses what it
 * acknowledged since the last one, which no client can help (docs/mqtt-collector.md, "Broker settings").
 * Its environment carries the soak's marker, so a later soak kills one a crashed soak left running.
 */
export class SoakMosquitto {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get logPath(): string {
    return join(this.dir, 'mosquitto.log');
  }

  /** A fresh broker: its folder (persistence, log) wiped first. */
  async up(): Promise<void> {
    if (!existsSync(MOSQUITTO_BIN))
      throw new Error(`${MOSQUITTO_BIN} not found: run deploy/local/mosquitto.sh install (make infra-test)`);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const lines = [
      // As root (CI) mosquitto would switch to the `mosquitto` user, which may not write this folder.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${join(this.dir, 'data')}/`,
      'autosave_interval 1',
      // Mosquitto's default, 1000 queued messages per session, would drop messages while a collector is away.
      'max_queued_messages 1000000',
      `log_dest file ${this.logPath}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
    ];
    writeFileSync(join(this.dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
    await this.start();
  }

  async start(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: 'ignore',
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}):\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`mosquitto not listening on ${this.port}:\n${this.log()}`);
      await sleep(100);
    }
  }

  /** SIGTERM (its persistence file is written), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }

  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
