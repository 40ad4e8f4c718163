import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArchiveEngine,
  archiveSourceFromEnv,
  defaultEngine,
  type Engine,
  type QueryResult,
  runQuery,
  sqlString,
  type ToolsEnv,
} from '@gridstream/archive-tools';

export interface ConsoleQueryResult {
  engine: Engine;
  columns: string[];
  rows: (string | null)[][];
  /** More rows than the limit came back; only the first `limit` are shown. */
  cut: boolean;
  files?: number;
  queryExecutionId?: string;
  ms: number;
}

/** SQL the console will not run: the message says why, for the page and the API's 400. */
export class QueryRefusedError extends Error {
  override readonly name = 'QueryRefusedError';
}

/** What a console query may start with (after comments); everything else is refused before it runs. */
const DUCKDB_FIRST_WORDS = new Set(['select', 'with', 'from', 'values', 'describe', 'show', 'summarize']);
const ATHENA_FIRST_WORDS = new Set(['select', 'with', 'show', 'describe']);

/**
 * SQL from the query page. DuckDB runs in this process, so before the operator's SQL runs the
 * connection is locked down (only the archive's own Parquet files may be read, no extension loaded, the
 * settings locked), and the SQL only ever runs as the subquery of `SELECT * FROM (…) LIMIT n` after
 * DuckDB has confirmed that this is one single SELECT: allowed_paths lets DuckDB WRITE the archive
 * files too, so a `COPY … TO '<archive file>'` must never get to run. Athena gets only queries, too;
 * there the workgroup's IAM policy is the real limit (docs/console.md).
 */
export async function runConsoleQuery(
  env: ToolsEnv,
  sql: string,
  options: {
    engine?: Engine;
    limit: number;
    timeoutMs: number;
    memoryMb?: number;
    /** DuckDB threads for the query (its default is every core). */
    threads?: number;
    /** Disk DuckDB may spill to past memoryMb; 0 = none (the query fails instead). */
    tempMb?: number;
  },
): Promise<ConsoleQueryResult> {
  const started = Date.now();
  const engine = options.engine ?? defaultEngine(env);
  const body = sql.replace(/[\s;]+$/, '');
  let result: QueryResult;
  const extra: Partial<ConsoleQueryResult> = {};
  if (engine === 'athena') {
    refuseUnlessFirstWord(body, ATHENA_FIRST_WORDS);
    // limit + 1 rows tell the page that there were more, without paging through all of a big result.
    const run = await runQuery(env, { sql: body, engine, maxRows: options.limit + 1 });
    result = run.result;
    if (run.queryExecutionId !== undefined) extra.queryExecutionId = run.queryExecutionId;
  } else {
    refuseUnlessFirstWord(body, DUCKDB_FIRST_WORDS);
    const source = archiveSourceFromEnv(env);
    const paths = await source.localPaths(await source.list());
    const db = await ArchiveEngine.open(paths);
    try {
      await lockDown(db, paths, {
        memoryMb: options.memoryMb ?? DEFAULT_MEMORY_MB,
        threads: options.threads ?? DEFAULT_THREADS,
        tempMb: options.tempMb ?? DEFAULT_TEMP_MB,
      });
      result = await limitedQuery(db, body, options.limit, options.timeoutMs);
    } finally {
      db.close();
    }
    extra.files = paths.length;
  }
  const cut = result.rows.length > options.limit;
  return {
    engine,
    columns: result.columns,
    rows: cut ? result.rows.slice(0, options.limit) : result.rows,
    cut,
    ms: Date.now() - started,
    ...extra,
  };
}

/** The first word of the SQL, after whitespace, line and block comments and opening parentheses. */
export function firstSqlWord(sql: string): string {
  const rest = sql.replace(/^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return (/^[a-z_]+/i.exec(rest)?.[0] ?? '').toLowerCase();
}

function refuseUnlessFirstWord(sql: string, allowed: ReadonlySet<string>): void {
  const word = firstSqlWord(sql);
  if (!allowed.has(word)) {
    throw new QueryRefusedError(
      `Only queries run here (${[...allowed].map((w) => w.toUpperCase()).join(', ')}); ` +
        `${word === '' ? 'this statement' : word.toUpperCase()} is refused.`,
    );
  }
}

/** DuckDB's own default is 80% of the machine's RAM, which one query of the SQL box could take. */
export const DEFAULT_MEMORY_MB = 256;
/** DuckDB's own default is every core: one operator's query would stall the pipeline beside it. */
export const DEFAULT_THREADS = 1;
/** Spill space of one query; DuckDB's own default is 90% of the free disk. */
export const DEFAULT_TEMP_MB = 1_024;

async function lockDown(
  db: ArchiveEngine,
  paths: readonly string[],
  limits: { memoryMb: number; threads: number; tempMb: number },
): Promise<void> {
  const c = db.connection;
  // A query needing more fails with DuckDB's "Out of Memory" (shown on the page), the console stays up.
  await c.run(`SET memory_limit = '${Math.floor(limits.memoryMb)}MB'`);
  await c.run(`SET threads = ${Math.floor(limits.threads)}`);
  // Spilling goes to the system's temporary folder (not the working directory, read-only in the image).
  await c.run(`SET temp_directory = ${sqlString(join(tmpdir(), 'gridstream-console-duckdb'))}`);
  await c.run(`SET max_temp_directory_size = '${Math.floor(limits.tempMb)}MiB'`);
  await c.run(`SET allowed_paths = [${paths.map(sqlString).join(', ')}]`);
  await c.run('SET autoinstall_known_extensions = false');
  await c.run('SET autoload_known_extensions = false');
  await c.run('SET enable_external_access = false');
  await c.run('SET lock_configuration = true');
}

/**
 * The SQL always runs wrapped in a LIMIT, so `SELECT * FROM telemetry` on a big archive does not pull
 * every row into memory just to show the first few thousand. The SQL must parse as one statement on its
 * own and the wrapped text as ONE SELECT, so SQL that closes the wrapper's parenthesis to chain a
 * statement (`SELECT 1) t; COPY …`) never runs. A query still running after `timeoutMs` is interrupted.
 */
async function limitedQuery(
  db: ArchiveEngine,
  body: string,
  limit: number,
  timeoutMs: number,
): Promise<QueryResult> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    db.connection.interrupt();
  }, timeoutMs);
  try {
    const several = new QueryRefusedError('Only one query runs at a time: several statements are refused.');
    // Parsed only (nothing runs): says "several statements" rather than a syntax error of the wrapper.
    if ((await db.connection.extractStatements(body)).count !== 1) throw several;
    const wrapped = `SELECT * FROM (\n${body}\n) AS console_query LIMIT ${limit + 1}`;
    if (!(await db.isSingleSelect(wrapped))) throw several;
    return await db.query(wrapped);
  } catch (error) {
    if (timedOut)
      throw new Error(
        `The query ran longer than ${timeoutMs / 1000} s and was stopped (CONSOLE_QUERY_TIMEOUT_MS).`,
      );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
