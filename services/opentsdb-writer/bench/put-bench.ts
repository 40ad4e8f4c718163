// OpenTSDB put bench: datapoints/s of the opentsdb-writer's target (record → datapoints mapping, its JSON,
// POST /api/put?details, answer handling) against a raw batched POST of the same datapoints (JSON.stringify
// of ready-made datapoints, POST /api/put, status check) — same batch size, same writes in flight, same
// server. Every run writes under its own metric prefix (the same number of new series each time) and is
// read back afterwards: a run counts only if the server holds exactly its datapoints.
//
// Run after `npx tsc -b`, with a VictoriaMetrics of your own (it writes ~1M datapoints):
//   VM_INSTANCE=bench VM_HTTP_PORT=28428 VM_OPENTSDB_PORT=24242 deploy/local/victoriametrics.sh start
//   VM_INSTANCE=bench VM_HTTP_PORT=28428 VM_OPENTSDB_PORT=24242 deploy/local/victoriametrics.sh wait
//   node services/opentsdb-writer/bench/put-bench.ts --opentsdb http://127.0.0.1:24242 \
//        --vm http://127.0.0.1:28428 [--messages 2000] [--batch 1000] [--in-flight 3] [--rounds 5]
//        [--sizes 50,200,1000,5000]
//   VM_INSTANCE=bench deploy/local/victoriametrics.sh stop
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { ParsedRecord } from '@gridstream/schema';
import { DatapointMapper, DEFAULT_NAMING, type OpenTsdbDatapoint } from '../dist/datapoints.js';
import { openTsdbPut } from '../dist/opentsdb-target.js';

const { values: args } = parseArgs({
  options: {
    opentsdb: { type: 'string', default: 'http://127.0.0.1:24242' },
    vm: { type: 'string', default: 'http://127.0.0.1:28428' },
    messages: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '1000' },
    'in-flight': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '' },
  },
});

const T0 = Date.parse('2023-06-09T11:34:06.000Z');
const SITES = ['site-a', 'site-b', 'site-c'];

/** A gateway message's 17 readings (the reference message's shapes), values varying per message. */
function records(messages: number): ParsedRecord[] {
  const shapes: Array<[string, string, string | undefined, number, number]> = [
    ['battery', '01', undefined, 9, 7],
    ['battery', '01', '1', 8, 7],
    ['battery', '02', undefined, 9, 7],
    ['battery', '02', '1', 8, 7],
    ['battery', '03', undefined, 9, 7],
    ['battery', '03', '1', 8, 7],
    ['dcdc_converter', '1', undefined, 6, 4],
    ['dcdc_converter', '2', undefined, 6, 4],
    ['dcdc_converter', '3', undefined, 6, 4],
    ['inverter', '1', undefined, 12, 4],
    ['inverter', '2', undefined, 12, 4],
    ['transformer', '1', undefined, 5, 0],
    ['transformer', '2', undefined, 7, 0],
    ['pv', '1', undefined, 4, 1],
    ['ev_charger', '1', undefined, 5, 3],
    ['ev_charger', '2', undefined, 5, 3],
    ['ev_charger', '3', undefined, 5, 3],
  ];
  const out: ParsedRecord[] = [];
  for (let k = 0; k < messages; k++) {
    const site = SITES[k % SITES.length]!;
    const ts = new Date(T0 + Math.floor(k / SITES.length) * 1_000).toISOString();
    for (const [equipment, device, rack, nFields, nFlags] of shapes) {
      const fields: Record<string, number> = {};
      for (let f = 0; f < nFields; f++)
        fields[`value_${f}`] = Math.round((100 + f * 7.3 + (k % 50) * 0.1) * 10) / 10;
      const flags: Record<string, boolean> = {};
      for (let f = 0; f < nFlags; f++) flags[`flag_${f}`] = (k + f) % 3 === 0;
      out.push({
        v: 1,
        site,
        equipment,
        device,
        ...(rack ? { rack } : {}),
        ts,
        fields,
        flags,
        ...(k % 10 === 0 ? { quality: { value_0: ['stale' as const] } } : {}),
        schema: 'microgrid.v1',
        lineage: { topic: 'telemetry.raw', partition: 0, offset: String(k) },
      });
    }
  }
  return out;
}

/** Runs `write` over `batches` with at most `inFlight` at once. */
async function pump<B>(batches: B[], inFlight: number, write: (b: B) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) await write(batches[next++]!);
    }),
  );
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function count(prefix: string): Promise<number> {
  await fetch(`${args.vm}/internal/force_flush`);
  const response = await fetch(`${args.vm}/api/v1/export`, {
    method: 'POST',
    body: new URLSearchParams({ 'match[]': `{__name__=~"${prefix}\\\\..*"}`, start: '0' }),
  });
  const text = await response.text();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .reduce((n, l) => n + (JSON.parse(l) as { values: number[] }).values.length, 0);
}

interface RunResult {
  kind: 'target' | 'raw';
  batch: number;
  datapoints: number;
  seconds: number;
  perSecond: number;
  clientCpuSeconds: number;
  stored: number;
}

let runNumber = 0;
async function run(
  kind: 'target' | 'raw',
  input: ParsedRecord[],
  batch: number,
  inFlight: number,
): Promise<RunResult> {
  const prefix = `bench${Date.now().toString(36)}r${runNumber++}`;
  const mapper = new DatapointMapper({ ...DEFAULT_NAMING, metricTemplate: `${prefix}.{equipment}.{field}` });
  let datapoints = 0;
  let seconds: number;
  let cpu: NodeJS.CpuUsage;
  if (kind === 'target') {
    // The target's whole path, as the seam drives it: records mapped to datapoints (recordPoints) as
    // batches are needed — mapping overlaps the writes in flight, as intake does — then its put.
    const put = openTsdbPut({ url: args.opentsdb!, timeoutMs: 60_000, sync: true });
    let nextRecord = 0;
    let carry: OpenTsdbDatapoint[] = [];
    // Exactly `batch` datapoints per write (the last one fewer), like the raw run's batches.
    const nextBatch = (): OpenTsdbDatapoint[] | undefined => {
      while (carry.length < batch && nextRecord < input.length)
        carry.push(...mapper.recordPoints(input[nextRecord++]!));
      const out = carry.slice(0, batch);
      carry = carry.slice(batch);
      return out.length > 0 ? out : undefined;
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let b = nextBatch(); b !== undefined; b = nextBatch()) {
          datapoints += b.length;
          const refused = await put(b);
          if (refused && refused.length > 0) throw new Error(`refused: ${refused[0]!.message}`);
        }
      }),
    );
    seconds = (performance.now() - t0) / 1_000;
    cpu = process.cpuUsage(cpu0);
  } else {
    // Raw: the same datapoints, made before the clock starts; JSON.stringify and a POST per batch.
    const points: OpenTsdbDatapoint[] = input.flatMap((r) => mapper.recordPoints(r));
    datapoints = points.length;
    const batches = chunk(points, batch);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await pump(batches, inFlight, async (b) => {
      const response = await fetch(`${args.opentsdb}/api/put`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
      await response.arrayBuffer();
      if (response.status !== 204) throw new Error(`raw put: ${response.status}`);
    });
    seconds = (performance.now() - t0) / 1_000;
    cpu = process.cpuUsage(cpu0);
  }
  const stored = await count(prefix);
  if (stored !== datapoints)
    throw new Error(`${kind} run ${prefix}: ${stored} of ${datapoints} datapoints stored`);
  return {
    kind,
    batch,
    datapoints,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(datapoints / seconds),
    clientCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    stored,
  };
}

const input = records(Number(args.messages));
const inFlight = Number(args['in-flight']);
const results: RunResult[] = [];
// Warm-up (JIT, connections, the server's caches), not reported.
await run('target', records(30), Number(args.batch), inFlight);
await run('raw', records(30), Number(args.batch), inFlight);
// Interleaved rounds (target, raw, target, raw, …) so that a busy neighbour or the server's own background
// merges hit both alike; the median of the rounds is the figure.
const sizes = [Number(args.batch), ...(args.sizes ?? '').split(',').filter(Boolean).map(Number)];
for (let r = 0; r < Number(args.rounds); r++)
  for (const size of sizes) {
    results.push(await run('target', input, size, inFlight));
    results.push(await run('raw', input, size, inFlight));
  }
const cpuPerMillion = (runs: RunResult[]) =>
  Number(((median(runs.map((r) => r.clientCpuSeconds)) / runs[0]!.datapoints) * 1e6).toFixed(2));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = sizes.map((batch) => {
  const of = (kind: 'target' | 'raw') => results.filter((r) => r.kind === kind && r.batch === batch);
  const target = median(of('target').map((r) => r.perSecond));
  const raw = median(of('raw').map((r) => r.perSecond));
  return {
    batch,
    targetPerSecond: target,
    rawPerSecond: raw,
    targetVsRaw: Number((target / raw).toFixed(2)),
    /** Client CPU seconds per million datapoints (the bench process: mapping, JSON, HTTP). */
    targetCpuPerMillion: cpuPerMillion(of('target')),
    rawCpuPerMillion: cpuPerMillion(of('raw')),
  };
});
console.log(
  JSON.stringify(
    {
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version },
      server: args.opentsdb,
      messages: Number(args.messages),
      records: input.length,
      inFlight,
      rounds: Number(args.rounds),
      summary,
      results,
    },
    null,
    2,
  ),
);
