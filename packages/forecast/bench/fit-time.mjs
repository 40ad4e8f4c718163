#!/usr/bin/env node
/**
 * Wall time of one fit on a whole series, per model (docs/forecast.md, "Fit time"): the median of --runs
 * fits after one warm-up fit (the first call also pays for the JIT).
 *
 *   npx tsc -b packages/forecast
 *   node packages/forecast/bench/fit-time.mjs --file F --time-column C --value-column C --step 1h --period 24,168
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..', '..', '..');
const forecast = await import(join(root, 'packages/forecast/dist/index.js'));

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    'time-column': { type: 'string' },
    'value-column': { type: 'string' },
    step: { type: 'string' },
    period: { type: 'string' },
    runs: { type: 'string', default: '7' },
  },
});
const lines = readFileSync(values.file, 'utf8').trim().split(/\r?\n/);
const header = lines[0].split(',');
const t = header.indexOf(values['time-column']);
const v = header.indexOf(values['value-column']);
const points = lines.slice(1).map((line) => {
  const cells = line.split(',');
  const time = /^\d{4}-\d{2}-\d{2}$/.test(cells[t]) ? `${cells[t]}T00:00:00Z` : cells[t];
  return { ts: Date.parse(time), value: cells[v] === '' ? Number.NaN : Number(cells[v]) };
});
const step = values.step ? forecast.parseStep(values.step) : forecast.inferStep(points.map((p) => p.ts));
const series = forecast.resample(points, { step });
const periods = values.period.split(',').map(Number);
const models = [
  forecast.holtWinters({ periods }),
  ...(periods.length > 1 ? [forecast.holtWinters({ periods: [periods[0]] })] : []),
  forecast.seasonalNaive(Math.max(...periods)),
  forecast.seasonalNaive(1),
];
const runs = Number(values.runs);
process.stdout.write(
  `${values['value-column']}: ${series.values.length} values at ${forecast.formatStep(step)}\n`,
);
for (const model of models) {
  model.fit(series);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    model.fit(series);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  process.stdout.write(`  ${model.label.padEnd(12)} ${median.toFixed(2)} ms (median of ${runs})\n`);
}
