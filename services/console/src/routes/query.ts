import { defaultEngine, type Engine, type ToolsEnv } from '@gridstream/archive-tools';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { runConsoleQuery } from '../archive-query.js';
import { queryPage } from '../pages.js';
import { type Form, one, type RouteOptions, sendHtml } from './shared.js';

const EXAMPLE_SQL = `SELECT date_trunc('minute', ts) AS minute, site, field, avg(value) AS avg_value
FROM telemetry
WHERE is_flag = false
GROUP BY 1, 2, 3
ORDER BY 1
LIMIT 500`;

const MAX_QUERIES_RUNNING = 2;

/** SQL over the archive (Athena or DuckDB), page with a chart and API; at most two queries at once. */
export const queryRoutes: FastifyPluginAsync<RouteOptions> = async (app, { config }) => {
  let queriesRunning = 0;
  const env = config as unknown as ToolsEnv;
  // The page and the API share the cap: each DuckDB query holds the archive in this process's memory.
  const busy = 'Two queries are already running; try again shortly.';
  const consoleQuery = async (sql: string, engine: Engine | undefined) => {
    queriesRunning++;
    try {
      return await runConsoleQuery(env, sql, {
        ...(engine ? { engine } : {}),
        limit: config.CONSOLE_QUERY_MAX_ROWS,
        timeoutMs: config.CONSOLE_QUERY_TIMEOUT_MS,
        memoryMb: config.CONSOLE_QUERY_MEMORY_MB,
        threads: config.CONSOLE_QUERY_THREADS,
        tempMb: config.CONSOLE_QUERY_TEMP_MB,
      });
    } finally {
      queriesRunning--;
    }
  };
  const runQueryPage = async (reply: FastifyReply, body: Form) => {
    const sql = one(body.sql) || EXAMPLE_SQL;
    const engineText = one(body.engine);
    const engine = engineText === 'athena' || engineText === 'duckdb' ? engineText : undefined;
    const common = { sql, engine: engineText, defaultEngine: defaultEngine(env) };
    if (queriesRunning >= MAX_QUERIES_RUNNING)
      return sendHtml(reply, queryPage({ ...common, error: busy }), 429);
    try {
      const result = await consoleQuery(sql, engine);
      const x =
        result.columns.find((c) => /^(ts|time|minute|hour|day|bucket)$/i.test(c)) ?? result.columns[0];
      const y = result.columns.find(
        (c, i) => c !== x && result.rows.some((r) => r[i] !== null && Number.isFinite(Number(r[i]))),
      );
      return sendHtml(reply, queryPage({ ...common, result, ...(x ? { x } : {}), ...(y ? { y } : {}) }));
    } catch (error) {
      return sendHtml(reply, queryPage({ ...common, error: (error as Error).message }), 400);
    }
  };
  app.get('/query', async (_req, reply) =>
    sendHtml(reply, queryPage({ sql: EXAMPLE_SQL, engine: '', defaultEngine: defaultEngine(env) })),
  );
  app.post('/query', async (req, reply) => runQueryPage(reply, (req.body ?? {}) as Form));
  app.post('/api/query', async (req, reply) => {
    const body = (req.body ?? {}) as { sql?: unknown; engine?: unknown };
    if (typeof body.sql !== 'string' || body.sql.trim() === '')
      return reply.code(400).send({ error: 'sql is required' });
    const engine = body.engine === 'athena' || body.engine === 'duckdb' ? body.engine : undefined;
    if (queriesRunning >= MAX_QUERIES_RUNNING) return reply.code(429).send({ error: busy });
    try {
      return await consoleQuery(body.sql, engine);
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
};
