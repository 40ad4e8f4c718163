import { writeFile } from 'node:fs/promises';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import { archiveSourceFromEnv } from './archive-from-env.js';
import type { DtRange } from './archive-source.js';
import { downloadS3Object, runAthenaQuery } from './athena-query.js';
import { athenaClientFromEnv, s3ClientFromEnv } from './aws-clients.js';
import { ArchiveEngine, type QueryResult } from './duckdb-engine.js';
import { toCsv } from './result-format.js';
import { athenaConfigured, type ToolsEnv } from './tools-env.js';

/** `gridstream query`: the same SQL on Athena or, offline, on DuckDB over the archive files. */

export type Engine = 'athena' | 'duckdb';

export interface RunQueryOptions {
  sql: string;
  /** Default: athena when ATHENA_WORKGROUP or ATHENA_OUTPUT_LOCATION is set, else duckdb. */
  engine?: Engine;
  /** Write the result as CSV here (Athena: its own result file, downloaded). */
  out?: string;
  /** duckdb: read this local archive folder instead of the configured archive. */
  dir?: string;
  /** duckdb: only these dt partitions are listed and pulled from S3 (the SQL still filters itself). */
  range?: DtRange;
  timeoutMs?: number;
  /** athena: stop reading the result after this many rows (default: all of it). */
  maxRows?: number;
  onStatus?: (message: string) => void;
  athena?: AthenaClient;
  s3?: S3Client;
}

export interface RunQueryResult {
  engine: Engine;
  result: QueryResult;
  queryExecutionId?: string;
  outputLocation?: string;
  /** Parquet files the duckdb engine read. */
  files?: number;
}

export function defaultEngine(env: ToolsEnv): Engine {
  return athenaConfigured(env) ? 'athena' : 'duckdb';
}

export async function runQuery(env: ToolsEnv, options: RunQueryOptions): Promise<RunQueryResult> {
  const engine = options.engine ?? defaultEngine(env);
  if (engine === 'athena') {
    const athena = options.athena ?? athenaClientFromEnv(env);
    const outcome = await runAthenaQuery(athena, {
      sql: options.sql,
      database: env.ATHENA_DATABASE ?? env.GLUE_DATABASE,
      catalog: env.ATHENA_CATALOG,
      workgroup: env.ATHENA_WORKGROUP,
      outputLocation: env.ATHENA_OUTPUT_LOCATION,
      timeoutMs: options.timeoutMs ?? env.ATHENA_TIMEOUT_MS,
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      onState: (state, ms) => options.onStatus?.(`athena: ${state} after ${(ms / 1000).toFixed(1)} s`),
    });
    if (options.out !== undefined) {
      if (outcome.outputLocation === undefined) {
        throw new Error('Athena reported no output location, so there is no result CSV to download');
      }
      // Athena's own CSV (every value quoted, as Athena writes it), not a re-encoding of the printed table.
      await downloadS3Object(options.s3 ?? s3ClientFromEnv(env), outcome.outputLocation, options.out);
    }
    return {
      engine,
      result: outcome,
      queryExecutionId: outcome.queryExecutionId,
      outputLocation: outcome.outputLocation,
    };
  }

  const source = archiveSourceFromEnv(env, options.dir);
  // Every Parquet file of a dt folder, whatever its name: that is what Athena reads from the same folder.
  const objects = await source.list(options.range);
  options.onStatus?.(`duckdb: ${objects.length} file(s) from ${source.description}`);
  const paths = await source.localPaths(objects);
  const db = await ArchiveEngine.open(paths);
  try {
    const result = await db.query(options.sql);
    if (options.out !== undefined) await writeFile(options.out, toCsv(result.columns, result.rows));
    return { engine, result, files: paths.length };
  } finally {
    db.close();
  }
}
