import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { PARQUET_TS_TYPE } from '@gridstream/archive';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { sqlIdentifier, sqlString } from './duckdb-engine.js';
import { EXPORT_KAFKA_OFFSET, EXPORT_KAFKA_PARTITION, type ExportRow } from './influx-rows.js';
import { csvField } from './result-format.js';

/**
 * One day of exported points, held in DuckDB (which spills to disk) instead of JS memory, then written
 * per measurement as an archive Parquet file or a daily CSV. Rows are written sorted, so the same points
 * always give the same file.
 */

/**
 * Parquet type of `ts`: the archiver's (UTC-adjusted). Exported and archived files of one table must
 * agree, or readers that honour the flag (pyarrow, Spark) would see two different kinds of time.
 */
export const EXPORT_TS_TYPE = PARQUET_TS_TYPE;

/** How each archive column is computed from the staging table; a new column must be added here. */
const ARCHIVE_EXPRESSIONS: Record<string, string> = {
  ts: 'epoch_ms(ts_ms)',
  site: 'site',
  equipment: 'equipment',
  device: 'device',
  rack: 'rack',
  field: 'field',
  value: 'value',
  is_flag: 'is_flag',
  quality: 'quality',
  kafka_partition: String(EXPORT_KAFKA_PARTITION),
  kafka_offset: String(EXPORT_KAFKA_OFFSET),
};

const ORDER = 'ts_ms, site, device, rack NULLS FIRST, field';

export function archiveSelectList(): string {
  return ARCHIVE_COLUMNS.map((c) => {
    const expr = ARCHIVE_EXPRESSIONS[c.name];
    if (expr === undefined) throw new Error(`export does not know how to fill archive column ${c.name}`);
    const type = c.name === 'ts' ? EXPORT_TS_TYPE : c.duckdb;
    return `CAST(${expr} AS ${type}) AS ${sqlIdentifier(c.name)}`;
  }).join(', ');
}

export class ExportStaging {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<ExportStaging> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // epoch_ms() gives a zone-less TIMESTAMP; its cast to TIMESTAMPTZ must read it as UTC, not as the
    // zone of the machine running the export.
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run(
      `CREATE TABLE staging (ts_ms BIGINT NOT NULL, equipment VARCHAR NOT NULL, site VARCHAR NOT NULL,
        device VARCHAR NOT NULL, rack VARCHAR, field VARCHAR NOT NULL, value DOUBLE NOT NULL,
        is_flag BOOLEAN NOT NULL, quality VARCHAR)`,
    );
    return new ExportStaging(instance, connection);
  }

  async append(rows: readonly ExportRow[]): Promise<void> {
    if (rows.length === 0) return;
    const appender = await this.connection.createAppender('staging');
    try {
      for (const r of rows) {
        appender.appendBigInt(BigInt(r.tsMs));
        appender.appendVarchar(r.equipment);
        appender.appendVarchar(r.site);
        appender.appendVarchar(r.device);
        if (r.rack === null) appender.appendNull();
        else appender.appendVarchar(r.rack);
        appender.appendVarchar(r.field);
        appender.appendDouble(r.value);
        appender.appendBoolean(r.isFlag);
        if (r.quality === null) appender.appendNull();
        else appender.appendVarchar(r.quality);
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
  }

  /** Measurements with rows in [fromMs, toMs), sorted. */
  async measurements(fromMs: number, toMs: number): Promise<string[]> {
    const r = await this.connection.runAndReadAll(
      `SELECT DISTINCT equipment FROM staging WHERE ts_ms >= ${fromMs} AND ts_ms < ${toMs} ORDER BY equipment`,
    );
    return r.getRowsJS().map((row) => String(row[0]));
  }

  /** Writes one measurement's rows in [fromMs, toMs) as an archive Parquet file; returns the row count. */
  async writeParquet(measurement: string, fromMs: number, toMs: number, path: string): Promise<number> {
    await mkdir(dirname(path), { recursive: true });
    const where = `equipment = ${sqlString(measurement)} AND ts_ms >= ${fromMs} AND ts_ms < ${toMs}`;
    const count = await this.count(where);
    await this.connection.run(
      `COPY (SELECT ${archiveSelectList()} FROM staging WHERE ${where} ORDER BY ${ORDER})
        TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return count;
  }

  /**
   * One measurement's rows in [fromMs, toMs) as a wide CSV, the shape of the original daily export:
   * `time,site,device,rack,<field>…` with one line per point, flags as true/false and a
   * `<field>__quality` column next to a field that had any quality flag that day.
   */
  async writeCsv(measurement: string, fromMs: number, toMs: number, path: string): Promise<number> {
    const where = `equipment = ${sqlString(measurement)} AND ts_ms >= ${fromMs} AND ts_ms < ${toMs}`;
    const fieldRows = (
      await this.connection.runAndReadAll(
        `SELECT field, bool_or(quality IS NOT NULL) FROM staging WHERE ${where} GROUP BY field ORDER BY field`,
      )
    ).getRowsJS();
    const columns: { field: string; quality: boolean }[] = [];
    for (const [field, hasQuality] of fieldRows) {
      columns.push({ field: String(field), quality: false });
      if (hasQuality === true) columns.push({ field: String(field), quality: true });
    }
    const position = new Map<string, number>();
    for (const [i, c] of columns.entries()) position.set(`${c.quality ? 'q' : 'v'}:${c.field}`, i);
    const header = [
      'time',
      'site',
      'device',
      'rack',
      ...columns.map((c) => (c.quality ? `${c.field}__quality` : c.field)),
    ];

    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial-${process.pid}`;
    const out = createWriteStream(partial);
    const write = async (line: string) => {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    };
    let points = 0;
    try {
      await write(header.map(csvField).join(','));
      const result = await this.connection.stream(
        `SELECT ts_ms, site, device, rack, field, value, is_flag, quality FROM staging WHERE ${where} ORDER BY ${ORDER}`,
      );
      let key: string | undefined;
      let cells: (string | null)[] = [];
      let lead: (string | null)[] = [];
      const flush = async () => {
        if (key === undefined) return;
        await write([...lead, ...cells].map(csvField).join(','));
        points++;
      };
      for await (const chunk of result.yieldRowsJs()) {
        for (const [tsMs, site, device, rack, field, value, isFlag, quality] of chunk) {
          const k = `${tsMs}\u0000${site}\u0000${device}\u0000${rack ?? ''}`;
          if (k !== key) {
            await flush();
            key = k;
            lead = [
              new Date(Number(tsMs)).toISOString(),
              String(site),
              String(device),
              rack === null ? null : String(rack),
            ];
            cells = new Array<string | null>(columns.length).fill(null);
          }
          const f = String(field);
          cells[position.get(`v:${f}`)!] = isFlag === true ? (value === 1 ? 'true' : 'false') : String(value);
          if (quality !== null) cells[position.get(`q:${f}`)!] = String(quality);
        }
      }
      await flush();
      out.end();
      await once(out, 'finish');
      await rename(partial, path);
    } catch (error) {
      out.destroy();
      await rm(partial, { force: true });
      throw error;
    }
    return points;
  }

  /** Drops rows before `beforeMs` (a finished day) so the staging table stays one day large. */
  async dropBefore(beforeMs: number): Promise<void> {
    await this.connection.run(`DELETE FROM staging WHERE ts_ms < ${beforeMs}`);
  }

  private async count(where: string): Promise<number> {
    const r = await this.connection.runAndReadAll(`SELECT count(*) FROM staging WHERE ${where}`);
    return Number(r.getRowsJS()[0]![0]);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
