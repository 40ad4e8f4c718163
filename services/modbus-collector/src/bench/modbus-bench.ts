/**
 * Modbus benchmark (`make bench` can call it; runnable alone after `npx tsc -b`, Kafka on 127.0.0.1:9092):
 *
 *   node services/modbus-collector/dist/bench/modbus-bench.js [--seconds 10] [--devices 64]
 *        [--interval-ms 100] [--timeout-ms 90] [--profile FILE] [--json FILE]
 *
 * Registers per second read from ONE Modbus simulator (the ESS profile, in its own process) by
 *   1. a bare modbus-serial loop in this process: the collector's read plan (planDeviceReads, 7 reads =
 *      498 input registers for the ESS profile) issued back to back, unit after unit, on one TCP
 *      connection, nothing decoded;
 *   2. the real collector (services/modbus-collector/dist/main.js as its own process) polling the same
 *      simulator, decoding, flagging and producing samples.v1 to a throwaway Kafka topic; counted from
 *      its /metrics, with its CPU and RSS from /proc.
 * Prints a `## Modbus` Markdown section; --json writes the figures.
 *
 * How the collector is saturated: one device cannot be — its interval is at least 11 ms (timeoutMs ≥ 10
 * and must stay below the interval), longer than one poll takes on localhost, so it would idle between
 * slots and measure the schedule, not the collector. Instead `--devices` unit ids of the same profile
 * sit behind the simulator's one port and share ONE connection (a gateway with many slaves), each
 * polled every `--interval-ms`: demand = devices × 1000 / interval polls/s, several times what the line
 * carries, so the connection's queue is never empty — the same single line, back-to-back, as the bare
 * loop. A 100 ms interval keeps the timeout (90 ms) far above a loaded machine's scheduling jitter, so
 * no read is failed by a hiccup. Phases are spread over the interval so the demand is smooth. The
 * result says whether the line was saturated (skipped slots, polls/s below demand); if not, raise
 * --devices. Retries are 0: a retried read would be counted as throughput lost, not hidden.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@gridstream/config';
import { createKafka, deleteTopics, kafkaEnvShape } from '@gridstream/kafka';
import { loadProfile, type ModbusFunction, planDeviceReads, type ReadRequest } from '@gridstream/modbus';
import { createLogger } from '@gridstream/runtime';
import modbusSerial from 'modbus-serial';
import { z } from 'zod';

// modbus-serial is CommonJS: the client class is the module object, which TypeScript sees as `.default`.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const REPO = resolve(import.meta.dirname, '../../../..'); // services/modbus-collector/dist/bench → repo
const COLLECTOR_MAIN = resolve(import.meta.dirname, '../main.js');
const SIMULATOR_MODULE = join(REPO, 'services/simulator/dist/modbus-server.js');
const DEFAULT_PROFILE = join(REPO, 'sample/profiles/ess-sionyu.yaml');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 0) => Number(x.toFixed(digits));
const fmt = (x: number) => Math.round(x).toLocaleString('en');

// ---------------------------------------------------------------------------------------------------
// Child mode: the simulator in its own process, so neither contender shares an event loop with it.
// The simulator is another service: imported from its build output at run time (like the OPC UA bench's
// sim process) rather than compiled into this project, which would pull its sources under our rootDir.
// ---------------------------------------------------------------------------------------------------

interface SimulatorModule {
  startModbusSimulator(options: {
    port: number;
    profile: string;
    unitIds: number[];
  }): Promise<{ port: number; stop(): Promise<void> }>;
}

async function runSimulatorProcess(profile: string, units: number): Promise<void> {
  const { startModbusSimulator } = (await import(pathToFileURL(SIMULATOR_MODULE).href)) as SimulatorModule;
  const sim = await startModbusSimulator({
    port: 0,
    profile,
    unitIds: Array.from({ length: units }, (_, i) => i + 1),
  });
  process.stdout.write(`READY ${sim.port}\n`);
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ---------------------------------------------------------------------------------------------------
// /proc and Prometheus helpers
// ---------------------------------------------------------------------------------------------------

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

function memoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Per-series values of a metric in Prometheus text, keyed by the label set, filtered by a substring. */
function series(text: string, name: string, filter = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (filter && !line.includes(filter)) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(name.length, space), Number(line.slice(space + 1)));
  }
  return out;
}

const metricSum = (text: string, name: string, filter = '') =>
  [...series(text, name, filter).values()].reduce((a, b) => a + b, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : Number.NaN;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------
// 1. The bare loop
// ---------------------------------------------------------------------------------------------------

async function readOnce(client: ModbusRTU, fn: ModbusFunction, address: number, count: number) {
  switch (fn) {
    case 'coil':
      return client.readCoils(address, count);
    case 'discrete_input':
      return client.readDiscreteInputs(address, count);
    case 'holding':
      return client.readHoldingRegisters(address, count);
    case 'input':
      return client.readInputRegisters(address, count);
  }
}

interface LoopResult {
  seconds: number;
  registersPerSec: number;
  readsPerSec: number;
  pollsPerSec: number;
  meanReadMs: number;
  lineBusyPercent: number;
  cpuPercent: number;
  simulatorCpuPercent: number;
  rssMiB: number;
}

/** The plan for each unit in turn, back to back; warm-up first (JIT, socket), then the measured window. */
async function bareLoop(
  port: number,
  plan: ReadRequest[],
  units: number,
  seconds: number,
  simPid: number,
): Promise<LoopResult> {
  const client = new ModbusRTU();
  client.on('error', () => undefined); // the failing read reports it; an unheard 'error' would crash
  await client.connectTCP('127.0.0.1', { port });
  client.setTimeout(1000);
  let unit = 0;
  const poll = async (acc: { reads: number; registers: number; busy: number }) => {
    unit = (unit % units) + 1;
    client.setID(unit);
    for (const r of plan) {
      const t = performance.now();
      await readOnce(client, r.function, r.address, r.count);
      acc.busy += performance.now() - t;
      acc.reads++;
      acc.registers += r.count;
    }
  };
  const warm = { reads: 0, registers: 0, busy: 0 };
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await poll(warm);

  const acc = { reads: 0, registers: 0, busy: 0 };
  let polls = 0;
  const cpu0 = process.cpuUsage();
  const sim0 = cpuSeconds(simPid);
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  while (performance.now() < until) {
    await poll(acc);
    polls++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const simCpu = cpuSeconds(simPid) - sim0;
  await new Promise<void>((r) => client.close(() => r()));
  return {
    seconds: round(elapsed, 1),
    registersPerSec: Math.round(acc.registers / elapsed),
    readsPerSec: Math.round(acc.reads / elapsed),
    pollsPerSec: round(polls / elapsed, 1),
    meanReadMs: round(acc.busy / acc.reads, 3),
    lineBusyPercent: round((100 * acc.busy) / 1000 / elapsed, 1),
    cpuPercent: round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100, 1),
    simulatorCpuPercent: round((simCpu / elapsed) * 100, 1),
    rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// 2. The collector
// ---------------------------------------------------------------------------------------------------

interface CollectorResult {
  seconds: number;
  devices: number;
  intervalMs: number;
  demandPollsPerSec: number;
  registersPerSec: number;
  readsPerSec: number;
  pollsPerSec: number;
  kafkaMessagesPerSec: number;
  kafkaRegistersPerSec: number;
  meanReadMs: number;
  lineBusyPercent: number;
  failedReads: number;
  /** Failed read attempts by reason (timeout, exception, …). */
  failureReasons: Record<string, number>;
  failedPolls: number;
  skippedSlots: number;
  spoolDropped: number;
  pollsPerDevice: { min: number; max: number };
  saturated: boolean;
  cpuPercent: number;
  simulatorCpuPercent: number;
  rssMiB: { median: number; peak: number };
  eventLoopDelayP99Ms: number;
  startupMs: number;
}

async function collectorRun(opts: {
  port: number;
  profile: string;
  plan: ReadRequest[];
  units: number;
  intervalMs: number;
  timeoutMs: number;
  seconds: number;
  topic: string;
  work: string;
  simPid: number;
  children: ChildProcess[];
}): Promise<CollectorResult> {
  const { plan, units, intervalMs, seconds } = opts;
  const registersPerPoll = plan.reduce((n, r) => n + r.count, 0);
  const configFile = join(opts.work, 'modbus.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      site: 'bench',
      connections: [
        {
          name: 'bench-sim',
          transport: 'tcp',
          host: '127.0.0.1',
          port: opts.port,
          devices: Array.from({ length: units }, (_, i) => ({
            name: `ess-${i + 1}`,
            profile: opts.profile,
            unitId: i + 1,
            pollIntervalMs: intervalMs,
            timeoutMs: opts.timeoutMs,
            retries: 0,
            phaseMs: Math.floor((i * intervalMs) / units),
          })),
        },
      ],
    }),
  );
  const healthPort = await freePort();
  const started = Date.now();
  const collector = spawn(process.execPath, [COLLECTOR_MAIN], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HEALTH_PORT: String(healthPort),
      MODBUS_CONFIG: configFile,
      SPOOL_DIR: join(opts.work, 'spool'),
      KAFKA_TOPIC_RAW: opts.topic,
      KAFKA_TOPIC_PARTITIONS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.children.push(collector);
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-8_000);
  };
  collector.stdout!.on('data', keep);
  collector.stderr!.on('data', keep);
  const scrape = async () => {
    if (collector.exitCode !== null) throw new Error(`collector exited (${collector.exitCode}):\n${log}`);
    const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`).catch(() => undefined);
    return res?.ok ? await res.text() : '';
  };

  // Every device has answered once and Kafka has taken a message: connected, topic created, producing.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await scrape();
    const answered = [...series(text, 'gridstream_modbus_polls_total', 'outcome="ok"').values()].filter(
      (v) => v > 0,
    ).length;
    if (answered >= units && metricSum(text, 'gridstream_spool_produced_total') > 0) break;
    if (Date.now() > deadline)
      throw new Error(`${answered} of ${units} devices answered within 60 s:\n${log}`);
    await sleep(200);
  }
  const startupMs = Date.now() - started;
  await sleep(2000); // warm-up: JIT, producer batches, the schedule's phases settled

  const pid = collector.pid!;
  const m0 = await scrape();
  const cpu0 = cpuSeconds(pid);
  const sim0 = cpuSeconds(opts.simPid);
  const t0 = performance.now();
  const rss: number[] = [];
  const lagP99: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(Math.min(1000, seconds * 1000 - (performance.now() - t0)));
    rss.push(memoryMiB(pid).rss);
    // prom-client resets its event-loop histogram at every scrape: the p99 of about the last second.
    lagP99.push(metricSum(await scrape(), 'gridstream_nodejs_eventloop_lag_p99_seconds') * 1000);
  }
  const m1 = await scrape();
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const simCpu = cpuSeconds(opts.simPid) - sim0;
  const mem = memoryMiB(pid);

  const delta = (name: string, filter = '') => metricSum(m1, name, filter) - metricSum(m0, name, filter);
  const readsOk = delta('gridstream_modbus_reads_total', 'outcome="ok"');
  const pollsOk = delta('gridstream_modbus_polls_total', 'outcome="ok"');
  // Acknowledged by Kafka (the source seam's gridstream_source_messages_total counts them spooled).
  const messages = delta('gridstream_spool_produced_total');
  const latencySum = delta('gridstream_modbus_read_latency_seconds_sum');
  const before = series(m0, 'gridstream_modbus_polls_total', 'outcome="ok"');
  const perDevice = [...series(m1, 'gridstream_modbus_polls_total', 'outcome="ok"')].map(
    ([labels, v]) => v - (before.get(labels) ?? 0),
  );
  const skippedSlots = delta('gridstream_modbus_skipped_cycles_total');
  const demandPollsPerSec = (units * 1000) / intervalMs;
  const pollsPerSec = pollsOk / elapsed;
  return {
    seconds: round(elapsed, 1),
    devices: units,
    intervalMs,
    demandPollsPerSec,
    // Every read of the plan is the same for each device: registers = answered reads × registers per read.
    registersPerSec: Math.round((readsOk * registersPerPoll) / plan.length / elapsed),
    readsPerSec: Math.round(readsOk / elapsed),
    pollsPerSec: round(pollsPerSec, 1),
    kafkaMessagesPerSec: round(messages / elapsed, 1),
    kafkaRegistersPerSec: Math.round((messages * registersPerPoll) / elapsed),
    meanReadMs: round((latencySum * 1000) / Math.max(1, readsOk), 3),
    lineBusyPercent: round((100 * latencySum) / elapsed, 1),
    failedReads: delta('gridstream_modbus_reads_total', 'outcome="failed"'),
    failureReasons: failureReasons(m0, m1),
    failedPolls: delta('gridstream_modbus_polls_total', 'outcome="failed"'),
    skippedSlots,
    spoolDropped: delta('gridstream_spool_dropped_total'),
    pollsPerDevice: { min: Math.min(...perDevice), max: Math.max(...perDevice) },
    saturated: skippedSlots > 0 && pollsPerSec < 0.95 * demandPollsPerSec,
    cpuPercent: round((cpu / elapsed) * 100, 1),
    simulatorCpuPercent: round((simCpu / elapsed) * 100, 1),
    rssMiB: { median: round(median(rss), 1), peak: round(mem.hwm, 1) },
    eventLoopDelayP99Ms: round(median(lagP99), 1),
    startupMs,
  };
}

/** Growth of gridstream_modbus_read_failures_total between two scrapes, summed per reason. */
function failureReasons(m0: string, m1: string): Record<string, number> {
  const byReason = (text: string) => {
    const out = new Map<string, number>();
    for (const [labels, v] of series(text, 'gridstream_modbus_read_failures_total')) {
      const reason = /reason="([^"]*)"/.exec(labels)?.[1] ?? '?';
      out.set(reason, (out.get(reason) ?? 0) + v);
    }
    return out;
  };
  const before = byReason(m0);
  const out: Record<string, number> = {};
  for (const [reason, v] of byReason(m1)) {
    const d = v - (before.get(reason) ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------

interface Results {
  machine: { cores: number; cpu: string | undefined; node: string };
  profile: string;
  readsPerPoll: number;
  registersPerPoll: number;
  units: number;
  bare: LoopResult;
  collector: CollectorResult;
  ratioPercent: number;
}

function markdown(r: Results): string {
  const { bare: b, collector: c } = r;
  const pct = (x: number, y: number) => `${round((100 * x) / y)}%`;
  const failures = Object.entries(c.failureReasons).map(([k, v]) => `${v} ${k}`);
  const reasons = failures.length ? ` (attempts: ${failures.join(', ')})` : '';
  return [
    '## Modbus',
    '',
    `One simulator process (\`${r.profile}\`, ${r.units} unit ids behind one port), read over ONE TCP ` +
      `connection with the collector's plan: ${r.readsPerPoll} reads = ${r.registersPerPoll} registers per poll. ` +
      `Bare loop: modbus-serial in the bench process, the plan back to back, unit after unit, nothing decoded. ` +
      `Collector: \`services/modbus-collector/dist/main.js\` in its own process, ${c.devices} devices every ` +
      `${c.intervalMs} ms (demand ${fmt(c.demandPollsPerSec)} polls/s), decoding and producing samples.v1 to Kafka. ` +
      `${b.seconds} s and ${c.seconds} s measured after warm-up; ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}.`,
    '',
    '| metric | bare modbus-serial loop | modbus-collector | ratio |',
    '| --- | ---: | ---: | ---: |',
    `| registers/s read | ${fmt(b.registersPerSec)} | ${fmt(c.registersPerSec)} | **${r.ratioPercent}%** |`,
    `| reads/s | ${fmt(b.readsPerSec)} | ${fmt(c.readsPerSec)} | ${pct(c.readsPerSec, b.readsPerSec)} |`,
    `| polls/s (${r.readsPerPoll} reads each) | ${b.pollsPerSec} | ${c.pollsPerSec} | ${pct(c.pollsPerSec, b.pollsPerSec)} |`,
    `| mean read round trip | ${b.meanReadMs} ms | ${c.meanReadMs} ms | |`,
    `| line busy (a request outstanding) | ${b.lineBusyPercent}% | ${c.lineBusyPercent}% | |`,
    `| CPU, % of one core | ${b.cpuPercent}% (bench process) | ${c.cpuPercent}% | |`,
    `| RSS | ${b.rssMiB} MiB (bench process) | ${c.rssMiB.median} MiB (peak ${c.rssMiB.peak} MiB) | |`,
    `| simulator CPU, % of one core | ${b.simulatorCpuPercent}% | ${c.simulatorCpuPercent}% | |`,
    '',
    `Collector: ${c.saturated ? 'line saturated' : '**line NOT saturated — raise --devices**'} ` +
      `(${fmt(c.skippedSlots)} poll slots skipped, ${c.pollsPerSec} of ${fmt(c.demandPollsPerSec)} polls/s demanded; ` +
      `${c.pollsPerDevice.min}–${c.pollsPerDevice.max} polls per device); ` +
      `Kafka acknowledged ${c.kafkaMessagesPerSec} messages/s = ${fmt(c.kafkaRegistersPerSec)} registers/s, ` +
      `${c.spoolDropped} dropped from the spool; ${c.failedReads} failed reads${reasons}, ${c.failedPolls} failed polls; ` +
      `event-loop delay p99 ${c.eventLoopDelayP99Ms} ms (median second); first poll of every device and first ` +
      `Kafka ack ${fmt(c.startupMs)} ms after start.`,
    '',
    // Without this line the bare figure reads like a modbus-serial client limit; it is the server's.
    `Both are bounded by the simulator, not the client: modbus-serial's ServerTCP answers every request ` +
      `from a setTimeout(0), i.e. ≥ 1 ms per read on one connection, which is why the bare loop keeps the line ~100% busy on little CPU. The ` +
      `ratio therefore shows how much line time the collector leaves unused (between reads and polls: ` +
      `decoding, samples, Kafka) and how much slower its reads come back on a loaded machine.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      devices: { type: 'string', default: '64' },
      'interval-ms': { type: 'string', default: '100' },
      'timeout-ms': { type: 'string', default: '90' },
      profile: { type: 'string', default: DEFAULT_PROFILE },
      json: { type: 'string' },
    },
  });
  const seconds = Number(args.seconds);
  const units = Number(args.devices);
  const intervalMs = Number(args['interval-ms']);
  const timeoutMs = Number(args['timeout-ms']);
  if (!(seconds > 0) || !Number.isInteger(units) || units < 1 || units > 247)
    throw new Error('--seconds must be > 0 and --devices an integer in 1..247 (Modbus unit ids)');
  const profilePath = resolve(args.profile);
  const { profile } = await loadProfile(profilePath);
  const plan = planDeviceReads(profile);

  const work = mkdtempSync(join(tmpdir(), 'modbus-bench-'));
  const topic = `bench.modbus.raw-${Date.now().toString(36)}`;
  const children: ChildProcess[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const c of [...children].reverse()) await stopChild(c);
      rmSync(work, { recursive: true, force: true });
      const kafka = createKafka(
        loadConfig(z.object(kafkaEnvShape), {
          KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
          KAFKA_CLIENT_ID: 'modbus-bench',
        }),
        createLogger({ service: 'modbus-bench', level: 'warn' }),
      );
      await deleteTopics(kafka, [topic]).catch(() => undefined);
    })());
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const sim = spawn(
      process.execPath,
      [import.meta.filename, 'simulator-process', profilePath, String(units)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(sim);
    let simLog = '';
    sim.stderr!.on('data', (d: Buffer) => {
      simLog = (simLog + d.toString()).slice(-4_000);
    });
    const port = await new Promise<number>((ready, fail) => {
      const rl = createInterface({ input: sim.stdout! });
      rl.on('line', (line) => line.startsWith('READY ') && ready(Number(line.split(' ')[1])));
      sim.once('exit', (code) => fail(new Error(`simulator exited (${code}): ${simLog}`)));
    });

    const bare = await bareLoop(port, plan, units, seconds, sim.pid!);
    const collector = await collectorRun({
      port,
      profile: profilePath,
      plan,
      units,
      intervalMs,
      timeoutMs,
      seconds,
      topic,
      work,
      simPid: sim.pid!,
      children,
    });
    const results: Results = {
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model.trim(), node: process.version },
      profile: profilePath.startsWith(`${REPO}/`) ? profilePath.slice(REPO.length + 1) : profilePath,
      readsPerPoll: plan.length,
      registersPerPoll: plan.reduce((n, r) => n + r.count, 0),
      units,
      bare,
      collector,
      ratioPercent: round((100 * collector.registersPerSec) / bare.registersPerSec),
    };
    process.stdout.write(`${markdown(results)}\n`);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === 'simulator-process') {
  await runSimulatorProcess(process.argv[3]!, Number(process.argv[4]));
} else {
  await main();
}
