import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResultReader,
  DuckDBTypeId,
  StatementType,
} from '@duckdb/node-api';
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITION, ARCHIVE_TABLE } from '@gridstream/schema';

/**
 * The offline engine: DuckDB over the archive's Parquet files, exposed as the SAME table name and
 * columns as the Glue table (`telemetry`, partition column `dt` as a string), so a query written for
 * Athena runs here unchanged. Only local files: objects on S3 are mirrored first (archive-source.ts).
 */

export interface QueryResult {
  columns: string[];
  /** One string per cell (null for SQL NULL), formatted the way Athena prints the same types. */
  rows: (string | null)[][];
  /**
   * Each column's SQL type as the engine names it (DuckDB `BIGINT`, `TIMESTAMP WITH TIME ZONE`; Athena
   * `bigint`, `timestamp`): what `queryResultToJson` types the cells by.
   */
  types: string[];
}

export class ArchiveEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** An in-memory DuckDB with `telemetry` (or `table`) defined over exactly these Parquet files. */
  static async open(paths: readonly string[], table = ARCHIVE_TABLE): Promise<ArchiveEngine> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const engine = new ArchiveEngine(instance, connection);
    try {
      // The files hold UTC-adjusted timestamps; turning them into Athena's zone-less `timestamp` (UTC wall
      // time) must not depend on the zone of the machine the CLI happens to run on.
      await connection.run(`SET TimeZone = 'UTC'`);
      await connection.run(createViewSql(paths, table));
    } catch (error) {
      engine.close();
      throw error;
    }
    return engine;
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(stripTrailingSemicolons(sql));
    return readResult(reader);
  }

  /**
   * Whether `sql` is exactly one SELECT — parsed and bound, never run. Callers that must not let a
   * statement write (the console's SQL box) check this before running it.
   */
  async isSingleSelect(sql: string): Promise<boolean> {
    const extracted = await this.connection.extractStatements(sql);
    if (extracted.count !== 1) return false;
    const prepared = await extracted.prepare(0);
    try {
      return prepared.statementType === StatementType.SELECT;
    } finally {
      prepared.destroySync();
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** `'it''s'`: a string literal for file paths inside generated SQL. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function sqlIdentifier(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function createViewSql(paths: readonly string[], table: string): string {
  // ts as a zone-less TIMESTAMP in UTC, which is what Athena's `timestamp` column is: date_trunc, CAST
  // AS date and comparisons with timestamp literals then behave the same on both engines, whichever
  // Parquet timestamp flavour (UTC-adjusted or not) a file was written with.
  const columns = ARCHIVE_COLUMNS.map((c) =>
    c.name === 'ts'
      ? `CAST(${sqlIdentifier(c.name)} AS TIMESTAMP) AS ${sqlIdentifier(c.name)}`
      : sqlIdentifier(c.name),
  ).join(', ');
  const dt = sqlIdentifier(ARCHIVE_PARTITION.name);
  if (paths.length === 0) {
    // read_parquet refuses an empty file list; an empty archive is still a table with the right columns.
    const nulls = ARCHIVE_COLUMNS.map(
      (c) => `CAST(NULL AS ${c.name === 'ts' ? 'TIMESTAMP' : c.duckdb}) AS ${sqlIdentifier(c.name)}`,
    ).join(', ');
    return `CREATE VIEW ${sqlIdentifier(table)} AS SELECT ${nulls}, CAST(NULL AS VARCHAR) AS ${dt} WHERE false`;
  }
  const list = `[${paths.map(sqlString).join(', ')}]`;
  // dt stays VARCHAR as in Glue (hive_types), so `dt >= '2024-03-01'` compares the same way on both
  // engines; union_by_name keeps files written before a column was added readable.
  return (
    `CREATE VIEW ${sqlIdentifier(table)} AS SELECT ${columns}, ${dt} FROM read_parquet(${list}, ` +
    `hive_partitioning = true, hive_types = {${sqlString(ARCHIVE_PARTITION.name)}: VARCHAR}, union_by_name = true)`
  );
}

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

const TIMESTAMP_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
]);

function readResult(reader: DuckDBResultReader): QueryResult {
  const columns = reader.columnNames();
  const kinds = columns.map((_, i) => reader.columnTypeId(i));
  const js = reader.getRowsJS();
  const rows = js.map((row) => row.map((v, i) => formatValue(v, kinds[i]!)));
  return { columns, rows, types: columns.map((_, i) => reader.columnType(i).toString()) };
}

function formatValue(v: unknown, type: DuckDBTypeId): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    const iso = v.toISOString();
    // Athena prints timestamps as `2024-03-01 10:00:00.000` and dates as `2024-03-01`.
    if (type === DuckDBTypeId.DATE) return iso.slice(0, 10);
    if (TIMESTAMP_TYPES.has(type)) return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
    return iso;
  }
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}
