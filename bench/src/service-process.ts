import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild } from './cleanup.js';
import { REPO_ROOT } from './paths.js';

export type ServiceName = 'bridge' | 'parser' | 'influx-writer';

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

export interface ServiceMemory {
  service: ServiceName;
  step: string;
  /** VmHWM read just before the process was stopped: the peak over its whole life. */
  peakMiB: number;
  /** Median RSS while under steady load (the end-to-end step's measured window); absent elsewhere. */
  steadyMiB?: number;
  samples: MemorySample[];
}

export interface RunningServiceProcess {
  readonly name: ServiceName;
  readonly pid: number;
  readonly logPath: string;
  /** Throws (with the end of the service's log) when the process has exited: a step must not wait on a corpse. */
  assertAlive(): void;
  /** SIGTERM (the services' ordered shutdown), SIGKILL after `graceMs`; returns the memory it used. */
  stop(graceMs?: number): Promise<ServiceMemory>;
}

export interface SpawnOptions {
  step: string;
  logDir: string;
  env: Record<string, string>;
  /** Adds `--cpu-prof` so the service writes a V8 CPU profile into `profileDir` when it exits cleanly. */
  profileDir?: string;
  sampleEveryMs?: number;
}

/**
 * Starts `services/<name>/dist/main.js` as its own process with the machine's environment plus `env`, as an
 * operator would (so tuning variables set for `make bench` reach the services), and samples its RSS from
 * /proc. The bench cannot import the services: they are not packages and lie outside its rootDir, and a
 * process of its own is also the only way to see one service's memory apart from the others'.
 */
export function spawnService(name: ServiceName, options: SpawnOptions): RunningServiceProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logPath = join(options.logDir, `${options.step}-${name}.log`);
  const log = createWriteStream(logPath);
  const nodeArgs: string[] = [];
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${options.profileDir}`,
      `--cpu-prof-name=${options.step}-${name}.cpuprofile`,
    );
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, join(REPO_ROOT, 'services', name, 'dist', 'main.js')],
    {
      env: { ...process.env, HEALTH_PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackChild(child);
  // Two streams into one file: neither may end it, or the other's last lines hit a closed stream.
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);

  const samples: MemorySample[] = [];
  let lastHwm = 0;
  const sample = () => {
    const m = readMemory(pid);
    if (!m) return;
    samples.push({ at: Date.now(), rssMiB: m.rssMiB });
    lastHwm = Math.max(lastHwm, m.hwmMiB);
  };
  const sampler = setInterval(sample, options.sampleEveryMs ?? 200);
  // `close`, not `exit`: it comes after stdout/stderr are drained, so the log is complete.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  exited.then(() => clearInterval(sampler));

  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  };

  return {
    name,
    pid,
    logPath,
    assertAlive() {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${name} exited (code ${child.exitCode ?? child.signalCode}) during ${options.step}; log ${logPath}:\n${tail()}`,
        );
      }
    },
    async stop(graceMs = 15_000) {
      sample();
      clearInterval(sampler);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => log.end(resolve));
      return { service: name, step: options.step, peakMiB: lastHwm, samples };
    },
  };
}
