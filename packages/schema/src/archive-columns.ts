/**
 * The archive's table, defined once: the archiver writes Parquet with these columns, the Glue table is
 * generated from them, and the offline engine reads them. A long layout — one row per value — so a device
 * that starts sending a new reading never changes the schema (a wide table would need a migration).
 */
export interface ArchiveColumn {
  name: string;
  /** Type as DuckDB writes it to Parquet. */
  duckdb: string;
  /** Type as the Glue/Athena (Hive) table declares it. */
  glue: string;
  nullable: boolean;
  description: string;
}

export const ARCHIVE_TABLE = 'telemetry';

export const ARCHIVE_COLUMNS: readonly ArchiveColumn[] = [
  // TIMESTAMPTZ because DuckDB marks a Parquet timestamp UTC-adjusted (isAdjustedToUTC=true) only for it;
  // it is stored in microseconds, holding whole milliseconds. Athena reads it as `timestamp`.
  {
    name: 'ts',
    duckdb: 'TIMESTAMPTZ',
    glue: 'timestamp',
    nullable: false,
    description: 'source timestamp, UTC',
  },
  { name: 'site', duckdb: 'VARCHAR', glue: 'string', nullable: false, description: 'site id' },
  {
    name: 'equipment',
    duckdb: 'VARCHAR',
    glue: 'string',
    nullable: false,
    description: 'equipment type (the InfluxDB measurement)',
  },
  { name: 'device', duckdb: 'VARCHAR', glue: 'string', nullable: false, description: 'device id' },
  {
    name: 'rack',
    duckdb: 'VARCHAR',
    glue: 'string',
    nullable: true,
    description: 'sub-unit (battery rack), null for the device itself',
  },
  {
    name: 'field',
    duckdb: 'VARCHAR',
    glue: 'string',
    nullable: false,
    description: 'reading or status flag name, as the device sent it',
  },
  {
    name: 'value',
    duckdb: 'DOUBLE',
    glue: 'double',
    nullable: false,
    description: 'the reading; status flags as 1.0 (true) / 0.0 (false)',
  },
  {
    name: 'is_flag',
    duckdb: 'BOOLEAN',
    glue: 'boolean',
    nullable: false,
    description: 'true when the row is a boolean status flag',
  },
  {
    name: 'quality',
    duckdb: 'VARCHAR',
    glue: 'string',
    nullable: true,
    description: 'comma-separated quality flags of the value, null when good',
  },
  {
    name: 'kafka_partition',
    duckdb: 'INTEGER',
    glue: 'int',
    nullable: false,
    description: 'partition of telemetry.parsed the record was read from',
  },
  {
    name: 'kafka_offset',
    duckdb: 'BIGINT',
    glue: 'bigint',
    nullable: false,
    description: 'offset of the record in that partition (for reconciliation)',
  },
];

/** Hive-style partition column: `dt=YYYY-MM-DD` (UTC date of `ts`), projected by Glue, never crawled. */
export const ARCHIVE_PARTITION = { name: 'dt', glue: 'string', format: 'yyyy-MM-dd' } as const;
