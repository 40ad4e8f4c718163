import {
  escapeMeasurement,
  escapeTag,
  formatFloat,
  type InfluxConfig,
  type InfluxSeries,
  type InfluxSink,
  queryInflux,
} from '@gridstream/influx';
import {
  compileGlob,
  type Fence,
  type Fences,
  type FieldRule,
  iqrFences,
  isGlob,
  seriesKey,
} from '@gridstream/quality';

/**
 * The anomaly fences job: for every field rule with `anomaly`, read the window of history from InfluxDB
 * per series (site, device, rack), compute the IQR fences, keep them for the stage and write them to the
 * `quality_fences` measurement so Grafana can draw them next to the values.
 */

export const FENCES_MEASUREMENT = 'quality_fences';

export interface FenceJobOptions {
  influx: InfluxConfig;
  rules: readonly FieldRule[];
  /** InfluxQL duration, e.g. `7d`. */
  window: string;
  /** InfluxQL duration for mean-resampling before the quantiles; '' = raw values. */
  resample: string;
  minSamples: number;
}

export interface ComputedFence extends Fences {
  site: string;
  equipment: string;
  device: string;
  rack?: string;
  field: string;
}

const quote = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export async function computeFences(opts: FenceJobOptions): Promise<ComputedFence[]> {
  const out: ComputedFence[] = [];
  const done = new Set<string>();
  // The last matching rule decides a field's k, as for every other check.
  for (const rule of [...opts.rules].reverse()) {
    if (!rule.anomaly) continue;
    for (const measurement of await measurementsFor(opts.influx, rule.patterns.equipment)) {
      const fields = (await floatFields(opts.influx, measurement)).filter((f) => rule.field(f));
      if (fields.length === 0) continue;
      const select = fields
        .map((f) => (opts.resample ? `MEAN(${quote(f)}) AS ${quote(f)}` : quote(f)))
        .join(', ');
      const groupBy = opts.resample
        ? `time(${opts.resample}), "site", "device", "rack"`
        : `"site", "device", "rack"`;
      const q = `SELECT ${select} FROM ${quote(measurement)} WHERE time > now() - ${opts.window} GROUP BY ${groupBy}${opts.resample ? ' fill(none)' : ''}`;
      for (const series of await queryInflux(opts.influx, q)) {
        const site = series.tags.site ?? '';
        const device = series.tags.device ?? '';
        const rack = series.tags.rack || undefined;
        if (!site || !device) continue;
        if (rule.device && !rule.device(device)) continue;
        if (rule.rackless && rack !== undefined) continue;
        if (rule.rack && (rack === undefined || !rule.rack(rack))) continue;
        for (const field of fields) {
          const key = seriesKey({ site, equipment: measurement, device, rack }, field);
          if (done.has(key)) continue;
          const values = column(series, field);
          if (values.length < opts.minSamples) continue;
          const fences = iqrFences(values, rule.anomaly.k);
          if (!fences) continue;
          done.add(key);
          const c: ComputedFence = { ...fences, site, equipment: measurement, device, field };
          if (rack !== undefined) c.rack = rack;
          out.push(c);
        }
      }
    }
  }
  return out;
}

async function measurementsFor(influx: InfluxConfig, pattern: string): Promise<string[]> {
  if (!isGlob(pattern)) return [pattern];
  const match = compileGlob(pattern);
  const series = await queryInflux(influx, 'SHOW MEASUREMENTS');
  return series
    .flatMap((s) => s.values.map((row) => String(row[0])))
    .filter((m) => m !== FENCES_MEASUREMENT && m !== 'alarms' && match(m));
}

async function floatFields(influx: InfluxConfig, measurement: string): Promise<string[]> {
  const series = await queryInflux(influx, `SHOW FIELD KEYS FROM ${quote(measurement)}`);
  const out: string[] = [];
  for (const s of series) {
    for (const [key, type] of s.values) {
      if (type === 'float' && typeof key === 'string') out.push(key);
    }
  }
  return out;
}

function column(series: InfluxSeries, field: string): number[] {
  const index = series.columns.indexOf(field);
  if (index < 0) return [];
  const values: number[] = [];
  for (const row of series.values) {
    const v = row[index];
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
  }
  return values;
}

/** Line protocol for the fences (point time = when they were computed). */
export function fenceLines(fences: readonly ComputedFence[], atMs: number): string[] {
  return fences.map((f) => {
    let tags = `,device=${escapeTag(f.device)},equipment=${escapeTag(f.equipment)},field=${escapeTag(f.field)}`;
    if (f.rack !== undefined) tags += `,rack=${escapeTag(f.rack)}`;
    tags += `,site=${escapeTag(f.site)}`;
    const values = [
      `lower=${formatFloat(f.lower)}`,
      `upper=${formatFloat(f.upper)}`,
      `q1=${formatFloat(f.q1)}`,
      `q3=${formatFloat(f.q3)}`,
      `k=${formatFloat(f.k)}`,
      `count=${formatFloat(f.count)}`,
    ].join(',');
    return `${escapeMeasurement(FENCES_MEASUREMENT)}${tags} ${values} ${atMs}`;
  });
}

export function fenceMap(fences: readonly ComputedFence[]): Map<string, Fence> {
  const map = new Map<string, Fence>();
  for (const f of fences) map.set(seriesKey(f, f.field), { lower: f.lower, upper: f.upper });
  return map;
}

/** One run: compute, write, return the map for the stage. */
export async function runFenceJob(opts: FenceJobOptions, sink: InfluxSink, now = Date.now()) {
  const fences = await computeFences(opts);
  await sink.write(fenceLines(fences, now));
  return { fences, map: fenceMap(fences) };
}
