import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ParquetEngine } from '@gridstream/archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from './duckdb-engine.js';
import { ExportStaging } from './export-staging.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-staging-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function describeParquet(path: string) {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    const r = await c.runAndReadAll(
      `SELECT name, type, converted_type, logical_type FROM parquet_schema(${sqlString(path)}) ORDER BY column_id`,
    );
    const compression = await c.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path)})`,
    );
    return { columns: r.getRowObjectsJS(), compression: compression.getRowsJS().flat() };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('export files', () => {
  it('have exactly the Parquet schema and compression of the archiver writer', async () => {
    const engine = await ParquetEngine.create({ threads: 1 });
    const archived = join(dir, 'archiver.parquet');
    await engine.writeRows(
      [
        {
          ts: Date.parse('2024-03-01T10:00:00.123Z'),
          site: 's1',
          equipment: 'battery',
          device: 'bank',
          rack: '1',
          field: 'soc',
          value: 55.5,
          is_flag: false,
          quality: 'bad',
          kafka_partition: 0,
          kafka_offset: 7n,
        },
      ],
      archived,
    );
    engine.close();

    const staging = await ExportStaging.open();
    const exported = join(dir, 'export.parquet');
    await staging.append([
      {
        tsMs: Date.parse('2024-03-01T10:00:00.123Z'),
        equipment: 'battery',
        site: 's1',
        device: 'bank',
        rack: '1',
        field: 'soc',
        value: 55.5,
        isFlag: false,
        quality: 'bad',
      },
    ]);
    expect(await staging.writeParquet('battery', 0, Date.parse('2025-01-01T00:00:00Z'), exported)).toBe(1);
    staging.close();

    expect(await describeParquet(exported)).toEqual(await describeParquet(archived));
  });
});
