import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetTableCommand,
  type GlueClient,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { normalizePrefix } from '@gridstream/archive';
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITION } from '@gridstream/schema';

/**
 * The Glue table over the archive, generated from ARCHIVE_COLUMNS (the one definition of the layout).
 * Partition projection on `dt` lets Athena compute the partitions from the query's WHERE clause, so a new
 * day's folder is queryable the moment its first file lands: no crawler, no MSCK REPAIR, no AddPartition.
 */

export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

export interface GlueTableSpec {
  database: string;
  table: string;
  bucket: string;
  prefix: string;
  /** First day of the projected range; days before it are invisible to Athena. */
  projectionStart?: string;
}

export const DEFAULT_PROJECTION_START = '2020-01-01';

/** The `s3://bucket/prefix/` the table (and every partition) lives under. */
export function tableLocation(spec: Pick<GlueTableSpec, 'bucket' | 'prefix'>): string {
  return `s3://${spec.bucket}/${normalizePrefix(spec.prefix)}`;
}

/** Table parameters this tool owns; any other parameter on an existing table is left alone. */
export function tableParameters(spec: GlueTableSpec): Record<string, string> {
  const dt = ARCHIVE_PARTITION.name;
  return {
    EXTERNAL: 'TRUE',
    classification: 'parquet',
    'parquet.compression': 'ZSTD',
    'projection.enabled': 'true',
    [`projection.${dt}.type`]: 'date',
    [`projection.${dt}.format`]: ARCHIVE_PARTITION.format,
    [`projection.${dt}.range`]: `${spec.projectionStart ?? DEFAULT_PROJECTION_START},NOW`,
    [`projection.${dt}.interval`]: '1',
    [`projection.${dt}.interval.unit`]: 'DAYS',
    // Literal `${dt}`: Athena substitutes the projected value into the template.
    'storage.location.template': `${tableLocation(spec)}${dt}=\${${dt}}/`,
  };
}

export function expectedTableInput(spec: GlueTableSpec): TableInput {
  return {
    Name: spec.table,
    Description: 'gridstream telemetry archive: one row per reading or status flag (long layout)',
    TableType: 'EXTERNAL_TABLE',
    Parameters: tableParameters(spec),
    PartitionKeys: [
      { Name: ARCHIVE_PARTITION.name, Type: ARCHIVE_PARTITION.glue, Comment: 'UTC date of ts' },
    ],
    StorageDescriptor: {
      Columns: ARCHIVE_COLUMNS.map((c) => ({
        Name: c.name,
        Type: c.glue,
        Comment: c.description.slice(0, 255),
      })),
      Location: tableLocation(spec),
      InputFormat: PARQUET_INPUT_FORMAT,
      OutputFormat: PARQUET_OUTPUT_FORMAT,
      Compressed: false,
      SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
    },
  };
}

/** Human-readable differences between a table in Glue and the expected definition (empty: same). */
export function diffTable(actual: Table, expected: TableInput): string[] {
  const out: string[] = [];
  const cmp = (what: string, a: unknown, e: unknown) => {
    if (a !== e) out.push(`${what}: is ${JSON.stringify(a ?? null)}, expected ${JSON.stringify(e ?? null)}`);
  };
  const cols = (list: { Name?: string; Type?: string }[] | undefined) =>
    (list ?? []).map((c) => `${c.Name} ${c.Type?.toLowerCase()}`).join(', ');
  cmp('table type', actual.TableType, expected.TableType);
  cmp('columns', cols(actual.StorageDescriptor?.Columns), cols(expected.StorageDescriptor?.Columns));
  cmp('partition keys', cols(actual.PartitionKeys), cols(expected.PartitionKeys));
  cmp('location', actual.StorageDescriptor?.Location, expected.StorageDescriptor?.Location);
  cmp('input format', actual.StorageDescriptor?.InputFormat, expected.StorageDescriptor?.InputFormat);
  cmp('output format', actual.StorageDescriptor?.OutputFormat, expected.StorageDescriptor?.OutputFormat);
  cmp(
    'serde',
    actual.StorageDescriptor?.SerdeInfo?.SerializationLibrary,
    expected.StorageDescriptor?.SerdeInfo?.SerializationLibrary,
  );
  for (const [key, value] of Object.entries(expected.Parameters ?? {})) {
    cmp(`parameter ${key}`, actual.Parameters?.[key], value);
  }
  return out;
}

export type TableAction = 'created' | 'updated' | 'unchanged' | 'differs';

export interface EnsureTableResult {
  database: 'created' | 'exists';
  table: TableAction;
  /** What differed from the expected definition before an update (or, with `update: false`, still does). */
  differences: string[];
}

export interface EnsureTableOptions {
  /**
   * What to do with an existing table that differs. true (default): update it to the expected definition,
   * keeping parameters this tool does not own — the code's column list is the source of truth, and a
   * column added to ARCHIVE_COLUMNS must reach Athena without a manual step. false: only report.
   */
  update?: boolean;
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | null)?.name === name;
}

/** Creates the database and the table if missing; brings an existing table to the expected definition. */
export async function ensureGlueTable(
  glue: GlueClient,
  spec: GlueTableSpec,
  options: EnsureTableOptions = {},
): Promise<EnsureTableResult> {
  const database = await ensureDatabase(glue, spec.database);
  const expected = expectedTableInput(spec);
  let existing: Table | undefined;
  try {
    existing = (await glue.send(new GetTableCommand({ DatabaseName: spec.database, Name: spec.table })))
      .Table;
  } catch (error) {
    if (!isNamed(error, 'EntityNotFoundException')) throw error;
  }
  if (existing === undefined) {
    try {
      await glue.send(new CreateTableCommand({ DatabaseName: spec.database, TableInput: expected }));
      return { database, table: 'created', differences: [] };
    } catch (error) {
      // Another process (the archiver at start, a second CLI) created it first: compare with theirs.
      if (!isNamed(error, 'AlreadyExistsException')) throw error;
      existing = (await glue.send(new GetTableCommand({ DatabaseName: spec.database, Name: spec.table })))
        .Table;
    }
  }
  const differences = diffTable(existing!, expected);
  if (differences.length === 0) return { database, table: 'unchanged', differences };
  if (options.update === false) return { database, table: 'differs', differences };
  const input: TableInput = {
    ...expected,
    Parameters: { ...(existing?.Parameters ?? {}), ...expected.Parameters },
  };
  await glue.send(new UpdateTableCommand({ DatabaseName: spec.database, TableInput: input }));
  return { database, table: 'updated', differences };
}

async function ensureDatabase(glue: GlueClient, name: string): Promise<'created' | 'exists'> {
  try {
    await glue.send(new GetDatabaseCommand({ Name: name }));
    return 'exists';
  } catch (error) {
    if (!isNamed(error, 'EntityNotFoundException')) throw error;
  }
  try {
    await glue.send(
      new CreateDatabaseCommand({
        DatabaseInput: { Name: name, Description: 'gridstream telemetry archive' },
      }),
    );
    return 'created';
  } catch (error) {
    if (isNamed(error, 'AlreadyExistsException')) return 'exists';
    throw error;
  }
}

/** One line per fact, for the CLI and the archiver's start log. */
export function describeEnsureResult(spec: GlueTableSpec, result: EnsureTableResult): string {
  const lines = [
    `database ${spec.database}: ${result.database}`,
    `table ${spec.database}.${spec.table}: ${result.table} (location ${tableLocation(spec)}, partition projection on ${ARCHIVE_PARTITION.name})`,
  ];
  if (result.differences.length > 0) {
    lines.push(
      result.table === 'updated' ? 'differences that were corrected:' : 'differences (not changed):',
    );
    for (const d of result.differences) lines.push(`  - ${d}`);
  }
  return lines.join('\n');
}
