import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetEngine } from './parquet-writer.js';
import { type ArchiveRow, recordToRows } from './record-rows.js';
import { testRecord } from './test-records.fixture.js';

let dir: string;
let engine: ParquetEngine;
let reader: Awaited<ReturnType<DuckDBInstance['connect']>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-parquet-'));
  engine = await ParquetEngine.create({ tempDirectory: join(dir, 'spill') });
  // A separate DuckDB reads the files back, with a session time zone far from UTC: a writer that
  // shifted timestamps by the host's zone would show here.
  reader = await (await DuckDBInstance.create(':memory:')).connect();
  await reader.run(`SET TimeZone = 'Asia/Seoul'`);
});
afterAll(async () => {
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const rowsOf = (from: number, to: number, partition = 2) =>
  Array.from({ length: to - from }, (_, k) => from + k).flatMap((i) =>
    recordToRows(testRecord(i), partition, BigInt(1_000_000_000_000 + i)),
  );

async function readBack(path: string) {
  const result = await reader.runAndReadAll(
    `SELECT epoch_ms(ts) AS ts_ms, site, equipment, device, rack, field, value, is_flag, quality,
            kafka_partition, kafka_offset FROM read_parquet('${path}')`,
  );
  return result.getRowObjects().map((r) => ({
    ts: Number(r.ts_ms),
    site: r.site,
    equipment: r.equipment,
    device: r.device,
    rack: r.rack,
    field: r.field,
    value: r.value,
    is_flag: r.is_flag,
    quality: r.quality,
    kafka_partition: r.kafka_partition,
    kafka_offset: r.kafka_offset,
  })) as ArchiveRow[];
}

const sortRows = (rows: ArchiveRow[]) =>
  [...rows].sort((a, b) =>
    a.kafka_offset !== b.kafka_offset
      ? Number(a.kafka_offset - b.kafka_offset)
      : a.field < b.field
        ? -1
        : a.field > b.field
          ? 1
          : Number(a.is_flag) - Number(b.is_flag),
  );

describe('ParquetEngine', () => {
  it('writes exactly the rows it was given: every value, null, string and timestamp as it was', async () => {
    const rows = rowsOf(0, 3_000);
    const info = await engine.writeRows(rows, join(dir, 'a.parquet'));
    expect(info.rows).toBe(rows.length);
    expect(info.bytes).toBeGreaterThan(0);
    const back = await readBack(info.path);
    expect(sortRows(back)).toEqual(sortRows(rows));
    // Rows come out in Kafka offset order (row-group statistics then narrow offset ranges for verify).
    const offsets = back.map((r) => r.kafka_offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => Number(a - b)));
  });

  it('has the ARCHIVE_COLUMNS columns in order, zstd, and a UTC-adjusted timestamp', async () => {
    const path = join(dir, 'schema.parquet');
    await engine.writeRows(rowsOf(0, 10), path);
    const described = await reader.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    const columns = described.getRowObjects().map((r) => [r.column_name, r.column_type]);
    expect(columns).toEqual(
      ARCHIVE_COLUMNS.map((c) => [c.name, c.name === 'ts' ? 'TIMESTAMP WITH TIME ZONE' : c.duckdb]),
    );
    const meta = await reader.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(meta.getRows().flat()).toEqual(['ZSTD']);
    const schema = await reader.runAndReadAll(
      `SELECT logical_type FROM parquet_schema('${path}') WHERE name = 'ts'`,
    );
    expect(String(schema.getRows()[0]![0])).toMatch(/isAdjustedToUTC=1/);
  });

  it('keeps several files open at once and writes each with only its own rows', async () => {
    const files = await Promise.all([engine.openFile(), engine.openFile(), engine.openFile()]);
    const expected: ArchiveRow[][] = [[], [], []];
    // Interleaved appends, crossing the 2,048-row chunk size several times.
    for (let i = 0; i < 1_500; i++) {
      const rows = recordToRows(testRecord(i), i % 3, BigInt(i));
      files[i % 3]!.append(rows);
      expected[i % 3]!.push(...rows);
    }
    expect(files.map((f) => f.rows)).toEqual(expected.map((e) => e.length));
    expect(files[0]!.rawBytes).toBeGreaterThan(files[0]!.rows * 40);
    const infos = await Promise.all(files.map((f, k) => f.writeTo(join(dir, `multi-${k}.parquet`))));
    for (let k = 0; k < 3; k++) {
      expect(infos[k]!.rows).toBe(expected[k]!.length);
      expect(sortRows(await readBack(infos[k]!.path))).toEqual(sortRows(expected[k]!));
    }
  });

  it('discard() frees an open file without writing it; a written file cannot be written again', async () => {
    const file = await engine.openFile();
    file.append(rowsOf(0, 5));
    await file.discard();
    await expect(file.writeTo(join(dir, 'never.parquet'))).rejects.toThrow(/already written or discarded/);
  });

  it('learns the compression ratio from big files, so the size estimate tracks reality', async () => {
    const fresh = await ParquetEngine.create({ initialCompressionRatio: 0.9 });
    try {
      const before = fresh.estimateParquetBytes(1_000_000);
      const info = await fresh.writeRows(rowsOf(0, 40_000), join(dir, 'big.parquet'));
      expect(info.rawBytes).toBeGreaterThan(1024 * 1024);
      const after = fresh.estimateParquetBytes(1_000_000);
      expect(after).toBeLessThan(before);
      // The next estimate for the same rows is closer to the real size than the first guess was.
      const guess = fresh.estimateParquetBytes(info.rawBytes);
      expect(Math.abs(guess - info.bytes)).toBeLessThan(Math.abs(info.rawBytes * 0.9 - info.bytes));
    } finally {
      fresh.close();
    }
  });
});
