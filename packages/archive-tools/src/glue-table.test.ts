import type { Table } from '@aws-sdk/client-glue';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { diffTable, expectedTableInput, PARQUET_SERDE } from './glue-table.js';

const spec = { database: 'gridstream', table: 'telemetry', bucket: 'archive-bucket', prefix: 'telemetry' };

describe('Glue table definition', () => {
  it('is generated from ARCHIVE_COLUMNS with Parquet SerDe and dt projection', () => {
    const t = expectedTableInput(spec);
    expect(t.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type])).toEqual(
      ARCHIVE_COLUMNS.map((c) => [c.name, c.glue]),
    );
    expect(t.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(t.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(PARQUET_SERDE);
    expect(t.StorageDescriptor?.Location).toBe('s3://archive-bucket/telemetry/');
    expect(t.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `s3://archive-bucket/telemetry/dt=\${dt}/`,
    });
  });

  it('reports what differs in a table someone changed, ignoring parameters it does not own', () => {
    const expected = expectedTableInput(spec);
    const actual: Table = {
      ...(expected as Table),
      Name: 'telemetry',
      Parameters: { ...expected.Parameters, 'projection.dt.range': '2023-01-01,NOW', owner: 'ops' },
      StorageDescriptor: {
        ...expected.StorageDescriptor,
        Columns: expected.StorageDescriptor!.Columns!.slice(0, -1),
      },
    };
    const diff = diffTable(actual, expected);
    expect(diff).toHaveLength(2);
    expect(diff[0]).toMatch(/^columns: is ".*kafka_partition int", expected ".*kafka_offset bigint"$/);
    expect(diff[1]).toBe('parameter projection.dt.range: is "2023-01-01,NOW", expected "2020-01-01,NOW"');
    expect(diffTable(expected as Table, expected)).toEqual([]);
  });
});
