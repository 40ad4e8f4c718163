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

/**
 * SQL from the query page. Athena runs it as the CLI does (`gridstream query`). DuckDB runs in this
 * process, so before the operator's SQL runs the connection is locked down: only the archive's own
 * Parquet files may be read, no file may be written, no extension loaded, and the settings are locked —
 * the SQL box must not become a way to read /etc or write files on the console's machine.
 */
export async function runConsoleQuery(
  env: ToolsEnv,
  sql: string,
  options: { engine?: Engine; limit: number; timeoutMs?: number },
): Promise<ConsoleQueryResult> {
  const started = Date.now();
  const engine = options.engine ?? defaultEngine(env);
  let result: QueryResult;
  const extra: Partial<ConsoleQueryResult> = {};
  if (engine === 'athena') {
    const run = await runQuery(env, { sql, engine, timeoutMs: options.timeoutMs });
    result = run.result;
    if (run.queryExecutionId !== undefined) extra.queryExecutionId = run.queryExecutionId;
  } else {
    const source = archiveSourceFromEnv(env);
    const paths = await source.localPaths(await source.list());
    const db = await ArchiveEngine.open(paths);
    try {
      await lockDown(db, paths);
      result = await limitedQuery(db, sql, options.limit);
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

async function lockDown(db: ArchiveEngine, paths: readonly string[]): Promise<void> {
  const c = db.connection;
  await c.run(`SET allowed_paths = [${paths.map(sqlString).join(', ')}]`);
  await c.run('SET autoinstall_known_extensions = false');
  await c.run('SET autoload_known_extensions = false');
  await c.run('SET enable_external_access = false');
  await c.run('SET lock_configuration = true');
}

/**
 * A SELECT is wrapped in a LIMIT so that `SELECT * FROM telemetry` on a big archive does not pull every
 * row into memory just to show the first few thousand; statements that cannot be wrapped (SHOW,
 * DESCRIBE, PRAGMA) run as they are.
 */
async function limitedQuery(db: ArchiveEngine, sql: string, limit: number): Promise<QueryResult> {
  const body = sql.replace(/[\s;]+$/, '');
  if (/^\s*(select|with|from|values|\()/i.test(body) && !body.includes(';')) {
    try {
      return await db.query(`SELECT * FROM (\n${body}\n) AS console_query LIMIT ${limit + 1}`);
    } catch (error) {
      if (!/Parser Error/i.test((error as Error).message)) throw error;
    }
  }
  return db.query(body);
}
