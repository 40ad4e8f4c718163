import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from './import-files.js';
import { CountingSink } from './sink.js';
import { writeSyntheticCsv } from './synthetic-csv.js';

/**
 * A 1 GiB CSV of the reference shape (36 columns, quoted DTC) imported with flat memory: the reader must
 * stream, never hold the file. The sink only counts — memory of the reading side is what is tested here;
 * throughput into Kafka is measured by bench/src/import-bench.ts.
 *
 * The file is made by writeSyntheticCsv (lean, ~10 s for 1 GiB). IMPORT_LARGE_MIB changes the size (default 1024).
 */
const MiB = 1024 * 1024;
const TARGET_BYTES = Number(process.env.IMPORT_LARGE_MIB ?? 1024) * MiB;
const PEAK_RSS_LIMIT = 300 * MiB;

let dir: string;
let path: string;
let rowsWritten = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-import-large-'));
  path = join(dir, 'large.csv');
  const started = Date.now();
  rowsWritten = (await writeSyntheticCsv(path, { bytes: TARGET_BYTES })).rows;
  const size = (await stat(path)).size;
  console.log(
    `large-file: wrote ${rowsWritten} rows, ${(size / MiB).toFixed(0)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a 1 GiB CSV', () => {
  it('is imported row for row with peak RSS under 300 MiB', async () => {
    global.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 50);
    const sink = new CountingSink();
    let progressReports = 0;
    const started = Date.now();
    try {
      const summary = await importFiles(
        {
          files: [path],
          timeColumn: 'RECORD_TIME',
          valueColumns: 'DRIVE_SPEED|RPM',
          deviceColumn: 'PHONE_NUM',
          site: 'large',
          equipment: 'vehicle',
        },
        sink,
        () => {
          progressReports++;
          peak = Math.max(peak, process.memoryUsage.rss());
        },
      );
      const seconds = (Date.now() - started) / 1000;
      peak = Math.max(peak, process.memoryUsage.rss());
      console.log(
        `large-file: ${summary.rowsSent} rows in ${seconds.toFixed(1)} s (${Math.round(summary.rowsSent / seconds)} rows/s); ` +
          `RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB ` +
          `(+${((peak - baseline) / MiB).toFixed(0)} MiB); ${progressReports} progress reports`,
      );
      expect(summary.rowsRead).toBe(rowsWritten);
      expect(summary.rowsSent).toBe(rowsWritten);
      expect(summary.rowsRejected).toBe(0);
      expect(sink.samples).toBe(rowsWritten);
      expect(sink.messages).toBe(Math.ceil(rowsWritten / 500));
      expect(peak).toBeLessThan(PEAK_RSS_LIMIT);
      // At most ~10 reports per second (plus the final one).
      expect(progressReports).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
    } finally {
      clearInterval(sampler);
    }
  }, 600_000);
});
