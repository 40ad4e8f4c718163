import type { ResultRow } from './context.js';
import type { MachineFacts } from './machine-facts.js';
import type { ServiceMemory } from './service-process.js';
import { formatNumber } from './stats.js';

const HEAD = ['metric', 'baseline', 'gridstream', 'ratio', 'target', 'result'];

function cells(row: ResultRow): string[] {
  const unit = row.unit;
  const baseline =
    row.baseline === undefined ? '' : `${formatNumber(row.baseline)} ${unit} (${row.baselineLabel ?? ''})`;
  const value = row.error
    ? 'ERROR'
    : row.value === undefined
      ? ''
      : `${formatNumber(row.value)} ${unit}${row.valueLabel ? ` (${row.valueLabel})` : ''}`;
  const ratio = row.ratio === undefined ? '' : `${(row.ratio * 100).toFixed(0)}%`;
  const result = row.error ? 'error' : row.pass === undefined ? '' : row.pass ? 'pass' : 'MISS';
  return [row.metric, baseline, value, ratio, row.target ?? '', result];
}

/** Plain-text table for the terminal, columns padded to their widest cell. */
export function textTable(rows: ResultRow[]): string {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(rows: ResultRow[]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  return [
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i >= 1 && i <= 3 ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
  ].join('\n');
}

/**
 * One row per service: the highest VmHWM over every process of it the run started (the target is on the
 * peak), and the median RSS under the end-to-end step's steady load.
 */
export function memoryRows(memory: ServiceMemory[], limitMiB: number): ResultRow[] {
  const services = [...new Set(memory.map((m) => m.service))];
  return services.map((service) => {
    const mine = memory.filter((m) => m.service === service);
    const peak = Math.max(...mine.map((m) => m.peakMiB));
    const steady = mine
      .filter((m) => m.steadyMiB !== undefined)
      .map((m) => `${formatNumber(m.steadyMiB!, 0)} MiB in ${m.step}`);
    const worst = mine.find((m) => m.peakMiB === peak);
    return {
      metric: `RSS ${service} (peak VmHWM, in ${worst?.step ?? '?'}${steady.length === 0 ? '' : `; steady ${steady.join(', ')}`})`,
      unit: 'MiB',
      value: peak,
      target: `≤ ${limitMiB} MiB`,
      pass: peak <= limitMiB,
    };
  });
}

export function memoryDetail(memory: ServiceMemory[]): string {
  return [
    '| step | service | peak VmHWM | median RSS (whole run) | steady RSS (e2e window) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...memory.map((m) => {
      const rss = m.samples.map((s) => s.rssMiB).sort((a, b) => a - b);
      const med = rss[Math.floor(rss.length / 2)];
      return `| ${m.step} | ${m.service} | ${formatNumber(m.peakMiB, 0)} MiB | ${med === undefined ? 'n/a' : `${formatNumber(med, 0)} MiB`} | ${m.steadyMiB === undefined ? '' : `${formatNumber(m.steadyMiB, 0)} MiB`} |`;
    }),
  ].join('\n');
}

export interface ReportInput {
  startedAt: Date;
  seconds: number;
  facts: MachineFacts;
  loadBefore: number;
  loadAfter: number;
  settings: string[];
  overrides: Record<string, string>;
  rows: ResultRow[];
  details: string[];
  memory: ServiceMemory[];
  errors: string[];
  profiles: string[];
}

export function markdownReport(r: ReportInput): string {
  const f = r.facts;
  const overrides = Object.entries(r.overrides);
  return [
    '# gridstream benchmark — latest run',
    '',
    `Command: \`make bench\` (\`node bench/dist/run-all.js\`), ${r.startedAt.toISOString()}, ${formatNumber(r.seconds, 0)} s.`,
    '',
    `Machine: ${f.cores} cores (${f.cpuModel}), ${f.memoryGiB} GiB; Node ${f.node}; Kafka ${f.kafka}; RabbitMQ ${f.rabbitmq}; InfluxDB ${f.influxdb}. ` +
      `Load average (1 min) ${formatNumber(r.loadBefore)} before, ${formatNumber(r.loadAfter)} after.`,
    '',
    overrides.length === 0
      ? 'Service settings: defaults (no tuning variables set).'
      : `Service settings: defaults except ${overrides.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`,
    '',
    ...r.settings.map((s) => `- ${s}`),
    '',
    markdownTable(r.rows),
    '',
    '## Details',
    '',
    ...r.details.map((d) => `- ${d}`),
    '',
    '## Memory per service process',
    '',
    memoryDetail(r.memory),
    '',
    ...(r.errors.length > 0
      ? ['## Errors', '', ...r.errors.map((e) => `- ${e.replaceAll('\n', '\n  ')}`), '']
      : []),
    ...(r.profiles.length > 0 ? ['## CPU profiles (BENCH_CPU_PROF=1)', '', ...r.profiles] : []),
  ].join('\n');
}
