import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { sqlIdentifier, sqlString } from './duckdb-engine.js';
import { EXPORT_TS_TYPE } from './export-staging.js';

/**
 * Test helper: writes archive files with DuckDB in the archive layout (ARCHIVE_COLUMNS types, zstd), so
 * tests can build a known archive — including ones the archiver would never write (gaps, duplicates).
 */

export interface FixtureRow {
  ts: string;
  site: string;
  equipment: string;
  device: string;
  rack?: string | null;
  field: string;
  value: number;
  isFlag?: boolean;
  quality?: string | null;
  partition: number;
  offset: number;
}

function literal(row: FixtureRow, column: string): string {
  switch (column) {
    case 'ts':
      return sqlString(row.ts.replace('T', ' ').replace('Z', ''));
    case 'rack':
      return row.rack == null ? 'NULL' : sqlString(row.rack);
    case 'quality':
      return row.quality == null ? 'NULL' : sqlString(row.quality);
    case 'value':
      return Number.isInteger(row.value) ? `${row.value}.0` : String(row.value);
    case 'is_flag':
      return row.isFlag ? 'true' : 'false';
    case 'kafka_partition':
      return String(row.partition);
    case 'kafka_offset':
      return String(row.offset);
    default:
      return sqlString(String((row as unknown as Record<string, unknown>)[column]));
  }
}

/** Writes `rows` to `<root>/<key>` as one Parquet file. */
export async function writeFixtureFile(
  root: string,
  key: string,
  rows: readonly FixtureRow[],
): Promise<string> {
  const path = join(root, key);
  await mkdir(dirname(path), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    // The archiver's Parquet types: ts UTC-adjusted (TIMESTAMPTZ), read as UTC.
    await c.run(`SET TimeZone = 'UTC'`);
    const cols = ARCHIVE_COLUMNS.map(
      (col) => `${sqlIdentifier(col.name)} ${col.name === 'ts' ? EXPORT_TS_TYPE : col.duckdb}`,
    ).join(', ');
    await c.run(`CREATE TABLE t (${cols})`);
    for (let i = 0; i < rows.length; i += 500) {
      const values = rows
        .slice(i, i + 500)
        .map((r) => `(${ARCHIVE_COLUMNS.map((col) => literal(r, col.name)).join(', ')})`)
        .join(', ');
      await c.run(`INSERT INTO t VALUES ${values}`);
    }
    await c.run(`COPY t TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
  return path;
}
