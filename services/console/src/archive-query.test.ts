import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolsEnv } from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import { writeSocArchiveFile } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstSqlWord, QueryRefusedError, runConsoleQuery } from './archive-query.js';
import { consoleConfigSchema } from './config.js';

/**
 * The SQL box over a real (tiny) local archive: queries run, and nothing that writes ever does — the
 * archive file DuckDB is allowed to read must come out of every refused statement byte for byte the same.
 */
let dir: string;
let file: string;
let env: ToolsEnv;
let original: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-console-query-'));
  await mkdir(join(dir, 'archive', 'dt=2026-01-01'), { recursive: true });
  file = join(dir, 'archive', 'dt=2026-01-01', 'parsed+0+00000000000000000000+00000000000000000009.parquet');
  await writeSocArchiveFile(file, { site: '000001', count: 10 });
  original = await readFile(file);
  env = loadConfig(consoleConfigSchema, {
    CONSOLE_PASSWORD: 'open sesame 123',
    ARCHIVE_DIR: join(dir, 'archive'),
    ARCHIVE_CACHE_DIR: join(dir, 'cache'),
  }) as unknown as ToolsEnv;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const duck = (sql: string, limit = 100, timeoutMs = 10_000) =>
  runConsoleQuery(env, sql, { engine: 'duckdb', limit, timeoutMs });

describe('console queries on DuckDB', () => {
  it('runs queries, cut at the limit', async () => {
    const all = await duck(`SELECT ts, value FROM telemetry ORDER BY ts;`);
    expect(all.rows).toHaveLength(10);
    expect(all.rows[0]).toEqual(['2026-01-01 00:00:00.000', '50']);
    expect(all.cut).toBe(false);
    const cut = await duck('SELECT value FROM telemetry', 3);
    expect(cut.rows).toHaveLength(3);
    expect(cut.cut).toBe(true);
    // A `;` inside a string is not a second statement; DESCRIBE and SHOW run as subqueries.
    expect((await duck(`-- a comment\nSELECT 'a;b' AS s`)).rows).toEqual([['a;b']]);
    expect((await duck('DESCRIBE telemetry')).rows.map((r) => r[0])).toContain('value');
    expect((await duck('SHOW TABLES')).rows).toEqual([['telemetry']]);
  });

  it('refuses COPY … TO, chained statements and other non-queries, and the archive file is unchanged', async () => {
    const target = file.replace(/'/g, "''");
    const refused = [
      `COPY (SELECT 1 AS x) TO '${target}' (FORMAT parquet)`,
      `/* hi */ copy telemetry TO '${target}' (FORMAT parquet)`,
      `SELECT 1; COPY (SELECT 1 AS x) TO '${target}' (FORMAT parquet)`,
      `SELECT 1;\n-- x\nCOPY (SELECT 1 AS x) TO '${target}' (FORMAT parquet);`,
      `ATTACH '${target}' AS other`,
      `INSTALL httpfs`,
      `LOAD httpfs`,
      `SET allowed_paths = ['/etc/passwd']`,
      `RESET lock_configuration`,
      `PRAGMA show_tables`,
      `CREATE TABLE t AS SELECT 1`,
      `INSERT INTO telemetry VALUES (1)`,
      `EXPORT DATABASE '${dir}/export'`,
      `CALL pragma_version()`,
      '',
    ];
    for (const sql of refused) {
      await expect(duck(sql), sql).rejects.toThrow(/refused/);
    }
    await expect(duck(refused[0]!)).rejects.toBeInstanceOf(QueryRefusedError);
    await expect(duck(refused[2]!)).rejects.toThrow(/several statements are refused/);
    // Closing the wrapper's parenthesis to chain a statement inside it: not SQL on its own, so it fails
    // to parse, and nothing of it runs.
    await expect(
      duck(`SELECT 1) AS a; COPY (SELECT 1 AS x) TO '${target}' (FORMAT parquet); SELECT * FROM (SELECT 1`),
    ).rejects.toThrow(/Parser Error/);
    expect((await readFile(file)).equals(original)).toBe(true);
    await expect(stat(join(dir, 'export'))).rejects.toThrow(/ENOENT/);
  });

  it('cannot read files outside the archive', async () => {
    await expect(duck(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toThrow(/Permission Error|disabled/);
  });

  it("stops a query at its memory limit with DuckDB's error, and runs the next one", async () => {
    // ~200 MB in one aggregate string: over a 64 MB limit (without one DuckDB would take up to 80% of RAM).
    const big = "SELECT length(string_agg(repeat('x', 1000), '')) AS n FROM range(200000)";
    await expect(
      runConsoleQuery(env, big, { engine: 'duckdb', limit: 10, timeoutMs: 30_000, memoryMb: 64 }),
    ).rejects.toThrow(/Out of Memory|memory limit/i);
    const small = await runConsoleQuery(env, 'SELECT count(*) AS n FROM telemetry', {
      engine: 'duckdb',
      limit: 10,
      timeoutMs: 10_000,
      memoryMb: 64,
    });
    expect(small.rows).toEqual([['10']]);
  });

  it("runs each query on its own thread and spill budget, not DuckDB's every core and 90% of the disk", async () => {
    const settings = `SELECT current_setting('threads') AS threads, current_setting('max_temp_directory_size') AS temp`;
    const defaults = await runConsoleQuery(env, settings, { engine: 'duckdb', limit: 10, timeoutMs: 10_000 });
    expect(defaults.rows).toEqual([['1', '1.0 GiB']]);
    const chosen = await runConsoleQuery(env, settings, {
      engine: 'duckdb',
      limit: 10,
      timeoutMs: 10_000,
      threads: 2,
      tempMb: 0,
    });
    expect(chosen.rows).toEqual([['2', '0 bytes']]);
  });

  it('interrupts a query that runs longer than the timeout', async () => {
    const started = Date.now();
    await expect(duck('SELECT count(*) FROM range(1000000000000)', 100, 300)).rejects.toThrow(
      /longer than 0.3 s and was stopped/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('console queries on Athena', () => {
  it('refuses anything but SELECT, WITH, SHOW and DESCRIBE before calling AWS', async () => {
    for (const sql of [
      'INSERT INTO telemetry SELECT * FROM telemetry',
      'CREATE TABLE x AS SELECT 1',
      `UNLOAD (SELECT 1) TO 's3://b/p/' WITH (format = 'PARQUET')`,
      '-- comment\n/* block */ DROP TABLE telemetry',
      'MSCK REPAIR TABLE telemetry',
      'VALUES 1',
    ]) {
      await expect(
        runConsoleQuery(env, sql, { engine: 'athena', limit: 10, timeoutMs: 1_000 }),
        sql,
      ).rejects.toThrow(QueryRefusedError);
    }
  });

  it('finds the first word after comments and parentheses', () => {
    expect(firstSqlWord('  -- x\n /* y; z */ ((select 1))')).toBe('select');
    expect(firstSqlWord('\tWITH a AS (SELECT 1) SELECT * FROM a')).toBe('with');
    expect(firstSqlWord('-- only a comment')).toBe('');
    expect(firstSqlWord('/* unterminated SELECT')).toBe('');
  });
});
