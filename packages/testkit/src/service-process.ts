import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './ports.js';
import { privateSpoolDir } from './spool-dir.js';
import { sleep } from './wait.js';

/** The repository root (packages/testkit/{src,dist}/ → ../../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** Resident memory of one process in MiB: `VmRSS` now and `VmHWM`, the kernel's high-water mark. */
export interface MemoryReading {
  rssMiB: number;
  hwmMiB: number;
}

export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined; // exited
  }
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

export interface MemorySample {
  at: number;
  rssMiB: number;
}

export interface ServiceProcessOptions {
  /** The service's folder under services/ (parser, influx-writer, …). */
  service: string;
  /** Tells replicas apart in log names and messages (`parser-2`); default: the service name. */
  instance?: string;
  /** Added to the machine's environment (so tuning variables set by the caller reach the service). */
  env: Record<string, string>;
  logDir: string;
  /** Health/metrics port; default: a free one picked now (readiness needs to know it). */
  healthPort?: number;
  /** Adds `--cpu-prof`: the service writes a V8 CPU profile into this folder when it exits cleanly. */
  profileDir?: string;
  /** RSS sampling period (0: off). */
  sampleEveryMs?: number;
  /** Extra node flags, e.g. a heap cap. */
  nodeArgs?: string[];
}

/**
 * One of our services as its own process — `node services/<name>/dist/main.js`, as an operator runs it —
 * with its log in a file, its memory sampled from /proc, and the faults a test inflicts: SIGKILL (a
 * crash), SIGSTOP/SIGCONT (a hang), SIGTERM (an ordered stop), and a restart with the same settings.
 */
export class ServiceProcess {
  readonly instance: string;
  readonly logPath: string;
  readonly healthPort: number;
  private child!: ChildProcess;
  private log!: WriteStream;
  private closed!: Promise<void>;
  private sampler: NodeJS.Timeout | undefined;
  private peakMiB = 0;
  readonly samples: MemorySample[] = [];
  /** How many times it was started (restarts append to the same log). */
  starts = 0;
  readonly spoolDir: string;

  private constructor(
    private readonly options: ServiceProcessOptions,
    healthPort: number,
  ) {
    this.instance = options.instance ?? options.service;
    mkdirSync(options.logDir, { recursive: true });
    this.logPath = join(options.logDir, `${this.instance}.log`);
    this.healthPort = healthPort;
    // One spool folder per process object, kept across restarts (a restarted collector must find what it
    // spooled); the machine-wide default would be shared with every other collector.
    this.spoolDir = options.env.SPOOL_DIR ?? privateSpoolDir(this.instance);
  }

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const service = new ServiceProcess(options, options.healthPort ?? (await freePort()));
    service.spawn();
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it again (after a kill or a stop) with the same settings and health port. */
  async restart(): Promise<void> {
    if (this.running) await this.kill();
    this.spawn();
  }

  /** SIGKILL (default) or another signal; resolves once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    await this.closed;
  }

  /** SIGSTOP: the process hangs (sockets open, nothing answered) until resume(). */
  pause(): void {
    if (this.running) this.child.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.child.kill('SIGCONT');
  }

  /** SIGTERM (the services' ordered shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.sample();
    if (this.running) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.closed;
      clearTimeout(timer);
    }
    clearInterval(this.sampler);
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** The peak resident memory over every run so far (VmHWM), in MiB. */
  get peakMemoryMiB(): number {
    this.sample();
    return this.peakMiB;
  }

  /** GET /healthz/ready until it answers 200 (or the time runs out, or the process dies). */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      this.assertAlive();
      try {
        const response = await fetch(`http://127.0.0.1:${this.healthPort}/healthz/ready`, {
          signal: AbortSignal.timeout(2_000),
        });
        last = `${response.status} ${await response.text()}`;
        if (response.ok) return;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`${this.instance} not ready after ${timeoutMs} ms: ${last}\n${this.tail()}`);
  }

  /** Its /metrics as text (Prometheus exposition format). */
  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.healthPort}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    return response.text();
  }

  /** Throws (with the end of the log) when the process has exited: a test must not wait on a corpse. */
  assertAlive(): void {
    if (!this.running)
      throw new Error(
        `${this.instance} exited (${this.child.exitCode ?? this.child.signalCode}); log ${this.logPath}:\n${this.tail()}`,
      );
  }

  tail(lines = 15): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private spawn(): void {
    const { options } = this;
    const nodeArgs = [...(options.nodeArgs ?? [])];
    if (options.profileDir) {
      mkdirSync(options.profileDir, { recursive: true });
      nodeArgs.push(
        '--cpu-prof',
        `--cpu-prof-dir=${options.profileDir}`,
        `--cpu-prof-name=${this.instance}.cpuprofile`,
      );
    }
    this.log = createWriteStream(this.logPath, { flags: 'a' });
    this.child = spawn(
      process.execPath,
      [...nodeArgs, join(REPO_ROOT, 'services', options.service, 'dist', 'main.js')],
      {
        env: {
          ...process.env,
          SPOOL_DIR: this.spoolDir,
          ...options.env,
          HEALTH_PORT: String(this.healthPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.starts++;
    // Two streams into one file: neither may end it, or the other's last lines hit a closed stream.
    this.child.stdout!.pipe(this.log, { end: false });
    this.child.stderr!.pipe(this.log, { end: false });
    // `close`, not `exit`: it comes after stdout/stderr are drained, so the log is complete.
    this.closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    const every = options.sampleEveryMs ?? 500;
    clearInterval(this.sampler);
    if (every > 0) {
      this.sampler = setInterval(() => this.sample(), every);
      this.sampler.unref();
    }
    ALL.add(this);
  }

  private sample(): void {
    if (!this.running) return;
    const m = readMemory(this.pid);
    // A zombie (killed, not yet reaped) has no VmHWM line: NaN would poison the peak for good.
    if (!m || !Number.isFinite(m.hwmMiB) || !Number.isFinite(m.rssMiB)) return;
    this.samples.push({ at: Date.now(), rssMiB: m.rssMiB });
    this.peakMiB = Math.max(this.peakMiB, m.hwmMiB);
  }
}

const ALL = new Set<ServiceProcess>();

/** Every service process this test process started and that still runs: SIGKILL (for teardown). */
export async function killAllServiceProcesses(): Promise<void> {
  await Promise.all([...ALL].map((p) => p.kill().catch(() => undefined)));
}

// A test runner that dies must not leave services behind that write into the next run's topics.
process.once('exit', () => {
  for (const p of ALL) if (p.running) p.kill('SIGKILL').catch(() => undefined);
});
