import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per process over a measured window, from /proc: on a 2-core machine that also runs Kafka,
 * RabbitMQ and InfluxDB, "who used the cores" is what explains a throughput figure. Linux only; on
 * anything else the meter reports nothing rather than failing the run.
 */

/** USER_HZ: the unit of /proc/<pid>/stat times. 100 on every Linux build that matters. */
const TICKS_PER_SECOND = 100;

export interface CpuTarget {
  label: string;
  pid: number;
}

/** utime + stime of a process (all its threads), in ticks; undefined once it has exited. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** All cores together: busy = everything but idle and iowait; steal is time the hypervisor took away. */
function machineTicks(): { busy: number; total: number; steal: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - v[3]! - v[4]!, total, steal: v[7] ?? 0 };
  } catch {
    return undefined;
  }
}

const SERVERS: { label: string; pattern: RegExp }[] = [
  { label: 'kafka', pattern: /\bkafka\.Kafka\b/ },
  { label: 'rabbitmq', pattern: /beam\.smp/ },
  { label: 'influxd', pattern: /(^|\/)influxd\0/ },
];

/** The Kafka, RabbitMQ and InfluxDB processes on this machine, found by their command lines. */
export function serverProcesses(): CpuTarget[] {
  const out: CpuTarget[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const entry of entries) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const s of SERVERS) if (s.pattern.test(cmdline)) out.push({ label: s.label, pid: Number(entry) });
  }
  // Two of a kind (the tests' second InfluxDB): tell them apart by pid; idle ones are dropped later.
  return out.map((t) =>
    out.filter((o) => o.label === t.label).length > 1 ? { ...t, label: `${t.label}[${t.pid}]` } : t,
  );
}

export interface CpuReport {
  seconds: number;
  /** Share of one core per process, 1 = one core fully busy. */
  processes: { label: string; cores: number }[];
  /** Share of all cores busy, and taken by the hypervisor. */
  machineBusy: number;
  machineSteal: number;
  cores: number;
}

export class CpuMeter {
  private startAt = 0;
  private startTicks = new Map<string, number>();
  private startMachine: ReturnType<typeof machineTicks>;

  constructor(private readonly targets: CpuTarget[]) {}

  start(): void {
    this.startAt = performance.now();
    this.startMachine = machineTicks();
    this.startTicks = new Map();
    for (const t of this.targets) {
      const ticks = processTicks(t.pid);
      if (ticks !== undefined) this.startTicks.set(t.label, ticks);
    }
  }

  get started(): boolean {
    return this.startAt > 0;
  }

  stop(cores: number): CpuReport {
    const seconds = (performance.now() - this.startAt) / 1000;
    const processes: CpuReport['processes'] = [];
    for (const t of this.targets) {
      const before = this.startTicks.get(t.label);
      const after = processTicks(t.pid);
      if (before === undefined || after === undefined) continue;
      processes.push({ label: t.label, cores: (after - before) / TICKS_PER_SECOND / seconds });
    }
    const end = machineTicks();
    const m0 = this.startMachine;
    const dTotal = end && m0 ? end.total - m0.total : 0;
    return {
      seconds,
      processes: processes.filter((p) => p.cores >= 0.01).sort((a, b) => b.cores - a.cores),
      machineBusy: end && m0 && dTotal > 0 ? (end.busy - m0.busy) / dTotal : Number.NaN,
      machineSteal: end && m0 && dTotal > 0 ? (end.steal - m0.steal) / dTotal : Number.NaN,
      cores,
    };
  }
}

/** `parser 97%, kafka 41%, bench 6%; machine 78% of 2 cores busy` (process shares are of one core). */
export function describeCpu(r: CpuReport): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const steal = r.machineSteal >= 0.01 ? `, ${pct(r.machineSteal)} stolen by the hypervisor` : '';
  return `${r.processes.map((p) => `${p.label} ${pct(p.cores)}`).join(', ')}; machine ${pct(r.machineBusy)} of ${r.cores} cores busy${steal}`;
}
