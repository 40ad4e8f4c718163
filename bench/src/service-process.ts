import { type MemorySample, ServiceProcess } from '@gridstream/testkit';

export type { MemoryReading, MemorySample } from '@gridstream/testkit';
export { readMemory } from '@gridstream/testkit';

export type ServiceName = 'bridge' | 'parser' | 'influx-writer';

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
  /** Its /metrics (Prometheus text). */
  metrics(): Promise<string>;
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
 * One service of a bench step as its own process, started by the testkit's ServiceProcess (the harness the
 * integration tests and the soak use): `node services/<name>/dist/main.js` with the machine's environment
 * plus `env`, as an operator runs it, so tuning variables set for `make bench` reach the services. A process
 * of its own is also the only way to see one service's memory apart from the others'.
 */
export async function spawnService(name: ServiceName, options: SpawnOptions): Promise<RunningServiceProcess> {
  const service = await ServiceProcess.start({
    service: name,
    instance: `${options.step}-${name}`,
    logDir: options.logDir,
    env: options.env,
    profileDir: options.profileDir,
    sampleEveryMs: options.sampleEveryMs ?? 200,
  });
  return {
    name,
    pid: service.pid,
    logPath: service.logPath,
    assertAlive: () => service.assertAlive(),
    metrics: () => service.metrics(),
    async stop(graceMs = 15_000) {
      await service.stop(graceMs);
      return { service: name, step: options.step, peakMiB: service.peakMemoryMiB, samples: service.samples };
    },
  };
}
