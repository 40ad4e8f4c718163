import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ObjectStore, PARQUET_CONTENT_TYPE } from '@gridstream/archive';
import type { InfluxConfig } from '@gridstream/influx';
import { encodeNamePart, exportKey } from './archive-keys.js';
import { CSV_CONTENT_TYPE, ExportDestinationError } from './export-destination.js';
import { ExportStaging } from './export-staging.js';
import { queryInfluxChunked } from './influx-chunked-query.js';
import { type ConversionStats, type ExportRow, newConversionStats, seriesToRows } from './influx-rows.js';
import type { ProgressBar } from './progress.js';
import { DAY_MS, HOUR_MS, timeWindows, utcDate, utcDateIn, zonedMidnight } from './time-range.js';

/**
 * Backfill / export from InfluxDB: reads raw points window by window (an hour by default) and writes,
 * per day and measurement, either an archive Parquet file (same layout and columns as the archiver's,
 * named `dt=<day>/export+<measurement>+<from>+<to>.parquet` after what it covers) or a daily CSV
 * (`<dir>/<measurement>/<YYYY-MM-DD>.csv`, or the object `<measurement>/<YYYY-MM-DD>.csv` under a bucket's
 * prefix). Names depend only on the range and the content is sorted, so running the same export twice
 * leaves the same files (a put replaces an object of the same name).
 *
 * A store that cannot be written fails the export with an ExportDestinationError: at the start, before
 * InfluxDB is read, or at the first failed upload, naming the files stored before it. Nothing is skipped.
 */

export type ExportFormat = 'archive' | 'csv';

export interface ExportOptions {
  influx: InfluxConfig;
  fromMs: number;
  toMs: number;
  format: ExportFormat;
  /** Only these measurements (default: all). */
  measurements?: readonly string[];
  /** Destination of archive files: the archive's object store (local folder or S3). */
  store?: ObjectStore;
  /** Destination folder of CSV files. */
  csvDir?: string;
  /**
   * Destination of CSV files in an object store (a bucket's prefix): each day's file is written as for
   * csvDir, to a temporary folder, then uploaded as `<measurement>/<YYYY-MM-DD>.csv`. Wins over csvDir.
   */
  csvStore?: ObjectStore;
  /** Day boundaries of CSV files (IANA zone, default UTC). Archive days are always UTC: dt is a UTC date. */
  timeZone?: string;
  windowMs?: number;
  chunkSize?: number;
  progress?: ProgressBar;
  /**
   * Called for every file written, with its name as listed in `files` (archive key, CSV path or CSV object
   * URL) and its row (archive) / line (csv) count.
   */
  onFile?: (name: string, count: number) => void;
}

export interface ExportSummary extends ConversionStats {
  /** Archive keys (relative to the archive), CSV paths, or CSV object URLs (`s3://bucket/prefix/m/d.csv`). */
  files: string[];
  days: number;
}

/** `"name"` for InfluxQL. */
function quoteMeasurement(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const APPEND_BATCH = 50_000;

export async function exportFromInflux(options: ExportOptions): Promise<ExportSummary> {
  const { fromMs, toMs, format } = options;
  if (!(fromMs < toMs)) throw new Error('export: --from must be before --to');
  if (format === 'archive' && options.store === undefined) throw new Error('export: no archive destination');
  if (format === 'csv' && options.csvDir === undefined && options.csvStore === undefined)
    throw new Error('export: no CSV destination');
  const timeZone = format === 'archive' ? 'UTC' : (options.timeZone ?? 'UTC');
  const windowMs = options.windowMs ?? HOUR_MS;
  const from =
    options.measurements && options.measurements.length > 0
      ? options.measurements.map(quoteMeasurement).join(', ')
      : '/.*/';

  const stats = newConversionStats();
  const files: string[] = [];
  const store = format === 'archive' ? options.store : options.csvStore;
  // Fail on an unwritable destination before reading anything from InfluxDB.
  if (store !== undefined) {
    try {
      await store.ensureReady();
    } catch (error) {
      throw new ExportDestinationError(store.location, undefined, [], error);
    }
  }
  /** Puts a finished file; a failure names the files stored before it. */
  const putFile = async (key: string, listed: string, tmp: string, contentType: string) => {
    try {
      // An atomic put that replaces an object of the same name: that is the idempotency.
      await store!.putFile(key, tmp, contentType);
    } catch (error) {
      throw new ExportDestinationError(store!.location, listed, [...files], error);
    }
  };
  const staging = await ExportStaging.open();
  const work = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  let days = 0;
  try {
    for (const day of daysOf(fromMs, toMs, timeZone)) {
      days++;
      for (const [start, end] of timeWindows(day.start, day.end, windowMs)) {
        const q = `SELECT * FROM ${from} WHERE time >= ${start}ms AND time < ${end}ms GROUP BY *`;
        let batch: ExportRow[] = [];
        for await (const series of queryInfluxChunked(options.influx, q, options.chunkSize)) {
          seriesToRows(series, batch, stats);
          if (batch.length >= APPEND_BATCH) {
            await staging.append(batch);
            batch = [];
          }
          options.progress?.update((start - fromMs) / (toMs - fromMs), stats.rows);
        }
        await staging.append(batch);
        options.progress?.update((end - fromMs) / (toMs - fromMs), stats.rows);
      }
      for (const measurement of await staging.measurements(day.start, day.end)) {
        if (format === 'archive') {
          const key = exportKey(day.date, measurement, day.start, day.end);
          const tmp = join(work, `${files.length}.parquet`);
          const n = await staging.writeParquet(measurement, day.start, day.end, tmp);
          await putFile(key, key, tmp, PARQUET_CONTENT_TYPE);
          await rm(tmp, { force: true });
          files.push(key);
          options.onFile?.(key, n);
        } else if (options.csvStore !== undefined) {
          // The same writer as for a folder, so an object has the bytes the local file would have.
          const key = `${encodeNamePart(measurement)}/${day.date}.csv`;
          const url = `${options.csvStore.location}${key}`;
          const tmp = join(work, `${files.length}.csv`);
          const n = await staging.writeCsv(measurement, day.start, day.end, tmp);
          await putFile(key, url, tmp, CSV_CONTENT_TYPE);
          await rm(tmp, { force: true });
          files.push(url);
          options.onFile?.(url, n);
        } else {
          const path = join(options.csvDir!, encodeNamePart(measurement), `${day.date}.csv`);
          const n = await staging.writeCsv(measurement, day.start, day.end, path);
          files.push(path);
          options.onFile?.(path, n);
        }
      }
      await staging.dropBefore(day.end);
    }
    options.progress?.update(1, stats.rows, true);
  } finally {
    options.progress?.done();
    staging.close();
    await rm(work, { recursive: true, force: true });
  }
  return { ...stats, files, days };
}

interface Day {
  /** Calendar date in the zone: the file's day. */
  date: string;
  /** [start, end) of the day clipped to the export range. */
  start: number;
  end: number;
}

/** The days (in `timeZone`) that [fromMs, toMs) touches, each clipped to the range. */
export function* daysOf(fromMs: number, toMs: number, timeZone: string): Generator<Day> {
  let date = timeZone === 'UTC' ? utcDate(fromMs) : utcDateIn(timeZone, fromMs);
  for (;;) {
    const dayStart = timeZone === 'UTC' ? Date.parse(`${date}T00:00:00Z`) : zonedMidnight(date, timeZone);
    const next = utcDate(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
    const dayEnd = timeZone === 'UTC' ? Date.parse(`${next}T00:00:00Z`) : zonedMidnight(next, timeZone);
    const start = Math.max(fromMs, dayStart);
    const end = Math.min(toMs, dayEnd);
    if (start < end) yield { date, start, end };
    if (dayEnd >= toMs) return;
    date = next;
  }
}
