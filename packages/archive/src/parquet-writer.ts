import { stat } from 'node:fs/promises';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBVector,
  INTEGER,
} from '@duckdb/node-api';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import type { ArchiveRow } from './record-rows.js';

/**
 * Parquet type of `ts`. DuckDB 1.5 marks a Parquet timestamp as UTC-adjusted (isAdjustedToUTC=true) only
 * for TIMESTAMPTZ, which it writes in microseconds; its TIMESTAMP_MS would be written as a local
 * ("wall clock") timestamp, which readers such as pyarrow and Spark then treat as zone-less. The values
 * are whole milliseconds either way.
 */
export const PARQUET_TS_TYPE = ARCHIVE_COLUMNS.find((c) => c.name === 'ts')!.duckdb;

/**
 * How each archive column is produced from the staging table `s` and its per-file dictionaries `se`
 * (site, equipment, device, rack) and `f`/`q` (field and quality strings). Checked against ARCHIVE_COLUMNS
 * at load: a column added to the schema without a way to fill it fails here, not in a reader months later.
 */
const COLUMN_SQL: Record<string, string> = {
  ts: `epoch_ms(s.ts::BIGINT)::${PARQUET_TS_TYPE}`,
  site: 'se.site',
  equipment: 'se.equipment',
  device: 'se.device',
  rack: 'se.rack',
  field: 'f.s',
  value: 's.value',
  is_flag: 's.is_flag',
  quality: 'q.s',
  kafka_partition: 's.kafka_partition',
  kafka_offset: 's.kafka_offset',
};
for (const column of ARCHIVE_COLUMNS) {
  if (!(column.name in COLUMN_SQL))
    throw new Error(`parquet-writer: no expression for archive column ${column.name}`);
}
for (const name of Object.keys(COLUMN_SQL)) {
  if (!ARCHIVE_COLUMNS.some((c) => c.name === name))
    throw new Error(`parquet-writer: ${name} is not an archive column`);
}
const SELECT_LIST = ARCHIVE_COLUMNS.map((c) => {
  const expr = COLUMN_SQL[c.name]!;
  return c.name === 'ts' || c.duckdb === 'VARCHAR'
    ? `${expr} AS ${c.name}`
    : `${expr}::${c.duckdb} AS ${c.name}`;
}).join(', ');

// Staging layout: strings go in as small integers into per-file dictionaries. Turning every repeated
// site/device/field name into UTF-8 for DuckDB cost more than everything else together (measured: 0.6M
// rows/s with VARCHAR staging, 1M+ with ids); DuckDB joins them back while it writes the file.
const STAGING_COLUMNS = [
  ['ts', DOUBLE, 'DOUBLE'],
  ['series', INTEGER, 'INTEGER'],
  ['field', INTEGER, 'INTEGER'],
  ['value', DOUBLE, 'DOUBLE'],
  ['is_flag', BOOLEAN, 'BOOLEAN'],
  ['quality', INTEGER, 'INTEGER'],
  ['kafka_partition', INTEGER, 'INTEGER'],
  ['kafka_offset', BIGINT, 'BIGINT'],
] as const;
const STAGING_TYPES = STAGING_COLUMNS.map(([, type]) => type);
const CHUNK_ROWS = 2_048;
/** Bytes of a row's fixed-width values plus a 4-byte length per string, for the raw-size estimate. */
const FIXED_ROW_BYTES = 8 + 8 + 1 + 4 + 8 + 6 * 4;
/** Files smaller than this say more about Parquet's footer than about the data's compression ratio. */
const LEARN_FROM_RAW_BYTES = 1024 * 1024;

export interface ParquetEngineOptions {
  /** DuckDB memory for open files (e.g. `512MB`); beyond it DuckDB spills them to tempDirectory. */
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
  /** Starting guess of Parquet bytes per raw row byte, until files big enough to learn from were written. */
  initialCompressionRatio?: number;
}

export interface ParquetFileInfo {
  path: string;
  rows: number;
  /** Size of the Parquet file. */
  bytes: number;
  /** Raw size of the rows (what the estimate was based on). */
  rawBytes: number;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * One in-process DuckDB that turns archive rows into zstd Parquet files with the ARCHIVE_COLUMNS schema.
 * Several files can be open at once (one per partition and day in the archiver); each has its own
 * connection and staging table, so appending to one never waits for another being written out.
 */
export class ParquetEngine {
  private compressionRatio: number;
  private nextId = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    initialRatio: number,
  ) {
    this.compressionRatio = initialRatio;
  }

  static async create(options: ParquetEngineOptions = {}): Promise<ParquetEngine> {
    const config: Record<string, string> = { threads: String(options.threads ?? 2) };
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', config);
    // Casting the staged epoch milliseconds to TIMESTAMPTZ must not shift them by the host's zone. (Not a
    // creation option: the time zone extension is loaded only after the instance exists.)
    const connection = await instance.connect();
    try {
      await connection.run(`SET GLOBAL TimeZone = 'UTC'`);
    } finally {
      connection.closeSync();
    }
    return new ParquetEngine(instance, options.initialCompressionRatio ?? 0.25);
  }

  /** A new, empty file being filled. */
  async openFile(): Promise<ParquetFileBuffer> {
    const id = this.nextId++;
    const connection = await this.instance.connect();
    try {
      const columns = STAGING_COLUMNS.map(([name, , sql]) => `${name} ${sql}`).join(', ');
      await connection.run(`CREATE TABLE s_${id} (${columns})`);
      const appender = await connection.createAppender(`s_${id}`);
      return new ParquetFileBuffer(this, connection, id, appender);
    } catch (error) {
      connection.closeSync();
      throw error;
    }
  }

  /** Writes rows to one Parquet file in one go (exports, benchmarks, tests). */
  async writeRows(rows: readonly ArchiveRow[], path: string): Promise<ParquetFileInfo> {
    const file = await this.openFile();
    try {
      file.append(rows);
      return await file.writeTo(path);
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /** Estimated Parquet size of rows whose raw size is `rawBytes`, from the files written so far. */
  estimateParquetBytes(rawBytes: number): number {
    return Math.ceil(rawBytes * this.compressionRatio);
  }

  /** @internal Called by a file after it was written: refines the compression ratio. */
  learn(rawBytes: number, parquetBytes: number): void {
    if (rawBytes < LEARN_FROM_RAW_BYTES) return;
    const observed = Math.min(1, Math.max(0.005, parquetBytes / rawBytes));
    this.compressionRatio = 0.7 * this.compressionRatio + 0.3 * observed;
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** A Parquet file being filled: rows go into a DuckDB staging table; `writeTo` produces the file. */
export class ParquetFileBuffer {
  private chunk: DuckDBDataChunk;
  private vectors: DuckDBVector[];
  private inChunk = 0;
  private rowCount = 0;
  private raw = 0;
  private sealed = false;
  private dictionariesWritten = false;
  private done = false;
  private readonly series = new Map<string, number>();
  private readonly seriesRows: [string, string, string, string | null][] = [];
  private readonly names = new Map<string, number>();
  // The rows of one record share their strings; comparing references skips the dictionary lookup.
  private last:
    | { site: string; equipment: string; device: string; rack: string | null; id: number }
    | undefined;

  /** @internal use ParquetEngine.openFile() */
  constructor(
    private readonly engine: ParquetEngine,
    private readonly connection: DuckDBConnection,
    private readonly id: number,
    private readonly appender: DuckDBAppender,
  ) {
    this.chunk = DuckDBDataChunk.create(STAGING_TYPES, CHUNK_ROWS);
    this.vectors = STAGING_TYPES.map((_, i) => this.chunk.getColumnVector(i));
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Raw (uncompressed) size of the rows appended so far. */
  get rawBytes(): number {
    return this.raw;
  }

  /** Estimated size of the Parquet file these rows will make. */
  get estimatedBytes(): number {
    return this.engine.estimateParquetBytes(this.raw);
  }

  /** Synchronous: appending never waits, so a caller can hand a file over to be written without a lock. */
  append(rows: readonly ArchiveRow[]): void {
    if (this.sealed) throw new Error('append to a file that is being written');
    for (const row of rows) {
      const n = this.inChunk;
      const v = this.vectors; // replaced by flushChunk() every CHUNK_ROWS rows
      v[0]!.setItem(n, row.ts);
      v[1]!.setItem(n, this.seriesId(row));
      v[2]!.setItem(n, this.nameId(row.field));
      v[3]!.setItem(n, row.value);
      v[4]!.setItem(n, row.is_flag);
      v[5]!.setItem(n, row.quality === null ? null : this.nameId(row.quality));
      v[6]!.setItem(n, row.kafka_partition);
      v[7]!.setItem(n, row.kafka_offset);
      this.raw +=
        FIXED_ROW_BYTES +
        row.site.length +
        row.equipment.length +
        row.device.length +
        (row.rack?.length ?? 0) +
        row.field.length +
        (row.quality?.length ?? 0);
      this.rowCount++;
      if (++this.inChunk === CHUNK_ROWS) this.flushChunk();
    }
  }

  /**
   * Writes the Parquet file (zstd, rows in Kafka offset order) and frees the staging data. May be called
   * again after a failure (a full disk): the rows stay until a write succeeded.
   */
  async writeTo(path: string): Promise<ParquetFileInfo> {
    if (this.done) throw new Error('file already written or discarded');
    if (!this.sealed) {
      this.flushChunk();
      this.appender.closeSync();
      this.sealed = true;
    }
    if (!this.dictionariesWritten) {
      await this.writeDictionaries();
      this.dictionariesWritten = true;
    }
    const id = this.id;
    await this.connection.run(
      `COPY (SELECT ${SELECT_LIST} FROM s_${id} s
         JOIN se_${id} se ON se.id = s.series
         JOIN n_${id} f ON f.id = s.field
         LEFT JOIN n_${id} q ON q.id = s.quality
         ORDER BY s.kafka_offset)
       TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const bytes = (await stat(path)).size;
    this.engine.learn(this.raw, bytes);
    const info = { path, rows: this.rowCount, bytes, rawBytes: this.raw };
    await this.discard();
    return info;
  }

  /** Drops the rows without writing them (a partition moved to another archiver). */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      if (!this.sealed) this.appender.closeSync();
      const id = this.id;
      await this.connection.run(
        `DROP TABLE IF EXISTS s_${id}; DROP TABLE IF EXISTS se_${id}; DROP TABLE IF EXISTS n_${id}`,
      );
    } finally {
      this.connection.closeSync();
    }
  }

  private flushChunk(): void {
    if (this.inChunk === 0) return;
    for (const vector of this.vectors) vector.flush();
    this.chunk.rowCount = this.inChunk;
    this.appender.appendDataChunk(this.chunk);
    this.chunk = DuckDBDataChunk.create(STAGING_TYPES, CHUNK_ROWS);
    this.vectors = STAGING_TYPES.map((_, i) => this.chunk.getColumnVector(i));
    this.inChunk = 0;
  }

  private seriesId(row: ArchiveRow): number {
    const last = this.last;
    if (
      last !== undefined &&
      last.site === row.site &&
      last.equipment === row.equipment &&
      last.device === row.device &&
      last.rack === row.rack
    ) {
      return last.id;
    }
    // Identifiers cannot contain control characters (schema), so \u001f cannot make two keys collide.
    const key = `${row.site}\u001f${row.equipment}\u001f${row.device}\u001f${row.rack ?? '\u001f'}`;
    let id = this.series.get(key);
    if (id === undefined) {
      id = this.seriesRows.length;
      this.series.set(key, id);
      this.seriesRows.push([row.site, row.equipment, row.device, row.rack]);
    }
    this.last = { site: row.site, equipment: row.equipment, device: row.device, rack: row.rack, id };
    return id;
  }

  private nameId(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) {
      id = this.names.size;
      this.names.set(name, id);
    }
    return id;
  }

  private async writeDictionaries(): Promise<void> {
    const id = this.id;
    await this.connection.run(
      `CREATE OR REPLACE TABLE se_${id} (id INTEGER, site VARCHAR, equipment VARCHAR, device VARCHAR, rack VARCHAR);
       CREATE OR REPLACE TABLE n_${id} (id INTEGER, s VARCHAR)`,
    );
    const se = await this.connection.createAppender(`se_${id}`);
    this.seriesRows.forEach(([site, equipment, device, rack], i) => {
      se.appendInteger(i);
      se.appendVarchar(site);
      se.appendVarchar(equipment);
      se.appendVarchar(device);
      if (rack === null) se.appendNull();
      else se.appendVarchar(rack);
      se.endRow();
    });
    se.closeSync();
    const n = await this.connection.createAppender(`n_${id}`);
    for (const [name, i] of this.names) {
      n.appendInteger(i);
      n.appendVarchar(name);
      n.endRow();
    }
    n.closeSync();
  }
}
