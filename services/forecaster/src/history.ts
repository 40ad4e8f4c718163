import type { RegularSeries } from '@gridstream/forecast';
import { type InfluxConfig, queryInflux } from '@gridstream/influx';
import type { SeriesConfig } from './forecast-series-config.js';

const quoteIdent = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const quoteString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The series' mean per step over the window [end − historySteps·step, end), end on a step boundary, read
 * from InfluxDB (`GROUP BY time(step)`, buckets aligned to the epoch like the window). An empty step is NaN:
 * the models carry a gap instead of closing it up. A device without a rack reads the points that have no
 * rack tag (`"rack" = ''`), so a bank's own readings never mix with its racks'.
 */
export async function readHistory(
  influx: InfluxConfig,
  s: SeriesConfig,
  now: number,
): Promise<RegularSeries> {
  const end = Math.floor(now / s.stepMs) * s.stepMs;
  const start = end - s.historySteps * s.stepMs;
  const where = [
    `"site" = ${quoteString(s.site)}`,
    `"device" = ${quoteString(s.device)}`,
    `"rack" = ${quoteString(s.rack ?? '')}`,
    `time >= ${start}ms`,
    `time < ${end}ms`,
  ].join(' AND ');
  const [series] = await queryInflux(
    influx,
    `SELECT mean(${quoteIdent(s.field)}) FROM ${quoteIdent(s.equipment)} WHERE ${where} GROUP BY time(${s.stepMs}ms) fill(none)`,
  );
  const values = new Array<number>(s.historySteps).fill(Number.NaN);
  for (const [ts, value] of series?.values ?? []) {
    const i = Math.round(((ts as number) - start) / s.stepMs);
    if (i >= 0 && i < values.length && typeof value === 'number') values[i] = value;
  }
  return { start, step: s.stepMs, values };
}
