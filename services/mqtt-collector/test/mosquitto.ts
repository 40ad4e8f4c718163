import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, sleep } from '@gridstream/testkit';

/** Debian's broker (deploy/local/mosquitto.sh install). */
export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** A second listener with TLS (test CA of deploy/local/lib.sh), client certificate and password required. */
  tls?: { users: Record<string, string> };
}

/**
 * One mosquitto per test on free ports, with a generated config and its own persistence folder: queued
 * QoS 1 messages and persistent sessions survive `restart()` (saved on SIGTERM, and every second).
 */
export class Mosquitto {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly logPath: string;
  readonly confPath: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly certDir: string,
  ) {
    this.logPath = join(dir, 'mosquitto.log');
    this.confPath = join(dir, 'mosquitto.conf');
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    if (!existsSync(MOSQUITTO_BIN))
      throw new Error(`${MOSQUITTO_BIN} not found: run deploy/local/mosquitto.sh install (make infra-test)`);
    const dir = mkdtempSync(join(tmpdir(), 'gs-mosquitto-'));
    mkdirSync(join(dir, 'data'));
    const certDir = join(REPO_ROOT, '.local', 'mosquitto', 'test-certs');
    const broker = new Mosquitto(dir, await freePort(), options.tls ? await freePort() : undefined, certDir);
    const lines = [
      // Started as root (CI), mosquitto would switch to the `mosquitto` user, which cannot read this
      // test's private temp folder. As another user the line does nothing.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings true',
      `listener ${broker.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${join(dir, 'data')}/`,
      'autosave_interval 1',
      'max_queued_messages 100000',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
    ];
    if (options.tls) {
      makeTestCerts(certDir);
      const passwords = join(dir, 'passwords');
      writeFileSync(passwords, '');
      for (const [user, password] of Object.entries(options.tls.users))
        execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwords, user, password]);
      lines.push(
        `listener ${broker.tlsPort} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${passwords}`,
        `cafile ${join(certDir, 'ca.pem')}`,
        `certfile ${join(certDir, 'server.crt')}`,
        `keyfile ${join(certDir, 'server.key')}`,
        'require_certificate true',
      );
    }
    writeFileSync(broker.confPath, `${lines.join('\n')}\n`);
    await broker.spawn();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string {
    return `mqtts://localhost:${this.tlsPort}`;
  }

  /** Stops it (SIGTERM: the persistence file is written) and starts it again on the same ports. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.spawn();
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  private async spawn(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const append = (chunk: Buffer) => writeFileSync(this.logPath, chunk, { flag: 'a' });
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}):\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`mosquitto not listening on ${this.port}:\n${this.log()}`);
      await sleep(50);
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

/** The test CA, server and client certificates of deploy/local/lib.sh (make_test_certs), made once. */
function makeTestCerts(dir: string): void {
  if (existsSync(join(dir, 'client.key'))) return;
  execFileSync(
    'bash',
    ['-c', `source "${join(REPO_ROOT, 'deploy/local/lib.sh')}" && make_test_certs "${dir}"`],
    {
      stdio: 'inherit',
    },
  );
}
