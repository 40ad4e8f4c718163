import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { backoffDelay, type Logger, sleep } from '@gridstream/runtime';
import type { SinkTarget } from '@gridstream/sink';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TimescaleWriterConfig } from './config.js';
import { rowsByTable } from './dedupe-rows.js';
import { sqlstateOf, toSinkError } from './pg-errors.js';
import { alarmActionRows, alarmRows, type PgRow, readingRows } from './pg-rows.js';
import {
  copyDirectSql,
  copyStageSql,
  createStageSql,
  createTableSql,
  createTimeIndexSql,
  ident,
  qualified,
  TABLE_NAMES,
  TABLES,
  upsertSql,
} from './pg-schema.js';

export type PostgresEnv = Pick<
  TimescaleWriterConfig,
  | 'PG_HOST'
  | 'PG_PORT'
  | 'PG_DATABASE'
  | 'PG_USER'
  | 'PG_PASSWORD'
  | 'PG_SSL'
  | 'PG_SSL_CA'
  | 'PG_SCHEMA'
  | 'PG_CREATE_TABLES'
  | 'PG_TIMESCALE'
  | 'PG_CHUNK_INTERVAL'
  | 'PG_COMPRESS_AFTER'
  | 'PG_RETENTION'
  | 'PG_CONNECT_TIMEOUT_MS'
  | 'PG_WRITE_TIMEOUT_MS'
  | 'PG_APPLICATION_NAME'
  | 'WRITER_WRITES_IN_FLIGHT'
>;

export interface PostgresTarget extends SinkTarget<PgRow> {
  /** The timescaledb extension's version when the tables are hypertables, else null. */
  readonly timescale: string | null;
}

/** node-postgres settings from the environment (never logged: they hold the password). */
export function poolConfig(env: PostgresEnv): pg.PoolConfig {
  return {
    host: env.PG_HOST,
    port: env.PG_PORT,
    database: env.PG_DATABASE,
    user: env.PG_USER,
    // Unset is '' rather than undefined: node-postgres would otherwise read PGPASSWORD or ~/.pgpass.
    password: env.PG_PASSWORD ?? '',
    ssl:
      env.PG_SSL === 'disable'
        ? false
        : env.PG_SSL === 'require'
          ? { rejectUnauthorized: false }
          : { rejectUnauthorized: true, ...(env.PG_SSL_CA ? { ca: env.PG_SSL_CA } : {}) },
    application_name: env.PG_APPLICATION_NAME,
    connectionTimeoutMillis: env.PG_CONNECT_TIMEOUT_MS,
    query_timeout: env.PG_WRITE_TIMEOUT_MS,
    keepAlive: true,
    // Writes are the only users: one connection each (a transaction holds its connection throughout).
    max: env.WRITER_WRITES_IN_FLIGHT,
    idleTimeoutMillis: 60_000,
  };
}

/** SQLSTATEs at connect that no waiting fixes: bad credentials, no such database, no right to connect. */
const FATAL_AT_START = /^(28|3D|42)/;

/**
 * Connects (waiting out a server that is down or still starting, with backoff; giving up at once on a
 * refusal such as a wrong password), sets up the tables when asked (PG_CREATE_TABLES), turns them into
 * hypertables where TimescaleDB is installed (PG_TIMESCALE), and returns the sink target.
 */
export async function createPostgresTarget(env: PostgresEnv, logger: Logger): Promise<PostgresTarget> {
  const pool = new pg.Pool(poolConfig(env));
  // An idle connection the server closes (a restart, pg_terminate_backend) is reported here; without a
  // listener it would be an uncaught error. The next write gets a new connection.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'));
  let timescale: string | null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        timescale = await setUp(pool, env, logger);
        break;
      } catch (error) {
        if (FATAL_AT_START.test(sqlstateOf(error) ?? '') || error instanceof SetupError) throw error;
        const delay = backoffDelay(attempt, 500, 10_000);
        logger.warn({ err: error, attempt, retryInMs: delay }, 'PostgreSQL not reachable at start; retrying');
        await sleep(delay);
      }
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  logger.info(
    {
      host: env.PG_HOST,
      port: env.PG_PORT,
      database: env.PG_DATABASE,
      schema: env.PG_SCHEMA,
      timescaledb: timescale ?? 'no',
    },
    timescale ? 'PostgreSQL ready; tables are TimescaleDB hypertables' : 'PostgreSQL ready; plain tables',
  );

  const upserts = Object.fromEntries(TABLE_NAMES.map((t) => [t, upsertSql(env.PG_SCHEMA, TABLES[t])]));
  const stage = Object.fromEntries(TABLE_NAMES.map((t) => [t, copyStageSql(TABLES[t])]));
  const direct = Object.fromEntries(TABLE_NAMES.map((t) => [t, copyDirectSql(env.PG_SCHEMA, TABLES[t])]));
  const stageDdl = TABLE_NAMES.map((t) => createStageSql(TABLES[t])).join('; ');
  /** Connections whose staging tables exist (temporary tables live as long as their connection). */
  const staged = new WeakSet<pg.PoolClient>();

  return {
    name: 'postgresql',
    stage: 'timescale-writer',
    timescale,
    recordPoints: readingRows,
    alarmPoints: alarmRows,
    alarmActionPoints: alarmActionRows,
    /**
     * One transaction: each table's rows (deduplicated, in key order) COPYed into the table, or — when
     * some are there already — into its staging table and upserted from there. Resolves after COMMIT
     * returned, i.e. once the rows are durable (synchronous_commit as the server has it, `on` by default).
     * All or nothing: a refused row refuses the batch, and the seam splits it.
     */
    async write(rows) {
      if (rows.length === 0) return;
      const tables = rowsByTable(rows);
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toSinkError(error);
      }
      // A connection whose state is unknown (a timeout, a socket error, a failed ROLLBACK) is closed, not
      // given back to the pool. A connection lost while checked out is also reported as an 'error' event,
      // which nobody else listens to then: unheard, it would be an uncaught exception.
      let discard: Error | undefined;
      const lost = (error: Error) => {
        discard = error;
      };
      client.on('error', lost);
      try {
        if (!staged.has(client)) {
          await client.query(stageDdl);
          staged.add(client);
        }
        await client.query('BEGIN');
        for (const [table, tableRows] of tables) {
          // Fast path: COPY straight into the table, as fast as PostgreSQL takes rows. A row that is there
          // already (a redelivery after a crash or a rebalance) fails it with a unique violation; then the
          // batch is upserted from staging instead. A redelivered batch fails at its first row, so the
          // attempt costs little.
          await client.query('SAVEPOINT gs_direct');
          try {
            await copyRows(client, direct[table]!, tableRows);
          } catch (error) {
            if (sqlstateOf(error) !== UNIQUE_VIOLATION || discard) throw error;
            await client.query('ROLLBACK TO SAVEPOINT gs_direct');
            await copyRows(client, stage[table]!, tableRows);
            await client.query(upserts[table]!);
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        if (sqlstateOf(error) !== undefined && discard === undefined) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            discard = rollbackError;
          });
        } else {
          discard = error as Error;
        }
        throw toSinkError(error);
      } finally {
        client.off('error', lost);
        client.release(discard ?? false);
      }
    },
    close: () => pool.end(),
  };
}

const UNIQUE_VIOLATION = '23505';

function copyRows(client: pg.PoolClient, sql: string, rows: readonly PgRow[]): Promise<void> {
  return pipeline(Readable.from(copyChunks(rows)), client.query(copyFrom(sql)));
}

/** COPY data in chunks of about 64 KiB: a batch is streamed, never one string of every row. */
function* copyChunks(rows: readonly PgRow[]): Generator<Buffer> {
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    lines.push(row.line);
    size += row.line.length + 1;
    if (size >= 65_536) {
      yield Buffer.from(`${lines.join('\n')}\n`);
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) yield Buffer.from(`${lines.join('\n')}\n`);
}

/** A setup that cannot succeed by waiting (TimescaleDB required but missing, tables missing). */
class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** Serialises the setup of replicas starting together (CREATE … IF NOT EXISTS races on the catalog). */
const SETUP_LOCK = 'gridstream-timescale-writer:setup';

async function setUp(pool: pg.Pool, env: PostgresEnv, logger: Logger): Promise<string | null> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onLost = (error: Error) => {
    lost = error;
  };
  client.on('error', onLost);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [SETUP_LOCK]);
    const timescale = await timescaleVersion(client, env, logger);
    if (env.PG_CREATE_TABLES) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(env.PG_SCHEMA)}`);
      for (const table of TABLE_NAMES) {
        await client.query(createTableSql(env.PG_SCHEMA, TABLES[table]));
        if (!timescale) await client.query(createTimeIndexSql(env.PG_SCHEMA, TABLES[table]));
      }
      if (timescale) await setUpHypertables(client, env);
    } else {
      const missing: string[] = [];
      for (const table of TABLE_NAMES) {
        const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [
          qualified(env.PG_SCHEMA, table),
        ]);
        if (rows[0]?.oid === null) missing.push(`${env.PG_SCHEMA}.${table}`);
      }
      if (missing.length > 0)
        throw new SetupError(
          `PG_CREATE_TABLES=false, but ${missing.join(', ')} do(es) not exist: create them (docs/timescale-writer.md) or let the writer do it once`,
        );
    }
    await client.query('COMMIT');
    return timescale;
  } catch (error) {
    if (!lost) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onLost);
    client.release(lost ?? false);
  }
}

/** The timescaledb version in use, creating the extension where it is available and allowed; or null. */
async function timescaleVersion(
  client: pg.PoolClient,
  env: PostgresEnv,
  logger: Logger,
): Promise<string | null> {
  if (env.PG_TIMESCALE === 'off') return null;
  const installed = async () =>
    (
      await client.query<{ extversion: string }>(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
      )
    ).rows[0]?.extversion ?? null;
  let version = await installed();
  if (version === null && env.PG_CREATE_TABLES) {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'",
    );
    if (rowCount) {
      // Needs the library preloaded (shared_preload_libraries) and the right to create it; inside a
      // savepoint, so a refusal leaves the setup transaction usable.
      await client.query('SAVEPOINT timescale');
      try {
        await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
        version = await installed();
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT timescale');
        logger.warn({ err: error }, 'timescaledb is available but could not be created');
      }
    }
  }
  if (version === null && env.PG_TIMESCALE === 'on')
    throw new SetupError(
      `PG_TIMESCALE=on, but the timescaledb extension is not installed in database ${env.PG_DATABASE} (CREATE EXTENSION timescaledb, as its owner)`,
    );
  if (version === null && (env.PG_COMPRESS_AFTER !== undefined || env.PG_RETENTION !== undefined))
    throw new SetupError(
      'PG_COMPRESS_AFTER / PG_RETENTION are TimescaleDB policies, and this database has no timescaledb extension: unset them or install TimescaleDB',
    );
  return version;
}

/**
 * Hypertables on `time` (existing rows moved into chunks), then the optional policies on `readings`.
 * Not exercised by the tests here: TimescaleDB is not in Debian (docs/timescale-writer.md).
 */
async function setUpHypertables(client: pg.PoolClient, env: PostgresEnv): Promise<void> {
  for (const table of TABLE_NAMES) {
    await client.query(
      "SELECT create_hypertable($1::regclass, 'time', chunk_time_interval => $2::interval, if_not_exists => TRUE, migrate_data => TRUE)",
      [qualified(env.PG_SCHEMA, table), env.PG_CHUNK_INTERVAL],
    );
  }
  const readings = qualified(env.PG_SCHEMA, 'readings');
  if (env.PG_COMPRESS_AFTER !== undefined) {
    const { rows } = await client.query<{ compression_enabled: boolean }>(
      'SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = $1 AND hypertable_name = $2',
      [env.PG_SCHEMA, 'readings'],
    );
    if (!rows[0]?.compression_enabled) {
      const segmentBy = TABLES.readings.segmentBy.join(', ');
      await client.query(
        `ALTER TABLE ${readings} SET (timescaledb.compress, timescaledb.compress_segmentby = '${segmentBy}', timescaledb.compress_orderby = 'time DESC')`,
      );
    }
    await client.query('SELECT add_compression_policy($1::regclass, $2::interval, if_not_exists => TRUE)', [
      readings,
      env.PG_COMPRESS_AFTER,
    ]);
  }
  if (env.PG_RETENTION !== undefined) {
    await client.query('SELECT add_retention_policy($1::regclass, $2::interval, if_not_exists => TRUE)', [
      readings,
      env.PG_RETENTION,
    ]);
  }
}
