import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sleep } from '@gridstream/runtime';
import { parseS3Url } from './aws-clients.js';
import type { QueryResult } from './duckdb-engine.js';

/**
 * One SQL statement on Athena: start, poll with backoff until it is done, read the pages of the result
 * (all of them unless `maxRows` says how many rows are wanted).
 * A query that outlives the timeout is stopped (it would otherwise keep running, and billing, in AWS).
 */

export interface AthenaQueryOptions {
  sql: string;
  database: string;
  catalog?: string;
  workgroup?: string;
  /** `s3://bucket/prefix/`; optional when the workgroup sets one. */
  outputLocation?: string;
  timeoutMs?: number;
  /** Stop reading result pages once this many rows are in (default: every row). */
  maxRows?: number;
  pollMs?: number;
  maxPollMs?: number;
  onState?: (state: string, elapsedMs: number) => void;
}

export interface AthenaQueryOutcome extends QueryResult {
  queryExecutionId: string;
  /** Where Athena wrote the CSV of the result (`s3://…/<id>.csv`). */
  outputLocation?: string;
  execution: QueryExecution;
}

export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';
  constructor(
    message: string,
    readonly queryExecutionId: string,
    readonly state: string,
  ) {
    super(message);
  }
}

export async function runAthenaQuery(
  athena: AthenaClient,
  options: AthenaQueryOptions,
): Promise<AthenaQueryOutcome> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 600_000;
  const start = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: options.sql,
      QueryExecutionContext: { Database: options.database, Catalog: options.catalog },
      WorkGroup: options.workgroup,
      ResultConfiguration:
        options.outputLocation === undefined ? undefined : { OutputLocation: options.outputLocation },
    }),
  );
  const id = start.QueryExecutionId;
  if (id === undefined) throw new Error('Athena answered StartQueryExecution without a QueryExecutionId');

  let pollMs = options.pollMs ?? 500;
  const maxPollMs = options.maxPollMs ?? 5_000;
  let execution: QueryExecution;
  for (;;) {
    execution =
      (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution ?? {};
    const state = execution.Status?.State ?? 'UNKNOWN';
    options.onState?.(state, Date.now() - started);
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason =
        execution.Status?.AthenaError?.ErrorMessage ??
        execution.Status?.StateChangeReason ??
        'no reason given';
      throw new AthenaQueryError(`Athena query ${id} ${state}: ${reason}`, id, state);
    }
    if (Date.now() - started > timeoutMs) {
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryError(
        `Athena query ${id} still ${state} after ${Math.round(timeoutMs / 1000)} s: stopped (raise ATHENA_TIMEOUT_MS or --timeout)`,
        id,
        state,
      );
    }
    await sleep(pollMs);
    pollMs = Math.min(maxPollMs, Math.ceil(pollMs * 1.5));
  }

  const result = await readAllResults(athena, id, options.maxRows ?? Number.POSITIVE_INFINITY);
  return {
    ...result,
    queryExecutionId: id,
    outputLocation: execution.ResultConfiguration?.OutputLocation,
    execution,
  };
}

async function readAllResults(athena: AthenaClient, id: string, maxRows: number): Promise<QueryResult> {
  let columns: string[] = [];
  let types: string[] = [];
  const rows: (string | null)[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
    );
    if (first) {
      const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns = info.map((c) => c.Label ?? c.Name ?? '');
      types = info.map((c) => c.Type ?? 'varchar');
    }
    const pageRows = (page.ResultSet?.Rows ?? []).map((r) =>
      (r.Data ?? []).map((d) => d.VarCharValue ?? null),
    );
    // A SELECT's first row on the first page repeats the column labels; DDL results have no such row.
    if (first && pageRows.length > 0 && columns.length > 0 && sameCells(pageRows[0]!, columns))
      pageRows.shift();
    for (const r of pageRows) rows.push(r);
    if (first && columns.length === 0 && rows.length > 0) {
      columns = rows[0]!.map((_, i) => `_col${i}`);
      types = columns.map(() => 'varchar');
    }
    first = false;
    token = page.NextToken;
  } while (token && rows.length < maxRows);
  if (rows.length > maxRows) rows.length = maxRows;
  return { columns, rows, types };
}

function sameCells(row: (string | null)[], columns: string[]): boolean {
  return row.length === columns.length && row.every((v, i) => v === columns[i]);
}

/** Copies Athena's result CSV (`s3://…/<id>.csv`) to a local file, atomically. */
export async function downloadS3Object(s3: S3Client, url: string, file: string): Promise<number> {
  const { bucket, key } = parseS3Url(url);
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(res.Body instanceof Readable)) throw new Error(`${url}: no body`);
  const partial = `${file}.partial-${process.pid}`;
  try {
    await pipeline(res.Body, createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return res.ContentLength ?? 0;
}
